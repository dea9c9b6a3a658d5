"""ATT::Valet::GroupAssignment: a Heat resource that groups resources for Valet placement.

Heat loads this file by itself from a plugin_dirs directory, so it imports nothing
but Heat. The resource only records the group: valet-api reads it from the stack's
plan (sent by the Valet lifecycle plugin), so create and delete touch nothing else.
"""

from heat.common import exception
from heat.common.i18n import _
from heat.engine import constraints
from heat.engine import properties
from heat.engine import resource
from heat.engine import support


class GroupAssignment(resource.Resource):
    """Asks Valet to place resources together (affinity), apart (diversity) or alone (exclusivity)."""

    support_status = support.SupportStatus(version="2014.1")

    PROPERTIES = (GROUP_NAME, GROUP_TYPE, LEVEL, RESOURCES) = ("group_name", "group_type", "level", "resources")

    GROUP_TYPES = (AFFINITY, DIVERSITY, EXCLUSIVITY) = ("affinity", "diversity", "exclusivity")
    LEVELS = ("host", "rack")

    properties_schema = {
        GROUP_NAME: properties.Schema(
            properties.Schema.STRING,
            _(
                "Name of the group; required for exclusivity, where it names the hosts "
                "reserved for the group, and not allowed for the other types."
            ),
            update_allowed=True,
        ),
        GROUP_TYPE: properties.Schema(
            properties.Schema.STRING,
            _("How the members are placed relative to each other."),
            required=True,
            constraints=[constraints.AllowedValues(GROUP_TYPES)],
            update_allowed=True,
        ),
        LEVEL: properties.Schema(
            properties.Schema.STRING,
            _("Whether the rule applies per host or per rack."),
            required=True,
            constraints=[constraints.AllowedValues(LEVELS)],
            update_allowed=True,
        ),
        RESOURCES: properties.Schema(
            properties.Schema.LIST,
            _("Members: servers or other group assignments (get_resource references)."),
            required=True,
            schema=properties.Schema(properties.Schema.STRING),
            update_allowed=True,
        ),
    }

    def validate(self):
        super(GroupAssignment, self).validate()
        group_type = self.properties[self.GROUP_TYPE]
        group_name = self.properties[self.GROUP_NAME]
        if group_type == self.EXCLUSIVITY and not group_name:
            raise exception.StackValidationFailed(
                message=_("%(res)s: group_name is required when group_type is exclusivity") % {"res": self.name}
            )
        if group_type != self.EXCLUSIVITY and group_name:
            raise exception.StackValidationFailed(
                message=_("%(res)s: group_name is only allowed when group_type is exclusivity, not %(type)s")
                % {"res": self.name, "type": group_type}
            )

    def handle_create(self):
        self.resource_id_set(self.physical_resource_name())

    def handle_update(self, json_snippet, tmpl_diff, prop_diff):
        # Heat stores the new properties itself; valet-api learns them from the plan update.
        pass

    def handle_delete(self):
        self.resource_id_set(None)


def resource_mapping():
    return {"ATT::Valet::GroupAssignment": GroupAssignment}
