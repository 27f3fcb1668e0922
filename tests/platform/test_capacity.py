"""The capacity model: node allocatable per the EKS AMI formulas, pod demand with injected
sidecars, and the check that fails preview with the shortfall."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from celestials import capacity as cap
from celestials.settings import parse_settings
from celestials.topology import build_topology
from tools.reference import REFERENCE, SKIP_HINT

ROOT = Path(__file__).resolve().parents[2]
CHART_VALUES = REFERENCE / "appmesh" / "chart-values-1.13.3.yaml"


def _settings(stack="dev", **raw):
    """`stack="prod"`: a production stack (the name is only a name)."""
    if stack == "prod":
        raw.setdefault("production", True)
        raw.setdefault("nodeCount", 2)
        raw.setdefault("endpointPublicAccess", False)
        raw.setdefault("requestPathReplicas", 2)
        raw.setdefault("natGateways", 2)
    return parse_settings(raw, stack)


#: A mesh for the engine's own tests: two 10m/32Mi sidecars and an init container per meshed
#: pod, one beside the gateway, and a controller pod (the App Mesh shape, fixed here so these
#: tests do not move when a backend's numbers do; each backend's tests check its own numbers).
PROXY = cap.Requests(10, 32)
SIDECARS = cap.Sidecars(containers=(PROXY, PROXY), init=(PROXY,), gateway=(PROXY,))
OVERHEAD = cap.MeshOverhead(SIDECARS, system=(cap.PodDemand("mesh-system/controller", cap.Requests(100, 200)),))


def _check(s, **kw):
    return cap.check_capacity(s, build_topology(s), OVERHEAD, **kw)


def _deployed_overhead(s):
    """What the stack's own backend and the trace collector add, as __main__.py counts them."""
    from components import mesh_backends, trace_collector

    return mesh_backends.BACKENDS[s.mesh_backend]().capacity_overhead(s), trace_collector.pod_demands(s)


# --- node side ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name,expected", [
    # values of awslabs/amazon-eks-ami's eni-max-pods.txt
    ("t3.medium", 17), ("t3.large", 35), ("t3.xlarge", 58), ("m5.large", 29), ("m5.xlarge", 58),
    ("m6i.large", 29), ("m6i.2xlarge", 58), ("c6i.large", 29), ("r6i.xlarge", 58),
])
def test_max_pods_follow_the_eni_formula(name, expected):
    assert cap.instance_type(name).max_pods == expected


@pytest.mark.parametrize("vcpus,expected", [(1, 60), (2, 70), (4, 80), (8, 90), (16, 110)])
def test_cpu_reserve_is_the_nodeadm_step_function(vcpus, expected):
    assert cap.kube_reserved_cpu_m(vcpus) == expected


def test_memory_reserve_is_11_mib_per_pod_plus_255():
    assert cap.kube_reserved_memory_mi(29) == 574
    assert cap.kube_reserved_memory_mi(58) == 893


def test_allocatable_subtracts_reserve_and_eviction_threshold():
    a = cap.NodeAllocatable.of(cap.instance_type("m6i.xlarge"))
    assert a.cpu_m == 4000 - 80
    assert a.memory_mi == int(16 * 1024 * 0.925) - 893 - 100
    assert a.pods == 58


def test_unknown_instance_type_is_refused_naming_the_key():
    with pytest.raises(cap.CapacityError, match=r"celestials:instanceType = 'x9z\.large'.*m6i\.xlarge"):
        cap.instance_type("x9z.large")
    with pytest.raises(cap.CapacityError, match="instanceType"):
        _check(_settings(instanceType="m6g.large"))


# --- demand side -------------------------------------------------------------------------------
def test_pod_request_is_max_of_container_sum_and_largest_init():
    r = cap.pod_requests([cap.Requests(100, 64), cap.Requests(10, 32)], [cap.Requests(50, 500)])
    assert r == cap.Requests(110, 500)


def test_every_meshed_pod_carries_envoy_xray_and_counts_replicas():
    s = _settings(prodcatalogReplicas=3)
    demands = {d.name: d for d in cap.mesh_demands(build_topology(s), SIDECARS)}
    prodcatalog = demands["prodcatalog-ns/prodcatalog"]
    w = build_topology(s).mesh_in("prodcatalog-ns").workload("prodcatalog")
    assert prodcatalog.replicas == 3 and prodcatalog.surge == 1
    assert prodcatalog.requests == cap.Requests(w.resources.cpu_request_m + 20, w.resources.memory_request_mi + 64)
    gateway = demands["prodcatalog-ns/ingress-gw"]
    g = build_topology(s).mesh_in("prodcatalog-ns").gateway
    assert gateway.requests == cap.Requests(g.resources.cpu_request_m + 10, g.resources.memory_request_mi + 32)


def test_fewer_sidecars_mean_smaller_pods():
    one = cap.MeshOverhead(cap.Sidecars(containers=(PROXY,), init=(PROXY,)))
    on = cap.stack_demands(build_topology(_settings()), OVERHEAD)
    off = cap.stack_demands(build_topology(_settings()), one)
    by_name = {d.name: d.requests for d in off}
    for d in on:
        if d.name.startswith("prodcatalog-ns/"):
            assert by_name[d.name] == cap.Requests(d.requests.cpu_m - 10, d.requests.memory_mi - 32)
    assert "mesh-system/controller" not in by_name


def test_quantities_parse_like_kubernetes():
    assert cap.parse_cpu("250m") == 250 and cap.parse_cpu("0.5") == 500 and cap.parse_cpu(2) == 2000
    assert cap.parse_memory("128Mi") == 128 and cap.parse_memory("1Gi") == 1024
    assert cap.parse_memory("512Ki") == 1 and cap.parse_memory("100M") == 96
    with pytest.raises(cap.CapacityError, match="cannot read CPU"):
        cap.parse_cpu("lots")


def test_demands_from_rendered_manifests():
    objs = [
        {"kind": "Deployment", "metadata": {"name": "otel-collector", "namespace": "observability"},
         "spec": {"replicas": 2, "template": {"spec": {
             "containers": [{"name": "c", "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}}}],
             "initContainers": [{"name": "i", "resources": {"requests": {"memory": "1Gi"}}}]}}}},
        {"kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "obs"},
         "spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}},
        {"kind": "Service", "metadata": {"name": "ignored"}},
    ]
    d = cap.demands_from_manifests(objs)
    assert [x.name for x in d] == ["observability/otel-collector", "obs/agent"]
    assert d[0].requests == cap.Requests(200, 1024) and d[0].replicas == 2 and d[0].surge == 1
    assert d[1].per_node and d[1].requests == cap.ZERO


# --- the check ---------------------------------------------------------------------------------
def test_dev_default_fits_everything_on_one_node_with_margin():
    s = _settings()
    assert s.node_count == 1
    overhead, collector = _deployed_overhead(s)
    report = cap.check_capacity(s, build_topology(s), overhead, extra=collector)
    assert report.fits and report.nodes == 1
    # keep at least a quarter of the node free for what is not modelled (image pulls, bursts)
    assert report.requested.cpu_m <= 0.75 * report.allocatable.cpu_m
    assert report.requested.memory_mi <= 0.75 * report.allocatable.memory_mi


def test_prod_default_fits_on_its_nodes():
    s = _settings("prod")
    overhead, collector = _deployed_overhead(s)
    assert cap.check_capacity(s, build_topology(s), overhead, extra=collector).fits


def test_daemonsets_are_counted_on_every_node():
    one = cap.plan_capacity("m6i.xlarge", 1, list(cap.EKS_SYSTEM_PODS))
    three = cap.plan_capacity("m6i.xlarge", 3, list(cap.EKS_SYSTEM_PODS))
    assert three.requested.cpu_m - one.requested.cpu_m == 2 * (50 + 100)
    assert three.pods - one.pods == 2 * 2


def test_too_small_a_node_fails_with_the_shortfall_and_the_pods():
    s = _settings(instanceType="t3.medium")
    with pytest.raises(cap.CapacityError) as err:
        _check(s)
    msg = str(err.value)
    assert "1 × t3.medium" in msg and "CPU short by" in msg
    assert "Pods that cannot be scheduled:" in msg and "celestials:nodeCount" in msg


def test_too_many_replicas_fail_preview():
    s = _settings(prodcatalogReplicas=20)
    report = cap.plan_capacity(s.instance_type, 1, cap.stack_demands(build_topology(s), OVERHEAD))
    assert report.requested.cpu_m > report.allocatable.cpu_m
    with pytest.raises(cap.CapacityError,
                       match=f"CPU short by {report.requested.cpu_m - report.allocatable.cpu_m}m"):
        _check(s)


def test_max_pods_limit_is_enforced():
    many = [cap.PodDemand("ns/tiny", cap.Requests(1, 1), replicas=60)]
    report = cap.plan_capacity("m6i.xlarge", 1, many)
    assert not report.fits and len(report.unplaced) == 60 - 58


def test_a_pod_larger_than_any_node_is_reported_even_if_the_total_fits():
    big = cap.PodDemand("ns/big", cap.Requests(100, 8000))  # more memory than one m6i.large has
    s = _settings("prod", instanceType="m6i.large")
    with pytest.raises(cap.CapacityError, match="not on any single node.*ns/big"):
        _check(s, extra=[big])


def test_surge_can_be_left_out():
    s = _settings(instanceType="m6i.large")
    t = build_topology(s)
    with pytest.raises(cap.CapacityError, match="rollout surge"):
        cap.check_capacity(s, t, OVERHEAD)
    assert cap.check_capacity(s, t, OVERHEAD, surge=False).fits


@pytest.mark.skipif(not CHART_VALUES.exists(), reason=f"{CHART_VALUES} absent ({SKIP_HINT})")
def test_app_mesh_sidecar_and_controller_requests_match_the_chart_defaults():
    from components.appmesh.backend import controller_pod, sidecars
    from components.appmesh.controller import CONTROLLER_RESOURCES, chart_values

    values = yaml.safe_load(CHART_VALUES.read_text())
    req = cap.requests_of(values["sidecar"]["resources"]["requests"])
    assert sidecars(tracing=True) == cap.Sidecars(containers=(req, req), init=(req,), gateway=(req,))
    # the controller's resources are the chart's defaults, stated; its replicas those the release gets
    assert CONTROLLER_RESOURCES["requests"] == values["resources"]["requests"]
    assert CONTROLLER_RESOURCES["limits"]["memory"] == values["resources"]["limits"]["memory"]
    for replicas in (1, 2):
        pod = controller_pod(_settings(requestPathReplicas=replicas))
        assert pod.requests == cap.requests_of(values["resources"]["requests"])
        assert pod.replicas == chart_values("us-west-2", True, replicas, node_architecture="amd64")["replicaCount"] == replicas


def test_demand_from_requests_mappings():
    d = cap.PodDemand.of("observability/otel-collector", {"cpu": "50m", "memory": "128Mi"}, replicas=2)
    assert d.requests == cap.Requests(50, 128) and d.replicas == 2 and d.surge == 1
    assert cap.requests_of({"cpu": "0.25", "memory": "1Gi"}) == cap.Requests(250, 1024)


def _registered_backends():
    from components import mesh_backends

    return sorted(mesh_backends.BACKENDS)


@pytest.mark.parametrize("backend", _registered_backends())
def test_every_backend_fits_the_dev_default_with_a_quarter_free(backend):
    """What each registered backend deploys, with the collector, as __main__.py wires the check
    (docs/platform.md has the figures)."""
    s = _settings(meshBackend=backend, appMeshEndOfSupportAcknowledged=True)
    overhead, collector = _deployed_overhead(s)
    report = cap.check_capacity(s, build_topology(s), overhead, extra=collector)
    assert report.requested.cpu_m <= 0.75 * report.allocatable.cpu_m
    assert report.requested.memory_mi <= 0.75 * report.allocatable.memory_mi


def _prod(**raw):
    return parse_settings({"production": "true", "endpointPublicAccess": "false", "requestPathReplicas": 2,
                           "nodeMaxCount": 6, "natGateways": 2, **raw}, "prod")


def test_prod_must_still_fit_with_one_node_gone():
    """Two c6i.large hold prod's pods (with rollout surge), one does not: refused, naming N-1."""
    from components import mesh_backends, trace_collector

    s = _prod(nodeCount=2, instanceType="c6i.large")
    overhead = mesh_backends.BACKENDS[s.mesh_backend]().capacity_overhead(s)
    assert cap.plan_capacity("c6i.large", 2, cap.stack_demands(build_topology(s), overhead,
                                                               trace_collector.pod_demands(s))).fits
    with pytest.raises(cap.CapacityError, match=r"would not survive losing one of its 2 nodes.*1 × c6i\.large"):
        cap.check_capacity(s, build_topology(s), overhead, extra=trace_collector.pod_demands(s))
    three = _prod(nodeCount=3, instanceType="c6i.large")
    assert cap.check_capacity(three, build_topology(three), overhead, extra=trace_collector.pod_demands(three)).fits


def test_only_production_is_held_to_node_loss_whatever_the_stack_is_called():
    from components import mesh_backends, trace_collector

    for stack in ("dev", "prod"):
        s = parse_settings({"instanceType": "c6i.large", "nodeCount": 2, "production": "false"}, stack)
        assert cap.check_node_loss(s, build_topology(s), OVERHEAD) is None
    for stack in ("production", "prod-eu"):
        one = replace(_prod(nodeCount=2), stack=stack, node_count=1)  # the settings refuse it first: bypassed
        with pytest.raises(cap.CapacityError, match=f"stack {stack} is production .* must survive losing a node, "
                                                    "which needs celestials:nodeCount >= 2, not 1"):
            cap.check_node_loss(one, build_topology(one), OVERHEAD)
        two = replace(_prod(nodeCount=2, instanceType="c6i.large"), stack=stack)
        overhead = mesh_backends.BACKENDS[two.mesh_backend]().capacity_overhead(two)
        with pytest.raises(cap.CapacityError, match=f"stack {stack} would not survive losing one of its 2 nodes"):
            cap.check_capacity(two, build_topology(two), overhead, extra=trace_collector.pod_demands(two))


# --- issue 10.4: autoscalers within the node group's room --------------------------------------
def test_each_autoscaler_is_counted_at_its_max_on_the_full_node_group_and_at_its_min_for_n_minus_1():
    s = _prod(nodeCount=3, autoscaleMaxReplicas=5)
    topology = build_topology(s)
    demands = {d.name: d for d in cap.stack_demands(topology, OVERHEAD, system=cap.system_pods(s))}
    assert demands["prodcatalog-ns/frontend-node"].replicas == 2
    assert demands["prodcatalog-ns/frontend-node"].max_replicas == 5
    assert "kube-system/metrics-server" in demands
    at_max = {d.name: d for d in cap.stack_demands(topology, OVERHEAD, scaled_out=True)}
    assert at_max["prodcatalog-ns/frontend-node"].replicas == 5
    assert at_max["prodcatalog-ns/frontend-node"].surge == cap.rolling_surge(5)
    assert at_max["mesh-system/controller"].replicas == 1  # not autoscaled: unchanged
    report = cap.check_capacity(s, topology, OVERHEAD)
    fixed = cap.plan_capacity(s.instance_type, 3, cap.stack_demands(topology, OVERHEAD, system=cap.system_pods(s)))
    # the report is the plan at the max: 5 request-path Deployments × 3 more pods (plus surge)
    assert report.pods > fixed.pods + 5 * 3


def test_a_max_that_does_not_fit_is_refused_naming_the_key_its_value_and_what_fits():
    s = _prod(nodeCount=2, instanceType="c6i.xlarge", autoscaleMaxReplicas=40)
    with pytest.raises(cap.CapacityError) as err:
        cap.check_capacity(s, build_topology(s), OVERHEAD)
    message = str(err.value)
    assert message.startswith("celestials:autoscaleMaxReplicas = 40: with every autoscaler at that max")
    fitting = int(message.split("to at most ")[1].split(",")[0])
    assert 3 <= fitting < 40  # 3: prodcatalog's replicas, the autoscalers' floor
    ok = _prod(nodeCount=2, instanceType="c6i.xlarge", autoscaleMaxReplicas=fitting)
    assert cap.check_capacity(ok, build_topology(ok), OVERHEAD).fits
    over = _prod(nodeCount=2, instanceType="c6i.xlarge", autoscaleMaxReplicas=fitting + 1)
    with pytest.raises(cap.CapacityError, match=f"autoscaleMaxReplicas = {fitting + 1}"):
        cap.check_capacity(over, build_topology(over), OVERHEAD)


def test_the_default_max_is_named_as_the_stack_default_when_refused():
    s = _prod(nodeCount=3, instanceType="c6i.large", requestPathReplicas=4, prodcatalogReplicas=4)
    assert s.autoscale_max == 8
    assert cap.check_node_loss(s, build_topology(s), OVERHEAD).fits  # at the minimum all is well
    with pytest.raises(cap.CapacityError, match=r"autoscaleMaxReplicas \(unset: a production stack's default, 8\)"):
        cap.check_capacity(s, build_topology(s), OVERHEAD)
