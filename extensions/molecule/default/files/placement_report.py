"""Where a stack's servers really are, and whether each Valet group's rule holds there.

Runs on the test host (python3-openstacksdk, cloud "testhost"). Reads the stack's template and
resources from Heat and every server's host from Nova (OS-EXT-SRV-ATTR:host); racks are what
valet-api reads them from: Nova host aggregates whose metadata names the rack (valet_rack, the
default of valet-api's [engine] rack_aggregate_key). A host in no rack aggregate is a rack of its own.

    python3 placement_report.py STACK          JSON: servers, groups (with holds), others
    python3 placement_report.py STACK --table  the same as text tables
"""

import json
import sys

import openstack

GROUP = "ATT::Valet::GroupAssignment"


RACK_KEY = "valet_rack"


def racks(conn):
    """{host: rack} from the host aggregates that carry RACK_KEY."""
    out = {}
    for aggregate in conn.compute.aggregates():
        rack = (aggregate.metadata or {}).get(RACK_KEY)
        for host in aggregate.hosts or () if rack else ():
            out[host] = rack
    return out


def ref(value):
    """The resource name of a {get_resource: NAME} member, else None."""
    if isinstance(value, dict) and len(value) == 1:
        return value.get("get_resource") or value.get("Ref")
    return None


def report(conn, stack_name):
    stack = conn.orchestration.find_stack(stack_name, ignore_missing=False)
    # The template as Heat stores it (the SDK's get_stack_template trips on its own Stack here).
    template = conn.orchestration.get("/stacks/%s/%s/template" % (stack.name, stack.id)).json()
    definitions = template["resources"]
    physical = {r.name: r.physical_resource_id for r in conn.orchestration.resources(stack)}
    everyone = list(conn.compute.servers(details=True, all_projects=True))
    by_id = {s.id: s for s in everyone}
    rack_of = racks(conn)

    servers = {}
    for name, defn in sorted(definitions.items()):
        if defn.get("type") != "OS::Nova::Server":
            continue
        srv = by_id.get(physical.get(name))
        host = srv.compute_host if srv else None
        servers[name] = {
            "id": srv.id if srv else None,
            "status": srv.status if srv else None,
            "host": host,
            "rack": rack_of.get(host, host),
        }

    def units(name):
        """The group's members, each as the list of server names it stands for."""
        out = []
        for member in definitions[name]["properties"]["resources"]:
            target = ref(member)
            if definitions.get(target, {}).get("type") == GROUP:
                out.append(sorted({s for unit in units(target) for s in unit}))
            else:
                out.append([target])
        return out

    groups = []
    for name, defn in sorted(definitions.items()):
        if defn.get("type") != GROUP:
            continue
        props = defn["properties"]
        kind, level = props["group_type"], props.get("level", "host")
        # "?": a server Nova did not place (ERROR) has no host; the report still says why.
        spots = [[servers[s][level] or "?" for s in unit] for unit in units(name)]
        members = sorted({s for unit in units(name) for s in unit})
        hosts = sorted({servers[s]["host"] or "?" for s in members})
        if kind == "affinity":
            holds = len({spot for unit in spots for spot in unit}) == 1
            why = "all on %s %s" % (level, ", ".join(sorted({x for u in spots for x in u})))
        elif kind == "diversity":
            # Between members; a member that is a group keeps its own servers together.
            seen = [set(unit) for unit in spots]
            holds = all(not (a & b) for i, a in enumerate(seen) for b in seen[i + 1 :])
            why = "%ss %s" % (level, " | ".join(",".join(sorted(u)) for u in seen))
        else:
            ids = {servers[s]["id"] for s in members}
            intruders = sorted(s.name for s in everyone if s.compute_host in hosts and s.id not in ids)
            holds = not intruders
            why = "hosts %s hold %s" % (", ".join(hosts), ", ".join(intruders) or "nothing else")
        groups.append(
            {
                "name": name,
                "type": kind,
                "level": level,
                "group_name": props.get("group_name"),
                "members": members,
                "hosts": hosts,
                "holds": holds,
                "why": why,
            }
        )

    stack_ids = {s["id"] for s in servers.values()}
    others = {}
    for srv in everyone:
        if srv.id not in stack_ids:
            others.setdefault(srv.compute_host or "-", []).append(srv.name)
    return {
        "stack": stack_name,
        "stack_id": stack.id,
        "stack_status": stack.status,
        "servers": servers,
        "groups": groups,
        "others": others,
    }


def table(data):
    member_of = {}
    for g in data["groups"]:
        for s in g["members"]:
            member_of.setdefault(s, []).append(g["name"])
    lines = ["%-8s %-10s %-5s %-7s %s" % ("server", "host", "rack", "status", "groups")]
    for name, s in data["servers"].items():
        groups = ", ".join(member_of.get(name, []))
        lines.append("%-8s %-10s %-5s %-7s %s" % (name, s["host"], s["rack"], s["status"], groups))
    lines.append("")
    lines.append("%-11s %-30s %-5s %s" % ("group", "rule", "holds", "because"))
    for g in data["groups"]:
        rule = "%s/%s%s" % (g["type"], g["level"], " " + g["group_name"] if g["group_name"] else "")
        lines.append("%-11s %-30s %-5s %s" % (g["name"], rule, "yes" if g["holds"] else "NO", g["why"]))
    return "\n".join(lines)


def main():
    data = report(openstack.connect(cloud="testhost"), sys.argv[1])
    print(table(data) if "--table" in sys.argv[2:] else json.dumps(data, sort_keys=True))


if __name__ == "__main__":
    main()
