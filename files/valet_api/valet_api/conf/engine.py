"""[engine]: where racks come from, and how long a census of the cloud is reused."""

import re

from oslo_config import cfg

GROUP = "engine"
OPTS = [
    cfg.StrOpt(
        "rack_source",
        default="aggregate",
        choices=[
            ("aggregate", "A Nova host aggregate whose metadata carries rack_aggregate_key is a rack."),
            ("host_pattern", "The rack is the named group 'rack' of rack_host_pattern matched against the host name."),
        ],
        help="Where a compute host's rack comes from. A host in no rack is a rack of its own, named after the host.",
    ),
    cfg.StrOpt(
        "rack_aggregate_key",
        default="valet_rack",
        help="Metadata key that makes a Nova host aggregate a rack (rack_source = aggregate); "
        "the rack's name is the key's value. A host in two aggregates naming different racks is an error.",
    ),
    cfg.StrOpt(
        "rack_host_pattern",
        help="Regular expression with a named group 'rack', matched against the whole host name "
        "(rack_source = host_pattern), e.g. '(?P<rack>.+)-[^-]+' puts r1-h2 in rack r1. "
        "A host it does not match is a rack of its own.",
    ),
    cfg.FloatOpt(
        "cloud_cache_seconds",
        default=5.0,
        min=0.0,
        help="How long a census of the hosts (capacity, usage, racks) is reused before Placement and "
        "Nova are read again; 0 reads them for every plan.",
    ),
    cfg.FloatOpt(
        "flavor_cache_seconds",
        default=60.0,
        min=0.0,
        help="How long a flavor's size read from Nova is reused.",
    ),
    cfg.IntOpt(
        "cloud_read_concurrency",
        default=8,
        min=1,
        help="How many requests a census sends to Placement at once (two per compute host).",
    ),
    cfg.FloatOpt(
        "status_timeout",
        default=5.0,
        min=0.1,
        help="Seconds /v1/status waits for each of Placement and Nova before reporting it as an error.",
    ),
]


def register_opts(conf):
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]


def rack_pattern(conf):
    """The compiled ``[engine] rack_host_pattern``; ValueError naming the option if it is unusable."""
    text = conf.engine.rack_host_pattern
    if not text:
        raise ValueError("[engine] rack_host_pattern must be set when rack_source = host_pattern")
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise ValueError("[engine] rack_host_pattern %r is not a regular expression: %s" % (text, exc)) from None
    if "rack" not in pattern.groupindex:
        raise ValueError("[engine] rack_host_pattern %r has no named group 'rack', e.g. (?P<rack>...)" % text)
    return pattern
