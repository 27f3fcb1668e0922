"""An Envoy as files (pure): settings that a mesh applies without a restart change only xDS files,
never the bootstrap; and the runner reads Envoy's `/config_dump` to know a file is applied."""

from __future__ import annotations

import pytest

from celestials.local.xds_files import applied_versions
from celestials.render.local_envoy import render_envoy_configs
from celestials.render.local_plan import plan_local
from celestials.render.local_xds import CLUSTER, LISTENER, ROUTE_CONFIGURATION, envoy_files
from celestials.settings import parse_settings
from celestials.topology import build_topology

ROOT = "/rehearsal"


def _files(tracing: bool = True, **settings):
    topology = build_topology(parse_settings(settings, "dev"))
    plan = plan_local(topology, ROOT)
    configs = render_envoy_configs(topology, plan, tracing=tracing)
    return plan, {name: envoy_files(name, config, plan) for name, config in configs.items()}


def _resources(files, name: str, kind: str) -> list[dict]:
    return files.xds[f"{ROOT}/envoy/{name}/{kind}.json"]["resources"]


@pytest.mark.parametrize("changed", [{"canaryWeight": 100}, {"mtlsTrust": "ca1+ca2"}])
def test_weight_and_trust_change_xds_files_only(changed):
    _, baseline = _files(canaryWeight=50, mtlsTrust="ca1")
    _, other = _files(**{"canaryWeight": 50, "mtlsTrust": "ca1", **changed})
    assert {n: f.bootstrap for n, f in other.items()} == {n: f.bootstrap for n, f in baseline.items()}
    differing = {(n, path) for n in baseline for path in baseline[n].xds if baseline[n].xds[path] != other[n].xds[path]}
    if "canaryWeight" in changed:
        assert differing == {("prodcatalog-envoy", f"{ROOT}/envoy/prodcatalog-envoy/rds-proddetail.json")}
    else:
        assert differing == {("front-envoy", f"{ROOT}/envoy/front-envoy/cds.json")}


def test_routes_clusters_and_listeners_are_typed_resources_named_from_the_bootstrap():
    plan, files = _files(canaryWeight=30)
    prodcatalog = files["prodcatalog-envoy"]
    (route_config,) = _resources(prodcatalog, "prodcatalog-envoy", "rds-proddetail")
    assert route_config["@type"] == ROUTE_CONFIGURATION and route_config["name"] == "proddetail"
    (route,) = route_config["virtual_hosts"][0]["routes"]
    assert [c["weight"] for c in route["route"]["weighted_clusters"]["clusters"]] == [70, 30]
    assert {c["@type"] for c in _resources(prodcatalog, "prodcatalog-envoy", "cds")} == {CLUSTER}
    assert {c["name"] for c in _resources(prodcatalog, "prodcatalog-envoy", "cds")} == {"proddetail-v1", "proddetail-v2"}
    listeners = _resources(prodcatalog, "prodcatalog-envoy", "lds")
    assert {x["@type"] for x in listeners} == {LISTENER}
    hcm = next(x for x in listeners if x["name"] == "outbound-proddetail")["filter_chains"][0]["filters"][0]["typed_config"]
    assert "route_config" not in hcm
    assert hcm["rds"] == {"route_config_name": "proddetail", "config_source": {
        "path_config_source": {"path": f"{ROOT}/envoy/prodcatalog-envoy/rds-proddetail.json"},
        "resource_api_version": "V3"}}
    bootstrap = prodcatalog.bootstrap
    assert bootstrap["dynamic_resources"]["lds_config"]["path_config_source"]["path"] == (
        f"{ROOT}/envoy/prodcatalog-envoy/lds.json")
    assert {c["name"] for c in bootstrap["static_resources"]["clusters"]} == {"local-app", "trace-sink"}
    # clusters are written before the routes that name them, listeners last
    assert [p.rsplit("/", 1)[1] for p in prodcatalog.xds] == ["cds.json", "rds-inbound.json",
                                                              "rds-proddetail.json", "lds.json"]


def test_the_version_is_a_digest_of_the_resources():
    _, a = _files(canaryWeight=10)
    _, b = _files(canaryWeight=10)
    _, c = _files(canaryWeight=11)
    path = f"{ROOT}/envoy/prodcatalog-envoy/rds-proddetail.json"
    assert a["prodcatalog-envoy"].xds[path]["version_info"] == b["prodcatalog-envoy"].xds[path]["version_info"]
    assert a["prodcatalog-envoy"].xds[path]["version_info"] != c["prodcatalog-envoy"].xds[path]["version_info"]


def test_applied_versions_reads_the_config_dump_and_ignores_warming_resources():
    dump = {"configs": [
        {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "version_info": "c1"},
        {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "version_info": "l1",
         "dynamic_listeners": [{"name": "inbound", "active_state": {}}]},
        {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump", "dynamic_route_configs": [
            {"version_info": "r1", "route_config": {"name": "proddetail"}}]},
    ]}
    assert applied_versions(dump) == {"cds": "c1", "lds": "l1", "rds-proddetail": "r1"}
    dump["configs"][0]["dynamic_warming_clusters"] = [{"cluster": {"name": "blue"}}]
    dump["configs"][1]["dynamic_listeners"][0]["warming_state"] = {}
    assert applied_versions(dump) == {"rds-proddetail": "r1"}
