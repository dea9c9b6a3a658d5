# -*- coding: utf-8 -*-
# Copyright: Valet OpenStack collection contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keystone v3 base class for the collection's modules.

Shaped like openstack.cloud's OpenStackModule (common auth options, a client
built before ``run()``), but on python-keystoneclient v3 over a keystoneauth1
session: OpenStack controllers always ship those two, openstacksdk not.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

import os
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.basic import missing_required_lib

try:
    from keystoneauth1 import exceptions as ks_exc
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3 as ks_v3
    from keystoneclient.v3 import client as kc_v3

    HAS_KEYSTONE = True
    KEYSTONE_IMPORT_ERROR = None
except ImportError:
    ks_exc = ks_session = ks_v3 = kc_v3 = None
    HAS_KEYSTONE = False
    KEYSTONE_IMPORT_ERROR = traceback.format_exc()

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False

# Retries of a connection error (not of an HTTP error) per Keystone request.
CONNECT_RETRIES = 3

# os-client-config's search order, most specific first.
CLOUDS_YAML_PATHS = (
    "clouds.yaml",
    "~/.config/openstack/clouds.yaml",
    "/etc/openstack/clouds.yaml",
)


def identity_argument_spec():
    """The connection options every module of the collection takes."""
    return dict(
        auth=dict(
            type="dict",
            no_log=False,
            options=dict(
                auth_url=dict(type="str"),
                username=dict(type="str"),
                password=dict(type="str", no_log=True),
                project_name=dict(type="str"),
                user_domain_name=dict(type="str"),
                project_domain_name=dict(type="str"),
            ),
        ),
        cloud=dict(type="str"),
        region_name=dict(type="str"),
        interface=dict(type="str", choices=["public", "internal", "admin"], aliases=["endpoint_type"]),
        validate_certs=dict(type="bool", aliases=["verify"]),
        ca_cert=dict(type="str", aliases=["cacert"]),
        api_timeout=dict(type="int"),
    )


def find_clouds_yaml():
    """First clouds.yaml in os-client-config's order ($OS_CLIENT_CONFIG_FILE wins)."""
    candidates = []
    if os.environ.get("OS_CLIENT_CONFIG_FILE"):
        candidates.append(os.environ["OS_CLIENT_CONFIG_FILE"])
    candidates.extend(os.path.expanduser(p) for p in CLOUDS_YAML_PATHS)
    for path in candidates:
        if os.path.isfile(path):
            return path, candidates
    return None, candidates


class IdentityModule:
    """Subclass, set ``argument_spec`` (and ``module_kwargs``), implement ``run()``.

    ``run()`` finds ``self.client`` (keystoneclient v3), ``self.session``,
    ``self.params`` and ``self.region_name`` ready, and ends with
    ``self.exit_json(...)`` or ``self.fail_json(...)``.
    """

    argument_spec = {}
    module_kwargs = {}

    def __init__(self):
        spec = identity_argument_spec()
        spec.update(self.argument_spec)
        kwargs = dict(self.module_kwargs)
        # new lists: never mutate the subclass's class-level ones
        kwargs["mutually_exclusive"] = list(kwargs.get("mutually_exclusive", [])) + [["auth", "cloud"]]
        kwargs["required_one_of"] = list(kwargs.get("required_one_of", [])) + [["auth", "cloud"]]
        self.ansible = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.ansible.params
        self.check_mode = self.ansible.check_mode
        self.session = None
        self.client = None
        self.region_name = self.params["region_name"]

    def fail_json(self, **kwargs):
        self.ansible.fail_json(**kwargs)

    def exit_json(self, **kwargs):
        self.ansible.exit_json(**kwargs)

    # -- connection ----------------------------------------------------
    def _cloud_settings(self):
        """auth dict and transport settings from the named clouds.yaml entry."""
        if not HAS_YAML:
            self.fail_json(msg=missing_required_lib("PyYAML (to read clouds.yaml)"))
        path, searched = find_clouds_yaml()
        name = self.params["cloud"]
        if path is None:
            self.fail_json(
                msg="cloud '%s' requested but no clouds.yaml found; searched: %s" % (name, ", ".join(searched))
            )
        try:
            with open(path) as f:
                data = yaml.safe_load(f) or {}
        except (OSError, yaml.YAMLError) as e:
            self.fail_json(msg="cannot read %s: %s" % (path, e))
        clouds = data.get("clouds") or {}
        if name not in clouds:
            self.fail_json(
                msg="cloud '%s' not found in %s (it defines: %s)" % (name, path, ", ".join(sorted(clouds)) or "nothing")
            )
        return clouds[name] or {}, path

    def _connection_settings(self):
        """Merge clouds.yaml (if any) with explicit options; explicit wins."""
        settings = {"auth": {}, "region_name": None, "interface": None, "verify": None, "cacert": None}
        source = "auth"
        if self.params["cloud"]:
            cloud, source = self._cloud_settings()
            settings["auth"].update(cloud.get("auth") or {})
            settings["region_name"] = cloud.get("region_name")
            settings["interface"] = cloud.get("interface")
            settings["verify"] = cloud.get("verify")
            settings["cacert"] = cloud.get("cacert")
        for key, value in (self.params["auth"] or {}).items():
            if value is not None:
                settings["auth"][key] = value
        for key, param in (
            ("region_name", "region_name"),
            ("verify", "validate_certs"),
            ("cacert", "ca_cert"),
            ("interface", "interface"),
        ):
            if self.params[param] is not None:
                settings[key] = self.params[param]
        settings["interface"] = settings["interface"] or "public"
        missing = [k for k in ("auth_url", "username", "password", "project_name") if not settings["auth"].get(k)]
        if missing:
            self.fail_json(msg="missing auth settings %s (from %s)" % (", ".join(missing), source))
        return settings

    def _build_client(self):
        settings = self._connection_settings()
        auth = settings["auth"]
        plugin = ks_v3.Password(
            auth_url=auth["auth_url"],
            username=auth["username"],
            password=auth["password"],
            project_name=auth["project_name"],
            user_domain_name=auth.get("user_domain_name") or "Default",
            project_domain_name=auth.get("project_domain_name") or "Default",
        )
        verify = settings["verify"]
        if verify is None:
            verify = True
        if verify and settings["cacert"]:
            verify = settings["cacert"]
        self.auth_url = auth["auth_url"]
        self.verify = verify
        self.region_name = settings["region_name"]
        # A Keystone behind uwsgi or a load balancer may drop a connection while it restarts
        # a worker: retry connection errors (never HTTP errors) a few times, with back-off.
        self.session = ks_session.Session(
            auth=plugin, verify=verify, timeout=self.params["api_timeout"], connect_retries=CONNECT_RETRIES
        )
        # No region for Keystone itself: identity is global and region_name
        # names the region of the endpoints the module manages.
        self.client = kc_v3.Client(session=self.session, interface=settings["interface"])

    def password_works(self, username, password, user_domain_id):
        """Whether Keystone accepts these credentials (one unscoped token request).

        This is how ``update_password: always`` stays idempotent: Keystone
        never shows a password, but it will tell us if one is right.
        """
        plugin = ks_v3.Password(
            auth_url=self.auth_url, username=username, password=password, user_domain_id=user_domain_id
        )
        probe = ks_session.Session(
            auth=plugin, verify=self.verify, timeout=self.params["api_timeout"], connect_retries=CONNECT_RETRIES
        )
        try:
            probe.get_token()
            return True
        except ks_exc.Unauthorized:
            return False

    # -- entry point ---------------------------------------------------
    def run(self):
        raise NotImplementedError

    def __call__(self):
        if not HAS_KEYSTONE:
            self.fail_json(
                msg=missing_required_lib("python-keystoneclient and keystoneauth1"), exception=KEYSTONE_IMPORT_ERROR
            )
        try:
            self._build_client()
            self.run()
        except ks_exc.Unauthorized as e:
            self.fail_json(msg="Keystone rejected the admin credentials: %s" % e)
        except ks_exc.ConnectFailure as e:
            self.fail_json(msg="cannot reach Keystone: %s" % e)
        except ks_exc.ClientException as e:
            self.fail_json(msg="Keystone error: %s" % e, exception=traceback.format_exc())
