from oslo_config import cfg

GROUP = "engine"
OPTS = [
    cfg.StrOpt(
        "rack_source",
        default="aggregate",
        choices=[
            ("aggregate", "A Nova host aggregate whose metadata has rack_aggregate_key is a rack."),
            ("host_pattern", "rack_host_pattern's named group 'rack' of each host name is its rack."),
        ],
        help="Where racks come from. A host in no rack is a rack of its own.",
    ),
    cfg.StrOpt(
        "rack_aggregate_key",
        default="valet_rack",
        help="Metadata key of the Nova host aggregates that are racks; its value names the rack.",
    ),
    cfg.StrOpt(
        "rack_host_pattern",
        help="With rack_source = host_pattern: a regular expression with a named group 'rack', "
        "e.g. '^(?P<rack>r[0-9]+)-'.",
    ),
]


def register_opts(conf):
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
