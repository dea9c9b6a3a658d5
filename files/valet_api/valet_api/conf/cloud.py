"""Options for reading the cloud: ``[cloud]``, ``[placement]`` and ``[nova]``.

``[cloud]`` holds keystoneauth1's auth and session options: the Valet service user that
valet-api reads the cloud with (docs/valet-api-cloud.md lists the calls and the roles they
need). ``[placement]`` and ``[nova]`` hold keystoneauth1's adapter options (region_name,
valid_interfaces, endpoint_override, ...) for finding each service in the catalog.
"""

import copy

from keystoneauth1 import loading as ks_loading

CLOUD_GROUP = "cloud"
# keystoneauth1 waits forever by default; a hung Placement or Nova must not hold every plan.
REQUEST_TIMEOUT = 30
# Adapter groups and the service type each one looks up in the catalog by default.
SERVICE_TYPES = {"placement": "placement", "nova": "compute"}


def _adapter_opts(group):
    """keystoneauth1's adapter options, with this group's service type as the default."""
    opts = copy.deepcopy(ks_loading.get_adapter_conf_options(include_deprecated=False))
    for opt in opts:
        if opt.dest == "service_type":
            opt.default = SERVICE_TYPES[group]
    return opts


def _session_opts():
    """keystoneauth1's session options, with a request timeout by default."""
    opts = copy.deepcopy(ks_loading.get_session_conf_options())
    for opt in opts:
        if opt.dest == "timeout":
            opt.default = REQUEST_TIMEOUT
    return opts


def register_opts(conf):
    ks_loading.register_auth_conf_options(conf, CLOUD_GROUP)
    conf.register_opts(_session_opts(), group=CLOUD_GROUP)
    for group in SERVICE_TYPES:
        conf.register_opts(_adapter_opts(group), group=group)


def list_opts():
    # The sample shows the password plugin's options, the usual choice for a service user.
    auth = ks_loading.get_auth_common_conf_options() + ks_loading.get_auth_plugin_conf_options("password")
    return [
        (CLOUD_GROUP, auth + _session_opts()),
        *[(group, _adapter_opts(group)) for group in SERVICE_TYPES],
    ]
