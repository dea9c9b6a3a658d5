"""A cloud that valet-api's tests control: hosts with capacity and racks, flavors by name or id."""

from valet_api import engine

FLAVORS = {
    "m1.tiny": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1},
    "m1.small": {"VCPU": 1, "MEMORY_MB": 2048, "DISK_GB": 20},
    "m1.medium": {"VCPU": 2, "MEMORY_MB": 4096, "DISK_GB": 40},
    "m1.large": {"VCPU": 4, "MEMORY_MB": 8192, "DISK_GB": 80},
}


class FakeCloud:
    def __init__(self, hosts, flavors=None):
        self._hosts = list(hosts)
        self.flavors = dict(FLAVORS if flavors is None else flavors)
        self.down = False

    @staticmethod
    def grid(racks, per_rack, vcpu=8, memory_mb=16384, disk_gb=160):
        """Hosts r<i>-h<j> in racks r<i>, each with the same capacity."""
        return FakeCloud(
            engine.Host(
                name="r%d-h%d" % (r, h),
                rack="r%d" % r,
                free={"VCPU": vcpu, "MEMORY_MB": memory_mb, "DISK_GB": disk_gb},
            )
            for r in range(1, racks + 1)
            for h in range(1, per_rack + 1)
        )

    def hosts(self):
        if self.down:
            raise ConnectionError("placement unreachable")
        return list(self._hosts)

    def flavor_size(self, flavor):
        if flavor not in self.flavors:
            raise LookupError("flavor %s not found" % flavor)
        return dict(self.flavors[flavor])

    def status(self):
        return {"placement": "error: unreachable" if self.down else "ok", "nova": "ok"}


# -- valet-api served from this process ----------------------------------------------------


def make_conf(connection, auth_strategy="noauth2", keystone=None, **api):
    """A parsed ConfigOpts for valet-api: this database, this auth; never reads /etc."""
    from oslo_config import cfg

    from valet_api import conf as valet_conf

    conf = valet_conf.register_opts(cfg.ConfigOpts())
    conf([], project="valet", default_config_files=[])
    conf.set_override("connection", connection, "database")
    conf.set_override("auth_strategy", auth_strategy, "api")
    for name, value in api.items():
        conf.set_override(name, value, "api")
    if keystone is not None:
        from keystoneauth1 import loading
        from keystonemiddleware import auth_token

        # What auth_token registers itself on first use: here so that the overrides can be set.
        for group, opts in auth_token.list_opts():
            conf.register_opts(opts, group=group)
        loading.register_auth_conf_options(conf, "keystone_authtoken")
        conf.register_opts(loading.get_auth_plugin_conf_options("password"), group="keystone_authtoken")
        conf.set_override("auth_type", "password", "keystone_authtoken")
        for name, value in dict(
            www_authenticate_uri=keystone.url,
            auth_url=keystone.auth_url,
            username=keystone.admin_user,
            password=keystone.admin_password,
            project_name=keystone.admin_project,
            user_domain_name="Default",
            project_domain_name="Default",
        ).items():
            conf.set_override(name, value, "keystone_authtoken")
    return conf


def sync(conf):
    from valet_api.db import api as db
    from valet_api.db import migration

    migration.upgrade(db.Database(conf).engine)


class Served:
    """A WSGI app on a loopback port, one thread per request (as uwsgi's threads would)."""

    def __init__(self, app):
        import threading
        from socketserver import ThreadingMixIn
        from wsgiref import simple_server

        class Server(ThreadingMixIn, simple_server.WSGIServer):
            daemon_threads = True
            request_queue_size = 64  # tests connect by the dozen at once

        class Quiet(simple_server.WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.server = simple_server.make_server("127.0.0.1", 0, app, server_class=Server, handler_class=Quiet)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/v1" % self.port

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# -- what must never be ---------------------------------------------------------------------


def state(connection_url):
    """(placements, hosts) rows as valet-api's database holds them, read with plain SQLAlchemy."""
    import sqlalchemy as sa

    engine = sa.create_engine(connection_url)
    try:
        with engine.connect() as c:
            placements = [dict(r._mapping) for r in c.execute(sa.text("SELECT * FROM placements"))]
            hosts = {r.name: dict(r._mapping) for r in c.execute(sa.text("SELECT * FROM hosts"))}
    finally:
        engine.dispose()
    return placements, hosts


def violations(cloud, placements, hosts):
    """Every broken invariant: two exclusivity keys on a host, a foreign server on an exclusive host,
    a host over capacity. Empty when all hold."""
    out = []
    capacity = {h.name: h.free for h in cloud.hosts()}
    by_host = {}
    for p in placements:
        by_host.setdefault(p["host"], []).append(p)
    for host, ps in sorted(by_host.items()):
        keys = {p["exclusive"] for p in ps}
        reserved = (hosts.get(host) or {}).get("exclusive")
        if len(keys - {None}) > 1:
            out.append("%s holds exclusivity keys %s" % (host, sorted(keys - {None})))
        if (keys - {None}) and None in keys:
            out.append("%s holds %s and a server outside it" % (host, sorted(keys - {None})))
        if reserved and keys - {reserved}:
            out.append("%s is reserved for %s but holds %s" % (host, reserved, sorted(map(str, keys - {reserved}))))
        for rc, col in (("VCPU", "vcpu"), ("MEMORY_MB", "memory_mb"), ("DISK_GB", "disk_gb")):
            used = sum(p[col] for p in ps)
            if used > capacity[host][rc]:
                out.append("%s: %s %d > %d" % (host, rc, used, capacity[host][rc]))
    return out


GROUP = "ATT::Valet::GroupAssignment"


def rule_violations(resources, where, rack_of):
    """Affinity / diversity / exclusivity (within the plan) broken by where = {server uuid: host}."""

    def servers(u, seen=()):
        res = resources[u]
        if res["type"] != GROUP:
            return {u}
        out = set()
        for m in res["properties"].get("resources") or []:
            if m not in seen:
                out |= servers(m, seen + (u,))
        return out

    out = []
    for u, res in resources.items():
        if res["type"] != GROUP:
            continue
        props = res["properties"]
        level = rack_of if props.get("level") == "rack" else (lambda h: h)
        units = [{level(where[s]) for s in servers(m)} for m in props.get("resources") or []]
        kind = props["group_type"]
        if kind == "affinity" and len(set().union(*units)) > 1:
            out.append("affinity %s spread over %s" % (res["name"], sorted(set().union(*units))))
        if kind == "diversity":
            for i, a in enumerate(units):
                for b in units[i + 1 :]:
                    if a & b:
                        out.append("diversity %s shares %s" % (res["name"], sorted(a & b)))
        if kind == "exclusivity":
            mine = set().union(*units)
            others = {level(h) for s, h in where.items() if s not in servers(u)}
            if mine & others:
                out.append("exclusivity %s shares %s" % (res["name"], sorted(mine & others)))
    return out
