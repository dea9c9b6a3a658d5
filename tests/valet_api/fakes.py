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
