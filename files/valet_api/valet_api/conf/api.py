from oslo_config import cfg

GROUP = "api"
OPTS = [
    cfg.StrOpt(
        "auth_strategy",
        default="keystone",
        choices=[
            ("keystone", "Keystone tokens checked by keystonemiddleware's auth_token ([keystone_authtoken])."),
            ("noauth2", "Tests only: the token is 'user:project', roles come from X-Roles. Never in production."),
        ],
        help="How requests are authenticated.",
    ),
    cfg.IntOpt(
        "max_request_body_size",
        default=1024 * 1024,
        min=1,
        help="Largest request body in bytes; a larger one is refused (413) without being read.",
    ),
]


def register_opts(conf):
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
