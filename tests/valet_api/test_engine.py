"""valet_api.engine, rule by rule, on hand-made clouds (test_engine_properties.py covers random ones)."""

import pytest

from valet_api import engine
from valet_api.engine import Group
from valet_api.engine import Host
from valet_api.engine import Server
from valet_api.engine import Unplaceable

SMALL = {"VCPU": 1, "MEMORY_MB": 1024, "DISK_GB": 10}


def cloud(racks=2, per_rack=3, vcpu=4, **changes):
    """Hosts r<i>-h<j> with vcpu VCPUs, 8 GB and 100 GB free; changes: {host name: {field: value}}."""
    hosts = []
    for r in range(racks):
        for h in range(per_rack):
            name = "r%d-h%d" % (r, h)
            fields = dict(free={"VCPU": vcpu, "MEMORY_MB": 8192, "DISK_GB": 100}, **changes.get(name, {}))
            hosts.append(Host(name, "r%d" % r, **fields))
    return hosts


def servers(n, size=None, prefix="s"):
    return [Server("%s%d" % (prefix, i), "%s%d" % (prefix, i), size or SMALL) for i in range(n)]


def ids(servers_):
    return tuple(s.id for s in servers_)


def rack(host):
    return host.split("-")[0]


def refused(*args, **kwargs):
    with pytest.raises(Unplaceable) as e:
        engine.place(*args, **kwargs)
    return e.value.explanation


# -- affinity --------------------------------------------------------------------------------


def test_host_affinity_puts_every_server_on_one_host():
    web = servers(3)
    result = engine.place(cloud(), web, [Group("g", "web", "affinity", "host", ids(web))])
    assert len(set(result.hosts.values())) == 1
    assert result.reserve == {}


def test_host_affinity_refused_when_no_host_has_room_names_group_and_rule():
    web = servers(5)
    explanation = refused(cloud(), web, [Group("g", "web", "affinity", "host", ids(web))])
    assert explanation.startswith("affinity group 'web' (level host): no host has room for its 5 servers")


def test_rack_affinity_shares_a_rack_not_a_host():
    web = servers(6)
    result = engine.place(cloud(), web, [Group("g", "web", "affinity", "rack", ids(web))])
    assert len({rack(h) for h in result.hosts.values()}) == 1
    assert len(set(result.hosts.values())) > 1  # 6 servers of 1 VCPU do not fit one 4-VCPU host


def test_rack_affinity_refused_when_no_rack_has_room():
    web = servers(13)  # a rack has 3 hosts of 4 VCPUs
    explanation = refused(cloud(racks=3), web, [Group("g", "web", "affinity", "rack", ids(web))])
    assert explanation == "affinity group 'web' (level rack): no rack has room for its 13 servers"


def test_the_innermost_group_that_fails_is_named():
    web, db = servers(5, prefix="web"), servers(1, prefix="db")
    groups = [
        Group("w", "web", "affinity", "host", ids(web)),
        Group("a", "app", "affinity", "rack", ("w", "db0")),
    ]
    explanation = refused(cloud(), web + db, groups)
    assert explanation.startswith("affinity group 'web' (level host): no host has room for its 5 servers")


# -- diversity -------------------------------------------------------------------------------


def test_host_diversity_spreads_servers_over_hosts():
    web = servers(6)
    result = engine.place(cloud(), web, [Group("g", "web", "diversity", "host", ids(web))])
    assert len(set(result.hosts.values())) == 6


def test_rack_diversity_refused_when_racks_run_out():
    web = servers(3)
    explanation = refused(cloud(), web, [Group("g", "web", "diversity", "rack", ids(web))])
    assert explanation == (
        "diversity group 'web' (level rack): its 3 members need 3 different racks, only 2 can take them"
    )


def test_diversity_between_member_groups_lets_a_member_share_a_host():
    a, b = servers(2, prefix="a"), servers(2, prefix="b")
    groups = [
        Group("ga", "a", "affinity", "host", ids(a)),
        Group("gb", "b", "affinity", "host", ids(b)),
        Group("d", "apart", "diversity", "host", ("ga", "gb")),
    ]
    result = engine.place(cloud(racks=1, per_rack=2), a + b, groups)
    assert result.hosts["a0"] == result.hosts["a1"] != result.hosts["b0"] == result.hosts["b1"]


def test_nested_rack_diversity_of_host_affinity_groups():
    a, b, c = servers(2, prefix="a"), servers(2, prefix="b"), servers(1, prefix="c")
    groups = [
        Group("ga", "a", "affinity", "host", ids(a)),
        Group("gb", "b", "affinity", "host", ids(b)),
        Group("d", "apart", "diversity", "rack", ("ga", "gb", "c0")),
    ]
    result = engine.place(cloud(racks=3, per_rack=1), a + b + c, groups)
    assert len({rack(result.hosts[s]) for s in ("a0", "b0", "c0")}) == 3
    assert result.hosts["a0"] == result.hosts["a1"]


def test_affinity_inside_diversity_of_the_same_servers_is_refused_with_both_names():
    web = servers(2)
    groups = [Group("g", "web", "affinity", "host", ids(web)), Group("d", "apart", "diversity", "host", ids(web))]
    explanation = refused(cloud(), web, groups)
    assert "diversity group 'apart' (level host)" in explanation and "affinity group 'web'" in explanation


def test_a_server_named_twice_in_a_diversity_group_only_stays_apart_from_the_others():
    # found by the property tests: s0 is a member directly and through 'one'; s1 (its rack partner) is in
    # no member, so nothing keeps the two apart
    web = servers(2)
    groups = [
        Group("g0", "one", "affinity", "host", ("s0",)),
        Group("g1", "apart", "diversity", "rack", ("s0", "g0")),
        Group("g2", "together", "affinity", "rack", ids(web)),
    ]
    result = engine.place(cloud(racks=1, per_rack=1), web, groups)
    assert result.hosts == {"s0": "r0-h0", "s1": "r0-h0"}


# -- exclusivity -----------------------------------------------------------------------------


def test_exclusivity_reserves_the_hosts_it_uses_under_its_key():
    db, other = servers(2, prefix="db"), servers(1, prefix="o")
    groups = [Group("x", "db", "exclusivity", "host", ids(db), exclusive_key="p1:db")]
    result = engine.place(cloud(racks=1, per_rack=2, vcpu=2), db + other, groups)
    db_hosts = {result.hosts["db0"], result.hosts["db1"]}
    assert result.hosts["o0"] not in db_hosts
    assert result.reserve == {h: "p1:db" for h in db_hosts}


def test_exclusivity_refuses_hosts_with_other_servers_or_another_key():
    hosts = cloud(racks=1, per_rack=3, **{"r0-h0": {"servers": 1}, "r0-h1": {"exclusive": "p2:db"}})
    db = servers(1, prefix="db")
    result = engine.place(hosts, db, [Group("x", "db", "exclusivity", "host", ids(db), exclusive_key="p1:db")])
    assert result.hosts == {"db0": "r0-h2"}


def test_exclusivity_with_no_empty_host_left():
    hosts = cloud(racks=1, per_rack=2, **{"r0-h0": {"servers": 1}, "r0-h1": {"exclusive": "p2:db"}})
    db = servers(1, prefix="db")
    explanation = refused(hosts, db, [Group("x", "db", "exclusivity", "host", ids(db), exclusive_key="p1:db")])
    assert explanation == "exclusivity group 'db': no empty host left"


def test_exclusivity_joins_a_host_already_reserved_under_its_key_even_if_occupied():
    hosts = cloud(racks=1, per_rack=2, **{"r0-h1": {"servers": 3, "exclusive": "group:db"}})
    db = servers(1, prefix="db")
    group = Group("x", "db", "exclusivity", "host", ids(db), exclusive_key="group:db")
    result = engine.place(hosts, db, [group])
    assert result.hosts == {"db0": "r0-h1"}  # occupied hosts first: the empty one stays free
    assert result.reserve == {}


def test_servers_outside_exclusivity_avoid_reserved_hosts():
    hosts = cloud(racks=1, per_rack=2, **{"r0-h0": {"exclusive": "p1:db"}})
    result = engine.place(hosts, servers(1), [])
    assert result.hosts == {"s0": "r0-h1"}
    explanation = refused(cloud(racks=1, per_rack=1, **{"r0-h0": {"exclusive": "p1:db"}}), servers(1), [])
    assert explanation == "server 's0': every host with room is reserved for an exclusivity group"


def test_rack_exclusivity_reserves_every_host_of_the_rack():
    hosts = cloud(racks=2, per_rack=2, **{"r0-h0": {"servers": 1}})
    db = servers(1, prefix="db")
    result = engine.place(hosts, db, [Group("x", "db", "exclusivity", "rack", ids(db), exclusive_key="k")])
    assert rack(result.hosts["db0"]) == "r1"
    assert result.reserve == {"r1-h0": "k", "r1-h1": "k"}


def test_a_rack_held_by_another_key_is_explained_as_reserved_not_as_full():
    hosts = [Host("h0", "r", {"VCPU": 4}), Host("h1", "r", {"VCPU": 4})]
    pair = [Server("s0", "s0", {"VCPU": 1}), Server("s1", "s1", {"VCPU": 1})]
    groups = [
        Group("a", "a", "exclusivity", "rack", ("s0",), exclusive_key="ka"),
        Group("b", "b", "exclusivity", "host", ("s1",), exclusive_key="kb"),
    ]
    assert refused(hosts, pair, groups) == (
        "server 's1' (group 'b'): every host with room is reserved for an exclusivity group"
    )


def test_one_server_under_two_keys_is_refused():
    db = servers(1)
    groups = [
        Group("x", "db", "exclusivity", "host", ids(db), exclusive_key="p:db"),
        Group("y", "cache", "exclusivity", "host", ids(db), exclusive_key="p:cache"),
    ]
    assert "exclusivity groups 'cache' and 'db'" in refused(cloud(), db, groups)


def test_affinity_cannot_bring_an_outsider_onto_an_exclusive_host():
    db, other = servers(1, prefix="db"), servers(1, prefix="o")
    groups = [
        Group("x", "db", "exclusivity", "host", ids(db)),
        Group("a", "pair", "affinity", "host", ids(db + other)),
    ]
    explanation = refused(cloud(), db + other, groups)
    assert explanation == "exclusivity group 'db': affinity group 'pair' puts 'o0', not in it, on its host"


# -- capacity --------------------------------------------------------------------------------


def test_capacity_is_summed_over_every_class():
    hosts = [Host("a", "r", {"VCPU": 8, "MEMORY_MB": 2048, "DISK_GB": 100}), Host("b", "r", dict(SMALL, VCPU=8))]
    big = [Server("s%d" % i, "s%d" % i, {"VCPU": 1, "MEMORY_MB": 1024}) for i in range(3)]
    result = engine.place(hosts, big, [])
    assert sorted(result.hosts.values()) == ["a", "a", "b"]


def test_a_class_the_host_does_not_report_has_nothing_free():
    hosts = [Host("a", "r", {"VCPU": 8, "MEMORY_MB": 8192})]
    explanation = refused(hosts, [Server("s", "web", {"VCPU": 1, "DISK_GB": 1})], [])
    assert explanation.startswith("server 'web'")
    assert engine.place(hosts, [Server("s", "web", {"VCPU": 1, "DISK_GB": 0})], []).hosts == {"s": "a"}


def test_a_server_too_big_for_every_host_names_its_group():
    big = [Server("s", "huge", {"VCPU": 64})]
    explanation = refused(cloud(), big, [Group("g", "web", "diversity", "host", ("s",))])
    assert explanation == "server 'huge' (group 'web'): no host has room for it (VCPU 64)"


def test_servers_that_fit_in_total_but_not_host_by_host_are_refused_at_once():
    # 7 hosts: above the exhaustive size, so without the bound this would spend the search budget
    hosts = [Host("h%d" % i, "r", {"VCPU": 3, "MEMORY_MB": 4096 + 512 * i}) for i in range(7)]
    explanation = refused(hosts, [Server("s%d" % i, "s%d" % i, {"VCPU": 2}) for i in range(8)], [])
    assert explanation == (
        "the plan's 8 servers do not fit: 8 separate placements need VCPU 2 or more each, the hosts have room for 7"
    )


def test_a_rack_unit_that_fits_in_total_but_not_host_by_host_is_refused_naming_its_group():
    # without the bound, the search would try the orders of 11 servers on 10 different hosts per rack
    hosts = [
        Host("r%d-h%d" % (r, i), "r%d" % r, {"VCPU": 3, "MEMORY_MB": 4096 + 512 * i})
        for r in range(2)
        for i in range(10)
    ]
    web = [Server("s%d" % i, "s%d" % i, {"VCPU": 2}) for i in range(11)]
    explanation = refused(hosts, web, [Group("g", "web", "affinity", "rack", ids(web))])
    assert explanation == "affinity group 'web' (level rack): no rack has room for its 11 servers"


# -- fixed servers and Nova's candidates -----------------------------------------------------


def test_fixed_servers_stay_and_their_group_partners_follow():
    web = servers(3)
    groups = [Group("g", "web", "affinity", "rack", ids(web)), Group("d", "apart", "diversity", "host", ids(web))]
    result = engine.place(cloud(), web, groups, fixed={"s0": "r1-h2"})
    assert result.hosts["s0"] == "r1-h2"
    assert {rack(h) for h in result.hosts.values()} == {"r1"}
    assert len(set(result.hosts.values())) == 3


def test_fixed_servers_take_their_size_from_their_host():
    # Host.free leaves out the call's servers: s0 (3 VCPUs) on the only host leaves 1 for the rest
    hosts = [Host("h", "r", {"VCPU": 4, "MEMORY_MB": 8192, "DISK_GB": 100})]
    web = [Server("s0", "s0", {"VCPU": 3}), Server("s1", "s1", {"VCPU": 1}), Server("s2", "s2", {"VCPU": 1})]
    assert engine.place(hosts, web[:2], [], fixed={"s0": "h"}).hosts == {"s0": "h", "s1": "h"}
    assert refused(hosts, web, [], fixed={"s0": "h"}).startswith("the plan's 2 servers")


def test_a_host_over_its_capacity_takes_no_more_servers():
    # its fixed server overfills it (or the cloud overcommitted it): not even a server of size 0 goes there
    hosts = [Host("a", "r", {"VCPU": 4}), Host("b", "r", {"VCPU": -1}), Host("c", "r", {"VCPU": 1})]
    web = [Server("s0", "s0", {"VCPU": 5}), Server("s1", "s1", {})]
    assert engine.place(hosts, web, [], fixed={"s0": "a"}).hosts == {"s0": "a", "s1": "c"}


def test_a_replan_honours_the_plans_other_servers_and_novas_candidates():
    web = servers(2) + [Server("s2", "s2", SMALL, candidates=frozenset({"r0-h0", "r0-h2", "r1-h0"}))]
    groups = [Group("d", "apart", "diversity", "host", ids(web))]
    result = engine.place(cloud(), web, groups, fixed={"s0": "r0-h0", "s1": "r0-h1"})
    assert result.hosts == {"s0": "r0-h0", "s1": "r0-h1", "s2": "r0-h2"}


def test_a_replan_with_no_candidate_left_explains_the_group():
    web = servers(1) + [Server("s1", "s1", SMALL, candidates=frozenset({"r0-h0"}))]
    groups = [Group("d", "apart", "diversity", "host", ids(web))]
    explanation = refused(cloud(), web, groups, fixed={"s0": "r0-h0"})
    assert explanation.startswith("diversity group 'apart' (level host)")
    assert explanation.endswith("among Nova's candidate hosts (r0-h0)")


def test_candidates_hold_for_a_server_whose_affinity_partner_is_fixed():
    # found by the property tests: the partner's host used to win over Nova's candidates
    web = servers(1) + [Server("s1", "s1", SMALL, candidates=frozenset({"r0-h1"}))]
    groups = [Group("a", "pair", "affinity", "host", ids(web))]
    explanation = refused(cloud(), web, groups, fixed={"s0": "r0-h0"})
    assert explanation == (
        "server 's1' (group 'pair'): Nova's candidate hosts (r0-h1) leave out host r0-h0, "
        "where its affinity partners are"
    )


def test_fixed_servers_that_already_break_a_rule_are_refused():
    web = servers(2)
    explanation = refused(
        cloud(), web, [Group("d", "apart", "diversity", "host", ids(web))], fixed={"s0": "r0-h0", "s1": "r0-h0"}
    )
    assert explanation.startswith("diversity group 'apart' (level host): server 's1' is already on host r0-h0")


# -- input, determinism, budget --------------------------------------------------------------


@pytest.mark.parametrize(
    "groups, message",
    [
        ([Group("g", "web", "affinity", "host", ("nope",))], "unknown member nope"),
        ([Group("g", "web", "sharing", "host", ("s0",))], "type must be one of"),
        ([Group("g", "web", "affinity", "row", ("s0",))], "level must be host or rack"),
        ([Group("g", "a", "affinity", "host", ("h",)), Group("h", "b", "affinity", "host", ("g",))], "contains itself"),
    ],
)
def test_malformed_plans_raise_value_error(groups, message):
    with pytest.raises(ValueError, match=message):
        engine.place(cloud(), servers(1), groups)


def test_ties_break_by_name_so_the_result_never_changes():
    web = servers(4)
    groups = [Group("g", "web", "diversity", "host", ids(web))]
    first = engine.place(cloud(), web, groups)
    assert first.hosts == {"s0": "r0-h0", "s1": "r0-h1", "s2": "r0-h2", "s3": "r1-h0"}
    assert engine.place(list(reversed(cloud())), list(reversed(web)), groups) == first


def test_search_budget_exhaustion_is_explained(monkeypatch):
    monkeypatch.setattr(engine, "SEARCH_BUDGET", 3)
    monkeypatch.setattr(engine, "BUDGET_PER_BLOCK", 0)
    web = servers(9)
    explanation = refused(cloud(racks=3), web, [Group("g", "web", "diversity", "host", ids(web))])
    assert explanation.startswith("no placement found within the search budget (3 steps)")
    assert "'web'" in explanation
