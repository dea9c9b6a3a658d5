"""valet-api's WSGI entry: init_application() for code, `application` for uwsgi / gunicorn.

    uwsgi --http-socket :8090 --module valet_api.wsgi:application
    gunicorn -b :8090 valet_api.wsgi:application

The configuration is /etc/valet/valet.conf, or the file VALET_API_CONFIG_FILE names.
"""

import os
import threading

from oslo_config import cfg
from oslo_log import log as logging

import valet_api
from valet_api import conf as valet_conf
from valet_api import deploy

CONFIG_ENV = "VALET_API_CONFIG_FILE"
_lock = threading.Lock()
_application = None


def load_conf(args=None, config_files=None):
    conf = valet_conf.register_opts(cfg.ConfigOpts())
    if config_files is None:
        config_files = [os.environ[CONFIG_ENV]] if os.environ.get(CONFIG_ENV) else None
    conf(args or [], project="valet", version=valet_api.__version__, default_config_files=config_files)
    return conf


def init_application(conf=None, cloud=None):
    """The WSGI callable.

    conf: a ConfigOpts with valet_api.conf's options registered and parsed (default: the config
    file's); cloud: what reads the cloud (default: valet_api.cloud.from_conf; tests pass their own).
    """
    if conf is None:
        conf = load_conf()
        logging.setup(conf, "valet-api")
    if cloud is None:
        from valet_api import cloud as cloud_mod

        cloud = cloud_mod.from_conf(conf)
    return deploy.loadapp(conf, cloud)


def application(environ, start_response):
    """The WSGI callable uwsgi / gunicorn serve: the config file's app, built on the first request, so
    that importing this module reads no file. A plain function: uwsgi's `--module mod:callable` looks
    it up in the module's namespace, where a lazy module __getattr__ is "callable not found"."""
    global _application
    if _application is None:
        with _lock:
            if _application is None:
                _application = init_application()
    return _application(environ, start_response)
