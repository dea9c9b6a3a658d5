"""The [valet] options, registered in the configuration of the service that loads us."""

from oslo_config import cfg

GROUP = "valet"
FAILURE_MODES = ("reject", "yield")

OPTS = [
    cfg.StrOpt("url", help="valet-api endpoint including the version, e.g. http://valet:8090/v1"),
    cfg.FloatOpt("connect_timeout", default=3.0, min=0,
                 help="Seconds to wait for the TCP connection to valet-api."),
    cfg.FloatOpt("read_timeout", default=5.0, min=0,
                 help="Seconds to wait for valet-api's reply once connected."),
    cfg.IntOpt("retries", default=3, min=0,
               help="Extra attempts after a connection error or a timeout "
                    "(never after an HTTP error reply)."),
    cfg.StrOpt("failure_mode", default="reject", choices=FAILURE_MODES,
               help="What to do when valet-api cannot give an answer: 'reject' fails the "
                    "operation, 'yield' logs a warning and lets the service go on without Valet."),
    cfg.StrOpt("admin_tenant_name", default="service", help="Project of the Valet service user."),
    cfg.StrOpt("admin_username", default="valet", help="Valet service user."),
    cfg.StrOpt("admin_password", secret=True, help="Password of the Valet service user."),
    cfg.StrOpt("admin_auth_url", help="Keystone v3 endpoint, e.g. http://keystone:5000/v3"),
    cfg.StrOpt("admin_user_domain_name", default="Default"),
    cfg.StrOpt("admin_project_domain_name", default="Default"),
]


def register_opts(conf=None):
    """Register the [valet] options on conf (default: the global CONF) and return conf."""
    conf = cfg.CONF if conf is None else conf
    # register_opts is idempotent for identical options, so every plugin can call it.
    conf.register_opts(OPTS, group=GROUP)
    return conf


def list_opts():
    """For oslo-config-generator."""
    return [(GROUP, OPTS)]
