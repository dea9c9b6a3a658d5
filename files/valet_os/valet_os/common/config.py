"""The [valet] options, registered in the configuration of the service that loads us.

Login and TLS are keystoneauth1's own options, as in Nova's [placement] or [neutron]: auth_type
(default password), auth_url, username, password, project_name, user_domain_name,
project_domain_name, application credentials, ..., cafile, certfile, keyfile, insecure.
Release 1.0's names (admin_username, ...) are still read, as deprecated names of the new ones.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

GROUP = "valet"
FAILURE_MODES = ("reject", "yield")
DEFAULT_FAILURE_MODE = "reject"
DEFAULT_AUTH_TYPE = "password"

# Release 1.0's [valet] login options -> keystoneauth1's option (dest) that replaces each.
LEGACY_AUTH_NAMES = {
    "admin_auth_url": "auth_url",
    "admin_username": "username",
    "admin_password": "password",
    "admin_tenant_name": "project_name",
    "admin_user_domain_name": "user_domain_name",
    "admin_project_domain_name": "project_domain_name",
}
# 1.0's defaults for options a 1.0 file may have left out (keystoneauth1 has none).
LEGACY_DEFAULTS = {"user_domain_name": "Default", "project_domain_name": "Default"}

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
        help="Seconds to wait for each read of valet-api's (or Keystone's) reply. "
        "A request that got no reply is never sent again: valet-api may already "
        "have acted on it.",
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
        min=0,
        help="Deadline in seconds for one request to valet-api (or Keystone): its "
        "connection attempts, headers and whole body included; connect_timeout and "
        "read_timeout still bound each attempt and each read. Raise it with read_timeout.",
    ),
    cfg.StrOpt(
        "failure_mode",
        default=DEFAULT_FAILURE_MODE,
        choices=FAILURE_MODES,
        help="What to do when valet-api cannot give an answer: 'reject' fails the "
        "operation, 'yield' logs a warning and lets the service go on without Valet.",
    ),
]


def _password_opts():
    """keystoneauth1's password options, with 1.0's names as deprecated names."""
    opts = ks_loading.get_auth_plugin_conf_options(DEFAULT_AUTH_TYPE)
    legacy = {new: old for old, new in LEGACY_AUTH_NAMES.items()}
    for opt in opts:
        # keystoneauth1 marks auth_url required: the service would then refuse to start (or
        # reload) without a [valet] section; the client says what is missing instead.
        opt.required = False
        if opt.dest in legacy:
            opt.deprecated_opts.append(cfg.DeprecatedOpt(legacy[opt.dest], group=GROUP))
        if opt.dest in LEGACY_DEFAULTS:
            opt.default = LEGACY_DEFAULTS[opt.dest]
    return opts


def _auth_opts():
    auth_type, auth_section = ks_loading.get_auth_common_conf_options()
    auth_type.default = DEFAULT_AUTH_TYPE  # as register_opts sets it
    return [auth_section, auth_type] + _password_opts()


def register_opts(conf=None):
    """Register the [valet] options on conf (default: the global CONF) and return conf."""
    conf = cfg.CONF if conf is None else conf
    # register_opts is idempotent for identical options, so every plugin can call it.
    conf.register_opts(OPTS, group=GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    # A 1.0 file names no auth_type: it logs in with a password.
    conf.set_default("auth_type", DEFAULT_AUTH_TYPE, group=GROUP)
    if not _registered(conf, "username"):
        conf.register_opts(_password_opts(), group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    return conf


def _registered(conf, dest, group=GROUP):
    return dest in conf[group]


def load_auth(conf):
    """The keystoneauth1 plugin [valet] describes (keystoneauth1's load_auth_from_conf_options,
    except that options already registered, with 1.0's names, are not registered again)."""
    if conf[GROUP].auth_section:
        return ks_loading.load_auth_from_conf_options(conf, GROUP)
    loader = ks_loading.get_plugin_loader(conf[GROUP].auth_type)
    for opt in ks_loading.get_auth_plugin_conf_options(loader):
        if not _registered(conf, opt.dest):
            conf.register_opt(opt, group=GROUP)
    return loader.load_from_options_getter(lambda opt: conf[GROUP][opt.dest])


def failure_mode(conf=None):
    """[valet] failure_mode; the default when it cannot be read (never raises)."""
    conf = cfg.CONF if conf is None else conf
    try:
        return conf[GROUP].failure_mode
    except Exception as exc:  # a broken config file must not turn a decision into a crash
        LOG.error("valet: [valet] failure_mode cannot be read (%s): using %s", exc, DEFAULT_FAILURE_MODE)
        return DEFAULT_FAILURE_MODE


def list_opts():
    """For oslo-config-generator."""
    return [(GROUP, OPTS + _auth_opts() + ks_loading.get_session_conf_options())]
