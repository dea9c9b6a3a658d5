"""[cloud]: the Valet service user valet-api reads the cloud with; [placement], [nova]: where."""

from keystoneauth1 import loading as ks_loading

GROUP = "cloud"
ADAPTER_GROUPS = {"placement": "placement", "nova": "compute"}


def register_opts(conf):
    ks_loading.register_auth_conf_options(conf, GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    for group, service_type in ADAPTER_GROUPS.items():
        ks_loading.register_adapter_conf_options(conf, group, include_deprecated=False)
        conf.set_default("service_type", service_type, group=group)


def list_opts():
    opts = ks_loading.get_session_conf_options() + ks_loading.get_auth_common_conf_options()
    out = [(GROUP, opts + ks_loading.get_auth_plugin_conf_options("password"))]
    for group in ADAPTER_GROUPS:
        out.append((group, ks_loading.get_adapter_conf_options(include_deprecated=False)))
    return out
