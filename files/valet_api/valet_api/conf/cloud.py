"""Options for reading the cloud: ``[cloud]``, ``[placement]``, ``[nova]`` and ``[engine]``.

``[cloud]`` holds keystoneauth1's auth and session options: the Valet service user that
valet-api reads the cloud with (docs/valet-api-cloud.md lists the calls and the roles they
need). ``[placement]`` and ``[nova]`` hold keystoneauth1's adapter options (region_name,
valid_interfaces, endpoint_override, ...) for finding each service in the catalog.
``[engine]`` says where racks come from and how long a census of the cloud is reused.
"""

import copy
import re

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

CLOUD_GROUP = "cloud"
# keystoneauth1 waits forever by default; a hung Placement or Nova must not hold every plan.
REQUEST_TIMEOUT = 30
# Adapter groups and the service type each one looks up in the catalog by default.
SERVICE_TYPES = {"placement": "placement", "nova": "compute"}

engine_opts = [
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
    conf.register_opts(engine_opts, group="engine")


def list_opts():
    # The sample shows the password plugin's options, the usual choice for a service user.
    auth = ks_loading.get_auth_common_conf_options() + ks_loading.get_auth_plugin_conf_options("password")
    return [
        (CLOUD_GROUP, auth + _session_opts()),
        *[(group, _adapter_opts(group)) for group in SERVICE_TYPES],
        ("engine", engine_opts),
    ]


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
