#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Valet OpenStack collection contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: identity
short_description: Register Valet in Keystone (user, role, service and endpoints)
version_added: "1.0.0"
description:
  - Ensures the Keystone v3 footprint of Valet in one task - the Valet service user with its
    password, its role on the service project, the Valet service and its public, internal and
    admin endpoints in one region.
  - Idempotent. A changed endpoint URL is updated in place, keeping the endpoint id.
  - The service project, the role and the region must already exist; the module never creates
    them, so that a typo cannot silently create a second region or project.
  - A service of another name that already uses O(service_type) is an error, never silently
    accepted, because clients find services in the catalog by type.
  - With O(state=absent), removes only what it finds by O(service_name) and O(service_type) and
    O(user_name). When the service still has endpoints in other regions, only the endpoints of
    O(region_name) are removed and the service and the user are kept for the other regions.
  - Built on python-keystoneclient v3 over a keystoneauth1 session, which OpenStack controllers
    ship, rather than on openstacksdk.
author:
  - Valet OpenStack collection contributors (@valet-openstack)
requirements:
  - python >= 3.9
  - python-keystoneclient
  - keystoneauth1
  - PyYAML (only with O(cloud))
options:
  auth:
    description:
      - Credentials of a Keystone administrator, as in the openstack.cloud modules.
      - Mutually exclusive with O(cloud); one of the two is required.
    type: dict
    suboptions:
      auth_url:
        description: Keystone v3 URL, for example V(https://keystone.example.com:5000/v3).
        type: str
      username:
        description: Administrator user name.
        type: str
      password:
        description: Administrator password.
        type: str
      project_name:
        description: Project the administrator token is scoped to.
        type: str
      user_domain_name:
        description: Domain of O(auth.username). Defaults to V(Default).
        type: str
      project_domain_name:
        description: Domain of O(auth.project_name). Defaults to V(Default).
        type: str
  cloud:
    description:
      - Name of a cloud in C(clouds.yaml), looked up like os-client-config does - the file named by
        E(OS_CLIENT_CONFIG_FILE), then C(./clouds.yaml), C(~/.config/openstack/clouds.yaml),
        C(/etc/openstack/clouds.yaml).
      - Options given to the module (O(auth) keys, O(region_name), O(interface), O(validate_certs),
        O(ca_cert)) override the values of the cloud.
    type: str
  region_name:
    description:
      - Region of the endpoints. Required with O(state=present), here or in the cloud entry.
      - Must already exist in Keystone.
    type: str
  interface:
    description: Interface used to reach Keystone's own API from the catalog. Defaults to V(public).
    type: str
    choices: [public, internal, admin]
    aliases: [endpoint_type]
  validate_certs:
    description: Whether to verify Keystone's TLS certificate. Defaults to V(true).
    type: bool
    aliases: [verify]
  ca_cert:
    description: CA bundle used to verify Keystone's TLS certificate.
    type: str
    aliases: [cacert]
  api_timeout:
    description: Timeout in seconds of each Keystone request.
    type: int
  user_name:
    description: Name of the Valet service user.
    type: str
    default: valet
  user_password:
    description:
      - Password of the Valet service user. Required with O(state=present).
    type: str
  user_domain:
    description: Domain (name or id) of the Valet user.
    type: str
    default: Default
  project_name:
    description: The service project the Valet user gets its role on. Must exist.
    type: str
    default: service
  project_domain:
    description: Domain (name or id) of O(project_name).
    type: str
    default: Default
  role_name:
    description:
      - Role given to the Valet user on O(project_name). Must exist.
      - V(service) is what the plugins and valet-api's Placement reads need; Nova's host aggregates
        need V(admin) under Nova's default policy.
    type: str
    default: service
  service_name:
    description: Name of the Valet service in the catalog.
    type: str
    default: valet
  service_type:
    description:
      - Type of the Valet service in the catalog.
      - Do not use V(placement), the type of Nova's Placement service; the module fails when another
        service already has the type.
    type: str
    default: valet
  service_description:
    description: Description of the Valet service.
    type: str
    default: Valet placement optimizer
  endpoints:
    description:
      - URLs of the Valet API per interface. Interfaces left out are not touched.
      - Mutually exclusive with O(endpoint_url).
    type: dict
    suboptions:
      public:
        description: Public URL.
        type: str
      internal:
        description: Internal URL.
        type: str
      admin:
        description: Admin URL.
        type: str
  endpoint_url:
    description: One URL for the public, internal and admin endpoints.
    type: str
  state:
    description: Whether Valet's identity footprint should exist.
    type: str
    choices: [present, absent]
    default: present
  update_password:
    description:
      - V(on_create) sets the password only when the user is created.
      - V(always) also checks the password of an existing user (one token request as that user) and
        resets it only when Keystone refuses it, so that it stays idempotent.
    type: str
    choices: [always, on_create]
    default: on_create
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    description: Reads Keystone and reports what it would create, update or delete.
  diff_mode:
    support: full
    description: The diff shows user, service and endpoint summaries, never a password.
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Register Valet in Keystone
  valet.openstack.identity:
    auth:
      auth_url: https://keystone.example.com:5000/v3
      username: admin
      password: "{{ keystone_admin_password }}"
      project_name: admin
    region_name: RegionOne
    user_password: "{{ valet_password }}"
    endpoint_url: http://valet.example.com:8090/v1
  no_log: true

- name: Register Valet with separate URLs, credentials from clouds.yaml
  valet.openstack.identity:
    cloud: mycloud
    user_password: "{{ valet_password }}"
    update_password: always
    endpoints:
      public: https://valet.example.com/v1
      internal: http://valet.internal:8090/v1
      admin: http://valet.internal:8090/v1
  no_log: true

- name: Remove Valet from Keystone
  valet.openstack.identity:
    cloud: mycloud
    region_name: RegionOne
    state: absent
"""

RETURN = r"""
user:
  description: The Valet user (C(id) is null when it would be created in check mode).
  returned: always
  type: dict
  sample: {"id": "9b2b1e6c7cbd4d1b9c1a6e3f2a1b2c3d", "name": "valet", "domain_id": "default"}
service:
  description: The Valet service (C(id) is null when it would be created in check mode).
  returned: always
  type: dict
  sample: {"id": "3f2a1b2c3d9b2b1e6c7cbd4d1b9c1a6e", "name": "valet", "type": "valet"}
endpoints:
  description: Endpoints of the Valet service in O(region_name), by interface.
  returned: always
  type: dict
  sample: {"public": {"id": "5c1f0e3a9d8b4c2e8f7a6b5c4d3e2f1a", "url": "http://valet:8090/v1"}}
msg:
  description: What was done, in words.
  returned: always
  type: str
"""


from ansible_collections.valet.openstack.plugins.module_utils.identity import IdentityModule
from ansible_collections.valet.openstack.plugins.module_utils.identity import ks_exc
from ansible_collections.valet.openstack.plugins.module_utils.url import url_problem

INTERFACES = ("public", "internal", "admin")

PLACEMENT_COLLISION = (
    "service type 'placement' is already used by the service '{other}' (id {other_id}), which is "
    "normally Nova's Placement API: nova-scheduler and nova-compute look Placement up in the "
    "catalog by that type and would find two services. Give Valet its own type (service_type: "
    "valet is the default) and point the Valet plugins at it."
)
TYPE_COLLISION = (
    "service type '{type}' is already used by the service '{other}' (id {other_id}); clients pick "
    "services by type, so a second one would make the catalog ambiguous. Choose another "
    "service_type or service_name, or remove '{other}' first."
)


def first(items):
    return items[0] if items else None


class ValetIdentity(IdentityModule):
    argument_spec = dict(
        user_name=dict(type="str", default="valet"),
        user_password=dict(type="str", no_log=True),
        user_domain=dict(type="str", default="Default"),
        project_name=dict(type="str", default="service"),
        project_domain=dict(type="str", default="Default"),
        role_name=dict(type="str", default="service"),
        service_name=dict(type="str", default="valet"),
        service_type=dict(type="str", default="valet"),
        service_description=dict(type="str", default="Valet placement optimizer"),
        endpoints=dict(
            type="dict",
            options=dict(
                public=dict(type="str"),
                internal=dict(type="str"),
                admin=dict(type="str"),
            ),
        ),
        endpoint_url=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        update_password=dict(type="str", no_log=False, default="on_create", choices=["always", "on_create"]),
    )
    module_kwargs = dict(
        supports_check_mode=True,
        mutually_exclusive=[["endpoints", "endpoint_url"]],
        required_if=[
            ["state", "present", ["user_password"]],
            ["state", "present", ["endpoints", "endpoint_url"], True],
        ],
    )

    def __init__(self):
        super(ValetIdentity, self).__init__()
        self.changed = False
        self.actions = []
        self._domains = {}
        self._services = None

    # -- lookups -------------------------------------------------------
    def domain(self, name_or_id):
        # memoised: user and project usually share a domain, and every request
        # costs a token validation on the Keystone side
        if name_or_id not in self._domains:
            found = first(self.client.domains.list(name=name_or_id))
            if not found:
                try:
                    found = self.client.domains.get(name_or_id)
                except ks_exc.NotFound:
                    self.fail_json(msg="domain '%s' not found in Keystone" % name_or_id)
            self._domains[name_or_id] = found
        return self._domains[name_or_id]

    def services(self):
        """All services, fetched once (a catalog holds a few dozen at most)."""
        if self._services is None:
            self._services = self.client.services.list()
        return self._services

    def find_service(self, match_type):
        """Our service: by name, and by type too when ``match_type``."""
        p = self.params
        named = [s for s in self.services() if s.name == p["service_name"]]
        same_type = [s for s in named if s.type == p["service_type"]]
        if match_type:
            return first(same_type)
        return first(same_type) or first(named)

    def change(self, action):
        self.changed = True
        self.actions.append(action)

    # -- state=present -------------------------------------------------
    def wanted_urls(self):
        p = self.params
        if p["endpoint_url"]:
            urls = dict((i, p["endpoint_url"]) for i in INTERFACES)
        else:
            urls = dict((i, u) for i, u in (p["endpoints"] or {}).items() if u)
        if not urls:
            self.fail_json(msg="no endpoint URL given (endpoint_url or endpoints.public/internal/admin)")
        for iface, url in urls.items():
            problem = url_problem(url)
            if problem:
                self.fail_json(msg="endpoints.%s: '%s' is not an http(s) URL with a host: %s" % (iface, url, problem))
        return urls

    def present(self):
        p = self.params
        kc = self.client
        urls = self.wanted_urls()
        if not self.region_name:
            self.fail_json(msg="region_name is required with state=present (option or cloud entry)")

        # Everything that can make the run fail is checked before the first write.
        user_domain = self.domain(p["user_domain"])
        project_domain = self.domain(p["project_domain"])
        project = first(kc.projects.list(name=p["project_name"], domain=project_domain))
        if project is None:
            self.fail_json(
                msg="project '%s' not found in domain '%s': Valet uses the existing service "
                "project, create it first or set project_name" % (p["project_name"], p["project_domain"])
            )
        role = first([r for r in kc.roles.list(name=p["role_name"]) if getattr(r, "domain_id", None) is None])
        if role is None:
            self.fail_json(msg="role '%s' not found in Keystone" % p["role_name"])
        try:
            kc.regions.get(self.region_name)
        except ks_exc.NotFound:
            known = ", ".join(sorted(r.id for r in kc.regions.list())) or "none"
            self.fail_json(
                msg="region '%s' does not exist in Keystone (known regions: %s); the module "
                "does not create regions, set region_name to an existing one" % (self.region_name, known)
            )
        for other in self.services():
            if other.type == p["service_type"] and other.name != p["service_name"]:
                template = PLACEMENT_COLLISION if p["service_type"] == "placement" else TYPE_COLLISION
                self.fail_json(msg=template.format(type=p["service_type"], other=other.name, other_id=other.id))

        before = {"user": None, "service": None, "endpoints": {}}
        after = {"user": None, "service": None, "endpoints": {}}

        user = self.ensure_user(user_domain, project, before, after)
        self.ensure_assignment(user, project, role, before, after)
        service = self.ensure_service(before, after)
        endpoints = self.ensure_endpoints(service, urls, before, after)

        self.exit_json(
            changed=self.changed,
            msg="; ".join(self.actions) or "Valet identity already in place",
            user={"id": getattr(user, "id", None), "name": p["user_name"], "domain_id": user_domain.id},
            service={"id": getattr(service, "id", None), "name": p["service_name"], "type": p["service_type"]},
            endpoints=endpoints,
            diff={"before": before, "after": after},
        )

    def ensure_user(self, domain, project, before, after):
        p = self.params
        kc = self.client
        user = first(kc.users.list(name=p["user_name"], domain=domain))
        summary = {"name": p["user_name"], "domain": domain.name, "enabled": True, "default_project": project.name}
        after["user"] = dict(summary)
        if user is None:
            self.change("create user %s" % p["user_name"])
            if not self.check_mode:
                user = kc.users.create(
                    p["user_name"], domain=domain, password=p["user_password"], default_project=project, enabled=True
                )
            return user

        before["user"] = dict(
            summary,
            enabled=bool(user.enabled),
            default_project=project.name
            if getattr(user, "default_project_id", None) == project.id
            else getattr(user, "default_project_id", None),
        )
        updates = {}
        if not user.enabled:
            updates["enabled"] = True
        if p["update_password"] == "always" and (
            not user.enabled or not self.password_works(p["user_name"], p["user_password"], domain.id)
        ):
            updates["password"] = p["user_password"]
            # a marker, never the password itself
            after["user"]["password"] = "updated"
        if updates:
            self.change("update user %s (%s)" % (p["user_name"], ", ".join(sorted(updates))))
            if not self.check_mode:
                user = kc.users.update(user, **updates)
        return user

    def ensure_assignment(self, user, project, role, before, after):
        p = self.params
        after["user"]["role_on_project"] = "%s on %s" % (role.name, project.name)
        assigned = user is not None and bool(self.client.role_assignments.list(user=user, project=project, role=role))
        if before["user"] is not None:
            before["user"]["role_on_project"] = after["user"]["role_on_project"] if assigned else None
        if not assigned:
            self.change("grant role %s on project %s" % (p["role_name"], p["project_name"]))
            if not self.check_mode:
                self.client.roles.grant(role, user=user, project=project)

    def ensure_service(self, before, after):
        p = self.params
        kc = self.client
        wanted = {
            "name": p["service_name"],
            "type": p["service_type"],
            "description": p["service_description"],
            "enabled": True,
        }
        after["service"] = wanted
        service = self.find_service(match_type=False)
        if service is None:
            self.change("create service %s" % p["service_name"])
            if not self.check_mode:
                service = kc.services.create(
                    p["service_name"], type=p["service_type"], description=p["service_description"], enabled=True
                )
            return service
        current = {
            "name": service.name,
            "type": service.type,
            "description": getattr(service, "description", None),
            "enabled": bool(getattr(service, "enabled", True)),
        }
        before["service"] = current
        updates = dict((k, v) for k, v in wanted.items() if current[k] != v)
        if updates:
            self.change("update service %s (%s)" % (p["service_name"], ", ".join(sorted(updates))))
            if not self.check_mode:
                service = kc.services.update(service, **updates)
        return service

    def ensure_endpoints(self, service, urls, before, after):
        kc = self.client
        result = {}
        in_region = []
        if service is not None and getattr(service, "id", None):
            in_region = kc.endpoints.list(service=service, region_id=self.region_name)
        for iface in INTERFACES:
            if iface not in urls:
                continue
            url = urls[iface]
            after["endpoints"][iface] = url
            existing = [e for e in in_region if e.interface == iface]
            endpoint = first(existing)
            if endpoint is None:
                self.change("create %s endpoint" % iface)
                if not self.check_mode:
                    endpoint = kc.endpoints.create(service, url, interface=iface, region=self.region_name, enabled=True)
            else:
                before["endpoints"][iface] = endpoint.url
                if endpoint.url != url or not endpoint.enabled:
                    # in place: the endpoint id may be referenced elsewhere
                    # (endpoint groups, policies), so it must survive a URL change
                    self.change("update %s endpoint URL" % iface)
                    if not self.check_mode:
                        endpoint = kc.endpoints.update(endpoint, url=url, enabled=True)
                for duplicate in existing[1:]:
                    self.change("delete duplicate %s endpoint %s" % (iface, duplicate.id))
                    if not self.check_mode:
                        kc.endpoints.delete(duplicate)
            result[iface] = {"id": getattr(endpoint, "id", None), "url": url}
        return result

    # -- state=absent --------------------------------------------------
    def absent(self):
        p = self.params
        kc = self.client
        before = {"user": None, "service": None, "endpoints": {}}
        after = {"user": None, "service": None, "endpoints": {}}
        kept = False
        result_endpoints = {}

        service = self.find_service(match_type=True)
        service_out = {"id": None, "name": p["service_name"], "type": p["service_type"]}
        if service is not None:
            service_out["id"] = service.id
            before["service"] = {"name": service.name, "type": service.type}
            all_endpoints = kc.endpoints.list(service=service)
            ours = [e for e in all_endpoints if self.region_name is None or e.region_id == self.region_name]
            others = [e for e in all_endpoints if e not in ours]
            for endpoint in ours:
                before["endpoints"][endpoint.interface] = endpoint.url
                result_endpoints[endpoint.interface] = {"id": endpoint.id, "url": endpoint.url}
                self.change("delete %s endpoint" % endpoint.interface)
                if not self.check_mode:
                    kc.endpoints.delete(endpoint)
            if others:
                # another region's Valet still uses the service and the user
                kept = True
                after["service"] = before["service"]
                after["endpoints_in_other_regions"] = sorted(set(e.region_id for e in others))
            else:
                self.change("delete service %s" % service.name)
                if not self.check_mode:
                    kc.services.delete(service)

        user_domain = self.domain(p["user_domain"])
        user = first(kc.users.list(name=p["user_name"], domain=user_domain))
        user_out = {"id": None, "name": p["user_name"], "domain_id": user_domain.id}
        if user is not None:
            user_out["id"] = user.id
            before["user"] = {"name": user.name, "domain": user_domain.name}
            if kept:
                after["user"] = before["user"]
            else:
                self.revoke_role(user)
                self.change("delete user %s" % user.name)
                if not self.check_mode:
                    kc.users.delete(user)

        msg = "; ".join(self.actions) or "Valet identity already absent"
        if kept:
            msg += "; service and user kept: endpoints remain in %s" % ", ".join(after["endpoints_in_other_regions"])
        self.exit_json(
            changed=self.changed,
            msg=msg,
            user=user_out,
            service=service_out,
            endpoints=result_endpoints,
            diff={"before": before, "after": after},
        )

    def revoke_role(self, user):
        """Revoke our role explicitly, so the removal shows in the output."""
        p = self.params
        kc = self.client
        project = first(kc.projects.list(name=p["project_name"], domain=self.domain(p["project_domain"])))
        role = first([r for r in kc.roles.list(name=p["role_name"]) if getattr(r, "domain_id", None) is None])
        if project is None or role is None:
            return
        if kc.role_assignments.list(user=user, project=project, role=role):
            self.change("revoke role %s on project %s" % (role.name, project.name))
            if not self.check_mode:
                kc.roles.revoke(role, user=user, project=project)

    def run(self):
        if self.params["state"] == "present":
            self.present()
        else:
            self.absent()


def main():
    module = ValetIdentity()
    module()


if __name__ == "__main__":
    main()
