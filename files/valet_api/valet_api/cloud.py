"""The cloud as valet-api sees it (interim, replaced by the full reader): hosts and flavors.

Reads Placement (resource providers, inventories, usages) and Nova (flavors) with the
[cloud] Valet service user through keystoneauth1. Racks: each host is a rack of its own here.
"""

from keystoneauth1 import loading as ks_loading

from valet_api import engine

PLACEMENT_VERSION = "placement 1.39"


class CloudError(Exception):
    """The cloud could not be read; the message says which API and why."""


class Cloud:
    def __init__(self, conf):
        self._conf = conf
        self._adapters = {}

    def _adapter(self, group):
        if group not in self._adapters:
            auth = ks_loading.load_auth_from_conf_options(self._conf, "cloud")
            sess = ks_loading.load_session_from_conf_options(self._conf, "cloud", auth=auth)
            self._adapters[group] = ks_loading.load_adapter_from_conf_options(
                self._conf, group, session=sess, auth=auth
            )
        return self._adapters[group]

    def _get(self, group, path, **headers):
        try:
            resp = self._adapter(group).get(path, headers=headers or None, raise_exc=False)
        except Exception as exc:
            raise CloudError("%s GET %s failed: %s" % (group, path, exc)) from exc
        if resp.status_code != 200:
            raise CloudError("%s GET %s: HTTP %s" % (group, path, resp.status_code))
        return resp.json()

    def _placement(self, path):
        return self._get("placement", path, **{"OpenStack-API-Version": PLACEMENT_VERSION})

    def hosts(self):
        out = []
        for rp in self._placement("/resource_providers")["resource_providers"]:
            inv = self._placement("/resource_providers/%s/inventories" % rp["uuid"])["inventories"]
            usages = self._placement("/resource_providers/%s/usages" % rp["uuid"])["usages"]
            free = {}
            for rc in engine.RESOURCE_CLASSES:
                i = inv.get(rc)
                free[rc] = int((i["total"] - i["reserved"]) * i["allocation_ratio"]) - usages.get(rc, 0) if i else 0
            out.append(engine.Host(name=rp["name"], rack=rp["name"], free=free))
        return out

    def flavor_size(self, flavor):
        try:
            f = self._get("nova", "/flavors/%s" % flavor)["flavor"]
        except CloudError:
            matches = [f for f in self._get("nova", "/flavors/detail")["flavors"] if f["name"] == flavor]
            if not matches:
                raise LookupError("flavor %s not found" % flavor) from None
            f = matches[0]
        return {"VCPU": f["vcpus"], "MEMORY_MB": f["ram"], "DISK_GB": f["disk"]}

    def status(self):
        out = {}
        for group, path in (("placement", "/"), ("nova", "/")):
            try:
                self._get(group, path)
                out[group] = "ok"
            except CloudError as exc:
                out[group] = "error: %s" % exc
        return out
