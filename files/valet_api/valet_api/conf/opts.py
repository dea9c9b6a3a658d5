"""The `oslo.config.opts` entry point `valet_api`: every option group valet-api defines."""

from valet_api import conf as valet_conf


def list_opts():
    out = []
    for module in valet_conf.MODULES:
        out.extend(module.list_opts())
    return out
