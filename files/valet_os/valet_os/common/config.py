"""The [valet] options, registered in the configuration of the service that loads us."""

from oslo_config import cfg

GROUP = "valet"
FAILURE_MODES = ("reject", "yield")

OPTS = [
    cfg.StrOpt("url", help="valet-api endpoint including the version, e.g. http://valet:8090/v1"),
    cfg.FloatOpt(
        "connect_timeout",
        default=3.0,
        min=0,
        help="Seconds to wait for each TCP connection attempt to valet-api or Keystone.",
    ),
    cfg.FloatOpt(
        "read_timeout",
        default=5.0,
        min=0,
        help="Seconds to wait for valet-api's (or Keystone's) reply once the request "
        "is sent. A request that got no reply is never sent again: valet-api may "
        "already have acted on it.",
    ),
    cfg.IntOpt(
        "retries",
        default=3,
        min=0,
        help="Extra connection attempts when no connection could be made (refused, "
        "unreachable, connect_timeout). Never after the request was sent, never "
        "after an HTTP error reply.",
    ),
    cfg.FloatOpt(
        "total_timeout",
        default=10.0,
        min=0.1,
        help="Deadline in seconds for one request to valet-api (or Keystone), all "
        "its connection attempts and the reply included; connect_timeout and "
        "read_timeout still bound each attempt. Raise it with read_timeout.",
    ),
    cfg.StrOpt(
        "failure_mode",
        default="reject",
        choices=FAILURE_MODES,
        help="What to do when valet-api cannot give an answer: 'reject' fails the "
        "operation, 'yield' logs a warning and lets the service go on without Valet.",
    ),
    cfg.StrOpt("admin_tenant_name", default="service", help="Project of the Valet service user."),
    cfg.StrOpt("admin_username", default="valet", help="Valet service user."),
    cfg.StrOpt("admin_password", secret=True, help="Password of the Valet service user."),
    cfg.StrOpt("admin_auth_url", help="Keystone v3 endpoint, e.g. http://keystone:5000/v3"),
    cfg.StrOpt("admin_user_domain_name", default="Default", help="Keystone domain of the Valet service user."),
    cfg.StrOpt(
        "admin_project_domain_name", default="Default", help="Keystone domain of the Valet service user's project."
    ),
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
