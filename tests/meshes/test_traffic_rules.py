"""Zero-trust traffic rules on the whole program's synth, for every registered backend: each layer
(NetworkPolicy ingress, NetworkPolicy egress, and on Istio AuthorizationPolicy) allows exactly the
model's edges (`celestials.topology.edges`), no more and no fewer, on the ports the callers
connect to; what pods may reach outside their mesh is exactly DNS, the collector, the backend's
control plane and the cloud API where a workload or proxy needs it. Negative tests widen one
rendered rule and watch the check fail.
"""

from __future__ import annotations

import copy

import pytest

from celestials.render.network_policies import DNS_POD_LABELS
from celestials.topology.edges import mesh_edges, public_entrances
from components.trace_collector import NAMESPACE as COLLECTOR_NS, OTLP_GRPC_PORT, OTLP_HTTP_PORT
from tests.appmesh.mesh_checks import broken, name, ns, of_kind
from tests.meshes.test_expectations import BACKENDS, MTLS, PC, _model, synth
from tests.meshes.traffic_checks import (ANY, UnsupportedRule, network_policy_edges, network_policy_problems,
                                         schema_field_names)
from tests.meshes.views import VIEWS

VPC_CIDR = "10.0.0.0/16"  # both stack files' default (celestials:vpcCidr); asserted below
NAMESPACES = {PC, MTLS}


def _settings_cidr(stack: str = "dev") -> str:
    from celestials.local.stack import load_settings
    from synth.harness import ROOT

    return load_settings(ROOT, stack, {}).vpc_cidr


def _expected(stack: str = "dev", *, public: bool, **overrides) -> set:
    out = set()
    for m in _model(stack, **overrides).meshes:
        out |= {(m.namespace, e.caller, e.callee) for e in mesh_edges(m)}
        if public:
            out |= {(m.namespace, ANY, gw) for gw in public_entrances(m)}
    return out


def _layers(backend: str, objects=None, stack: str = "dev", **overrides) -> dict[str, dict]:
    objects = synth(backend, stack, **overrides).manifests if objects is None else objects
    return VIEWS[backend].allowed_edges(objects, NAMESPACES, _settings_cidr(stack))


def _edge_problems(layers: dict[str, dict], stack: str = "dev", **overrides) -> list[str]:
    problems = []
    for layer, edges in layers.items():
        expected = _expected(stack, public="egress" not in layer, **overrides)
        if extra := set(edges) - expected:
            problems.append(f"{layer} allows undeclared calls {sorted(extra)}")
        if missing := expected - set(edges):
            problems.append(f"{layer} refuses declared calls {sorted(missing)}")
    return problems


def test_the_stacks_use_the_cidr_this_module_assumes():
    assert _settings_cidr("dev") == _settings_cidr("prod") == VPC_CIDR


def test_every_backend_has_both_network_policy_sides_and_istio_authorization():
    assert set(_layers("istio")) == {"NetworkPolicy ingress", "NetworkPolicy egress", "AuthorizationPolicy"}
    assert set(_layers("appmesh")) == {"NetworkPolicy ingress", "NetworkPolicy egress"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_allowed_edges_equal_the_models_edges(backend, stack):
    assert _edge_problems(_layers(backend, stack=stack), stack) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_zero_weight_canary_keeps_its_edges(backend):
    """A 0 % version stays declared (a weight change is a one-field change), so stays reachable."""
    assert _edge_problems(_layers(backend, canaryWeight="0"), canaryWeight="0") == []


def _callee_ports(objects, backend: str) -> dict[tuple[str, str], int]:
    """(namespace, workload or gateway) → the pod port its host Service targets: where callers connect."""
    out = {}
    for m in _model().meshes:
        hosts = {w.host: w.name for w in m.workloads} | {gw: gw for gw in public_entrances(m)}
        for s in of_kind(objects, "Service", m.namespace):
            if name(s) in hosts:
                [port] = s["spec"]["ports"]
                out[(m.namespace, hosts[name(s)])] = port["targetPort"]
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_edge_is_open_only_on_the_port_its_callers_connect_to(backend):
    objects = synth(backend).manifests
    ports = _callee_ports(objects, backend)
    for layer, edges in _layers(backend).items():
        for (namespace, _, callee), allowed in edges.items():
            expected = ({str(ports[(namespace, callee)])} if layer == "AuthorizationPolicy"
                        else {("TCP", ports[(namespace, callee)])})
            assert allowed == expected, f"{layer} {namespace}/{callee}: {allowed}"
    if backend == "istio":  # the demo's TLS port, not the app port, on blue and green
        assert ports[(MTLS, "blue")] == ports[(MTLS, "green")] == 8443 and ports[(MTLS, "red")] == 8080


def _outside(backend: str, **overrides):
    _, _, outside = network_policy_edges(synth(backend, **overrides).manifests, NAMESPACES, VPC_CIDR)
    return outside


def _dns():
    return (("namespace", "kube-system", tuple(sorted(DNS_POD_LABELS.items()))),
            frozenset({("UDP", 53), ("TCP", 53)}))


def _collector(*ports):
    return (("namespace", COLLECTOR_NS, ()), frozenset(("TCP", p) for p in ports))


CLOUD_API = (("cidr", "0.0.0.0/0", (VPC_CIDR,)), frozenset({("TCP", 443)}))
ISTIOD = (("namespace", "istio-system", (("app", "istiod"),)), frozenset({("TCP", 15012)}))


@pytest.mark.parametrize("tracing", [True, False])
@pytest.mark.parametrize("backend", BACKENDS)
def test_pods_reach_outside_their_mesh_only_what_they_need(backend, tracing):
    outside = _outside(backend, tracing=str(tracing).lower())
    per_backend = {"istio": ({ISTIOD}, {_collector(OTLP_HTTP_PORT, OTLP_GRPC_PORT)}),
                   "appmesh": ({CLOUD_API}, {_collector(OTLP_HTTP_PORT)})}
    control, collector = per_backend[backend]
    every_pod = {_dns(), *control, *(collector if tracing else ())}
    pods = {(ns(d), name(d)) for d in of_kind(synth(backend).manifests, "Deployment") if ns(d) in NAMESPACES}
    assert set(outside) == pods
    for pod, destinations in outside.items():
        expected = every_pod | ({CLOUD_API} if pod == (PC, "prodcatalog") else set())
        assert destinations == expected, pod


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_mesh_namespace_denies_by_default(backend):
    objects = synth(backend).manifests
    for namespace in NAMESPACES:
        denies = [p for p in of_kind(objects, "NetworkPolicy", namespace)
                  if p["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}]
        assert len(denies) == 1, namespace
        if backend == "istio":
            assert [p for p in of_kind(objects, "AuthorizationPolicy", namespace) if p["spec"] == {}], namespace


@pytest.mark.parametrize("backend", BACKENDS)
def test_network_policies_have_the_kubernetes_shape(backend):
    assert network_policy_problems(synth(backend).manifests) == []


def test_the_shape_check_knows_only_fields_the_kubernetes_sdk_knows():
    """Every field the hand-written shape allows is a parameter of the Kubernetes SDK's typed
    NetworkPolicy inputs (the SDK is generated from the Kubernetes OpenAPI)."""
    import inspect

    from pulumi_kubernetes import _tables
    from pulumi_kubernetes.meta.v1 import _inputs as meta
    from pulumi_kubernetes.networking.v1 import _inputs as networking

    classes = [getattr(networking, n) for n in dir(networking) if n.startswith("NetworkPolicy") and n.endswith("Args")
               or n in ("IPBlockArgs",)]
    classes += [meta.LabelSelectorArgs, meta.LabelSelectorRequirementArgs, meta.ObjectMetaArgs]
    sdk = {_tables.SNAKE_TO_CAMEL_CASE_TABLE.get(p.lstrip("_"), p.lstrip("_"))
           for c in classes for p in inspect.signature(c.__init__).parameters if p not in ("self", "__self__")}
    assert {"podSelector", "ipBlock", "except", "from", "endPort", "matchLabels"} <= sdk
    assert schema_field_names() - sdk == set()


@pytest.mark.parametrize("mutate,expected", [
    (lambda o: o["spec"]["ingress"][0]["ports"][0].update(prot="TCP"), "prot"),
    (lambda o: o["spec"]["ingress"][0]["from"][0].update(podSelectors={}), "podSelectors"),
    (lambda o: o["spec"].update(policyTypes=["Inbound"]), "Inbound"),
    (lambda o: o["spec"]["ingress"][0]["from"][0].update(ipBlock={"cidr": "0.0.0.0/0"}), "combined"),
])
def test_the_shape_check_catches_a_broken_policy(mutate, expected):
    problems = network_policy_problems(broken(synth("istio").manifests, "NetworkPolicy", "allow-prodcatalog", mutate))
    assert problems and any(expected in p for p in problems), problems


# --- negative: a widened rule is an undeclared edge ----------------------------------------------
def _peer(labels):
    return {"podSelector": {"matchLabels": labels}}


FRONTEND = {"app": "frontend-node", "workload": "frontend-node"}
PROD_V1 = {"app": "proddetail", "workload": "proddetail-v1", "version": "v1"}

NP_BREAKS = {
    "a caller added to a callee's ingress": (
        "allow-proddetail-v1", lambda o: o["spec"]["ingress"][0]["from"].append(_peer(FRONTEND)),
        "NetworkPolicy ingress allows undeclared calls [('prodcatalog-ns', 'frontend-node', 'proddetail-v1')]"),
    "a callee added to a caller's egress": (
        "allow-frontend-node", lambda o: o["spec"]["egress"].append({"to": [_peer(PROD_V1)]}),
        "NetworkPolicy egress allows undeclared calls [('prodcatalog-ns', 'frontend-node', 'proddetail-v1')]"),
    "an ingress rule without peers": (
        "allow-prodcatalog", lambda o: o["spec"]["ingress"][0].pop("from"),
        "NetworkPolicy ingress allows undeclared calls [('prodcatalog-ns', '*', 'prodcatalog')]"),
    "a cloud rule that reaches the pods": (
        "allow-prodcatalog", lambda o: o["spec"]["egress"][-1]["to"][0]["ipBlock"].pop("except"),
        "NetworkPolicy egress allows undeclared calls [('prodcatalog-ns', 'prodcatalog', '*')]"),
    "a declared edge dropped": (
        "allow-proddetail-v2", lambda o: o["spec"].pop("ingress"),
        "NetworkPolicy ingress refuses declared calls [('prodcatalog-ns', 'prodcatalog', 'proddetail-v2')]"),
    "a pod left without rules": (
        "allow-front", lambda o: o["spec"]["podSelector"]["matchLabels"].update(workload="nobody"),
        None),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(NP_BREAKS))
def test_a_widened_network_policy_fails_the_check(backend, case):
    policy, mutate, expected = NP_BREAKS[case]
    objects = broken(synth(backend).manifests, "NetworkPolicy", policy, mutate)
    if case == "a pod left without rules":  # front is still under default-deny: it only loses its calls ...
        assert _edge_problems(_layers(backend, objects)) == [
            "NetworkPolicy egress refuses declared calls [('mtls', 'front', 'blue'), ('mtls', 'front', 'green'), "
            "('mtls', 'front', 'red')]"]
        # ... until the deny goes too: then anything may call it
        objects = [o for o in objects if not (o["kind"] == "NetworkPolicy" and name(o) == "default-deny"
                                              and ns(o) == MTLS)]
        problems = _edge_problems(_layers(backend, objects))
        assert any("('mtls', '*', 'front')" in p for p in problems), problems
        return
    problems = _edge_problems(_layers(backend, objects))
    assert expected in problems, problems


AUTHZ_BREAKS = {
    "an undeclared principal": (
        "allow-proddetail-v1",
        lambda o: o["spec"]["rules"][0]["from"][0]["source"]["principals"].append(
            "cluster.local/ns/prodcatalog-ns/sa/frontend-node"),
        "AuthorizationPolicy allows undeclared calls [('prodcatalog-ns', 'frontend-node', 'proddetail-v1')]"),
    "a rule without a source on an mTLS port": (
        "allow-prodcatalog", lambda o: o["spec"]["rules"][0].pop("from"),
        "AuthorizationPolicy allows undeclared calls [('prodcatalog-ns', '*', 'prodcatalog')]"),
    "the allow-nothing policy removed": (
        "allow-nothing", lambda o: o["spec"].update(selector={"matchLabels": {"workload": "nobody"}}),
        "AuthorizationPolicy allows undeclared calls [('mtls', '*', 'front')]"),
    "a declared caller dropped": (
        "allow-red", lambda o: o["spec"]["rules"][0]["from"][0]["source"].update(principals=["cluster.local/ns/mtls/sa/red"]),
        "AuthorizationPolicy refuses declared calls [('mtls', 'front', 'red')]"),
}


@pytest.mark.parametrize("case", sorted(AUTHZ_BREAKS))
def test_a_widened_authorization_policy_fails_the_check(case):
    policy, mutate, expected = AUTHZ_BREAKS[case]
    objects = copy.deepcopy(synth("istio").manifests)
    [target] = [o for o in objects if o["kind"] == "AuthorizationPolicy" and name(o) == policy
                and (policy != "allow-nothing" or ns(o) == MTLS)]
    mutate(target)
    problems = _edge_problems(_layers("istio", objects))
    assert any(p.startswith(expected.rsplit(" [", 1)[0]) and expected.rsplit(" [", 1)[1][:-1] in p
               for p in problems), problems


def test_the_demo_tls_port_admits_only_the_callers_its_sidecar_accepts():
    """blue's rule has no source (the demo's TLS carries no Istio identity): its callers are those
    the Sidecar's MUTUAL TLS admits by the SANs its EnvoyFilter pins. Widen those SANs and the
    check reports the new caller."""
    def accept_red_too(o):
        context = o["spec"]["configPatches"][0]["patch"]["value"]["transport_socket"]["typed_config"]
        sans = context["common_tls_context"]["combined_validation_context"]["default_validation_context"]
        sans["match_typed_subject_alt_names"].append({"san_type": "DNS",
                                                      "matcher": {"exact": "color-red.mtls.svc.cluster.local"}})

    objects = broken(synth("istio").manifests, "EnvoyFilter", "blue-client-sans", accept_red_too)
    problems = _edge_problems(_layers("istio", objects))
    assert any("('mtls', 'red', 'blue')" in p and "AuthorizationPolicy allows" in p for p in problems), problems


def test_rules_this_check_cannot_judge_are_refused():
    def add_condition(o):
        o["spec"]["rules"][0]["when"] = [{"key": "request.headers[x]", "values": ["1"]}]

    objects = broken(synth("istio").manifests, "AuthorizationPolicy", "allow-prodcatalog", add_condition)
    with pytest.raises(UnsupportedRule):
        _layers("istio", objects)


# --- ordering and the cluster --------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_no_pod_starts_before_its_rules_and_the_deny_comes_last(backend):
    result = synth(backend)
    by_key = {(r["type"].rsplit(":", 1)[-1], r["inputs"]["metadata"].get("namespace"), r["inputs"]["metadata"]["name"]): r
              for r in result.resources if r["type"].startswith("kubernetes:") and "metadata" in r.get("inputs", {})
              and isinstance(r["inputs"]["metadata"], dict) and "name" in r["inputs"]["metadata"]}
    rule_kinds = ("NetworkPolicy", "AuthorizationPolicy")
    for namespace in NAMESPACES:
        rules = [r for (kind, n, _), r in by_key.items() if kind in rule_kinds and n == namespace]
        deployments = [r for (kind, n, _), r in by_key.items() if kind == "Deployment" and n == namespace]
        assert rules and deployments
        for d in deployments:
            for r in rules:
                assert result.depends_on(d["urn"], r["urn"]), (d["urn"], r["urn"])
        for kind, deny_name in (("NetworkPolicy", "default-deny"), ("AuthorizationPolicy", "allow-nothing")):
            if (kind, namespace, deny_name) not in by_key:
                continue
            deny = by_key[(kind, namespace, deny_name)]
            for r in rules:
                if r is not deny and r["type"].endswith(kind):
                    assert result.depends_on(deny["urn"], r["urn"]), (deny["urn"], r["urn"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_cluster_enforces_network_policies(backend):
    eks = synth(backend).get("eks:index:Cluster", "cluster-eks")["inputs"]
    assert eks["vpcCniOptions"]["enableNetworkPolicy"] is True
