"""One backend-neutral expectation suite, run on the whole program's synth output (`make synth`,
the real __main__.py) for every registered mesh backend: what the model says, every backend does.

Each backend's objects are read back through its view (tests/meshes/views.py); a backend that is
registered without a view fails here, so a new backend cannot skip the suite.
"""

from __future__ import annotations

import pytest

from celestials import pki
from celestials.local.stack import load_settings
from celestials.topology import build_topology, colorapp, productcatalog
from components import mesh_backends
from components.trace_collector import OTLP_ENDPOINT, OTLP_GRPC_PORT, SERVICE_HOST
from synth.harness import BACKEND_SELECTION as SELECT
from synth.harness import ROOT
from tests.support.backend_synth import synth
from tests.appmesh.mesh_checks import name, ns, of_kind
from tests.meshes.views import VIEWS

BACKENDS = sorted(mesh_backends.BACKENDS)
PC, MTLS = productcatalog.NAMESPACE, colorapp.NAMESPACE


def test_every_registered_backend_has_a_view_and_a_selection():
    assert set(mesh_backends.BACKENDS) == set(VIEWS) == set(SELECT)


def _model(stack: str = "dev", **overrides):
    return build_topology(load_settings(ROOT, stack, overrides))


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_routed_host_is_a_service_of_the_model(backend, stack):
    splits = VIEWS[backend].splits(synth(backend, stack).manifests)
    model = _model(stack)
    routed = {(m.namespace, s.name) for m in model.meshes for s in m.services if s.router}
    assert set(splits) == routed
    for (namespace, service), targets in splits.items():
        mesh = model.mesh_in(namespace)
        expected = {mesh.workload(w).host for w in mesh.service_workloads(service)}
        assert set(targets) == expected, f"{namespace}/{service}"
    services = {(ns(s), name(s)) for s in of_kind(synth(backend, stack).manifests, "Service")}
    for m in model.meshes:
        assert {(m.namespace, h) for h in m.hosts()} <= services


@pytest.mark.parametrize("weight", [0, 50, 100])
@pytest.mark.parametrize("backend", BACKENDS)
def test_canary_weights_equal_the_setting(backend, weight):
    splits = VIEWS[backend].splits(synth(backend, canaryWeight=str(weight)).manifests)
    assert splits[(PC, "proddetail")] == {"proddetail-v1": 100 - weight, "proddetail-v2": weight}


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_meshed_pod_sits_in_an_injected_namespace(backend):
    objects = synth(backend).manifests
    model = _model()
    injected = VIEWS[backend].injected_namespaces(objects)
    assert injected == {m.namespace for m in model.meshes}
    meshed = {(ns(d), name(d)) for d in of_kind(objects, "Deployment") if ns(d) in injected}
    assert {(m.namespace, w.name) for m in model.meshes for w in m.workloads} <= meshed


@pytest.mark.parametrize("backend", BACKENDS)
def test_ingress_reaches_the_front_end_only(backend):
    assert VIEWS[backend].ingress_targets(synth(backend).manifests) == {(PC, "frontend-node")}


@pytest.mark.parametrize("trust", sorted(colorapp.TRUSTS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_tls_uses_the_issued_secrets_and_trust_follows_the_setting(backend, trust):
    tls = VIEWS[backend].tls(synth(backend, mtlsTrust=trust).manifests)
    mesh = _model(mtlsTrust=trust).mesh_in(MTLS)
    with_tls = {(MTLS, w.name): w for w in mesh.workloads if colorapp.tls_mount(w)}
    assert set(tls) == set(with_tls)
    for key, w in with_tls.items():
        assert tls[key]["secrets"] == [s.name for s in colorapp.tls_mount(w)], key
        assert tls[key]["files"] <= set(colorapp.mounted_files(w)), key
        assert tls[key]["named"] <= tls[key]["mounted"], key
    assert tls[(MTLS, "front")]["client_trust"] == pki.trust_file(colorapp.TRUSTS[trust])
    for color in ("blue", "green"):
        assert tls[(MTLS, color)]["server_trust"] == pki.trust_file((colorapp.CA1,))
    assert (MTLS, "red") not in tls


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_collector_receives_from_every_app_and_the_proxies_trace(backend):
    result = synth(backend)
    apps = {(m.namespace, w.name) for m in _model().meshes for w in m.workloads}
    for d in of_kind(result.manifests, "Deployment"):
        if (ns(d), name(d)) in apps:
            env = {e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == OTLP_ENDPOINT, name(d)
    # Istio's proxies export to the same collector; App Mesh's Envoys to their X-Ray daemons.
    expected = {"istio": {f"{SERVICE_HOST}:{OTLP_GRPC_PORT}"}, "appmesh": {"x-ray-daemon"}}
    assert VIEWS[backend].proxy_span_sinks(result) == expected[backend]
    assert result.by_type("celestials:tracing:Collector")


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_tracing_nothing_exports(backend):
    result = synth(backend, tracing="false")
    assert not result.by_type("celestials:tracing:Collector")
    assert VIEWS[backend].proxy_span_sinks(result) == set()


def _probe_ports(deployment) -> set[int]:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    ports = set()
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        port = container[probe]["httpGet"]["port"]
        ports.add(named[port] if isinstance(port, str) else port)
    return ports


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_kubelet_probe_targets_a_port_that_requires_client_certificates(backend):
    """The kubelet presents no client certificate: a probe on such a port never passes and the
    pod never becomes Ready (issue 13.1; App Mesh's troubleshooting guide names this)."""
    result = synth(backend)
    guarded = VIEWS[backend].client_cert_ports(result)
    assert {key[1] for key in guarded} == {"blue", "green"}
    for d in of_kind(result.manifests, "Deployment"):
        if (ns(d), name(d)) in guarded:
            assert not _probe_ports(d) & guarded[(ns(d), name(d))], f"{ns(d)}/{name(d)} probes a client-cert port"


@pytest.mark.parametrize("backend", BACKENDS)
def test_prod_request_path_survives_losing_a_node_or_a_zone(backend):
    """Every Deployment on the request path (gateway, frontend-node, prodcatalog, proddetail v1/v2)
    runs at least two replicas, required spread across zones, with a PodDisruptionBudget; the mesh
    control plane runs two replicas too (issue 10, point 4)."""
    result = synth(backend, "prod")
    objects = result.manifests
    request_path = {"ingress-gw", "frontend-node", "prodcatalog", "proddetail-v1", "proddetail-v2"}
    budgets = {name(p): p for p in of_kind(objects, "PodDisruptionBudget", PC)}
    hpa_min = {name(h): h["spec"]["minReplicas"] for h in of_kind(objects, "HorizontalPodAutoscaler", PC)}
    for d in of_kind(objects, "Deployment", PC):
        if name(d) not in request_path:
            continue
        assert d["spec"].get("replicas", hpa_min.get(name(d), 1)) >= 2, name(d)
        spread = {c["topologyKey"]: c["whenUnsatisfiable"] for c in d["spec"]["template"]["spec"]["topologySpreadConstraints"]}
        assert spread["topology.kubernetes.io/zone"] == "DoNotSchedule", name(d)
        assert budgets[name(d)]["spec"]["maxUnavailable"] == 1
        assert budgets[name(d)]["spec"]["selector"] == d["spec"]["selector"]
    assert request_path <= {name(d) for d in of_kind(objects, "Deployment", PC)}
    # The split is a route weight per version (an HTTPRoute backend, an App Mesh weighted target),
    # not a count of pods: it stays exact whatever each version's HPA scales it to (their
    # Deployments carry no replica count at all; the HPAs own it, from 2 up to the max).
    assert {"proddetail-v1", "proddetail-v2"} <= set(hpa_min)
    assert all("replicas" not in d["spec"] for d in of_kind(objects, "Deployment", PC)
               if name(d) in ("proddetail-v1", "proddetail-v2"))
    assert VIEWS[backend].splits(objects)[(PC, "proddetail")] == {"proddetail-v1": 90, "proddetail-v2": 10}
    if backend == "istio":
        [istiod] = [r for r in result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "istiod"]
        assert istiod["inputs"]["values"]["replicaCount"] >= 2
    dev = synth(backend)
    assert not of_kind(dev.manifests, "PodDisruptionBudget", MTLS)  # single replicas: no budget to block drains


REQUEST_PATH = {"ingress-gw", "frontend-node", "prodcatalog", "proddetail-v1", "proddetail-v2"}


def _autoscalers(objects) -> dict[tuple[str, str], dict]:
    return {(ns(h), name(h)): h for h in of_kind(objects, "HorizontalPodAutoscaler")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_prod_request_path_autoscales_from_its_replicas_and_leaves_the_count_to_the_hpa(backend):
    """Issue 10.4: in prod an HPA (autoscaling/v2, CPU) for exactly the request-path Deployments,
    targeting each by name, min = the model's replicas (≥ 2), max = the stack's autoscaler max;
    such a Deployment carries no spec.replicas (server-side apply would reset the HPA's count)."""
    objects = synth(backend, "prod").manifests
    settings = load_settings(ROOT, "prod", SELECT[backend])
    mesh = build_topology(settings).mesh_in(PC)
    replicas = {w.name: w.replicas for w in mesh.workloads} | {mesh.gateway.name: mesh.gateway.replicas}
    hpas = _autoscalers(objects)
    assert set(hpas) == {(PC, n) for n in REQUEST_PATH}
    deployments = {(ns(d), name(d)): d for d in of_kind(objects, "Deployment")}
    for (namespace, hpa_name), hpa in hpas.items():
        spec = hpa["spec"]
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": hpa_name}
        assert (namespace, hpa_name) in deployments
        assert "replicas" not in deployments[(namespace, hpa_name)]["spec"], hpa_name
        assert spec["minReplicas"] == replicas[hpa_name] >= 2
        assert spec["maxReplicas"] == settings.autoscale_max > spec["minReplicas"]
        [metric] = spec["metrics"]
        assert metric["resource"]["name"] == "cpu" and metric["resource"]["target"]["type"] == "Utilization"
    assert not _autoscalers(synth(backend).manifests)  # dev: single replicas, no autoscalers


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_prod_deployment_autoscales_from_two_or_says_why_it_runs_one(backend):
    """The rule the prod policy enforces: each Deployment the program renders has an HPA with
    minReplicas ≥ 2, a PodDisruptionBudget and a required zone spread, or the
    single-replica-reason annotation (and then really one replica)."""
    from celestials.render.kubernetes_workloads import SINGLE_REPLICA_ANNOTATION

    objects = synth(backend, "prod").manifests
    hpas = _autoscalers(objects)
    budgets = {(ns(p), name(p)) for p in of_kind(objects, "PodDisruptionBudget")}
    annotated = set()
    for d in of_kind(objects, "Deployment"):
        key = (ns(d), name(d))
        reason = (d["metadata"].get("annotations") or {}).get(SINGLE_REPLICA_ANNOTATION)
        if reason:
            assert d["spec"]["replicas"] == 1 and key not in hpas, key
            annotated.add(key)
            continue
        assert key in hpas and hpas[key]["spec"]["minReplicas"] >= 2, key
        assert key in budgets, key
        spread = {c["topologyKey"]: c["whenUnsatisfiable"] for c in d["spec"]["template"]["spec"]["topologySpreadConstraints"]}
        assert spread["topology.kubernetes.io/zone"] == "DoNotSchedule", key
    assert annotated == {(MTLS, w.name) for w in _model("prod").mesh_in(MTLS).workloads}


def test_the_collector_release_says_why_it_runs_one_replica():
    from celestials.render.kubernetes_workloads import SINGLE_REPLICA_ANNOTATION

    [release] = [r for r in synth("istio", "prod").by_type("kubernetes:helm.sh/v3:Release")
                 if r["inputs"]["chart"] == "opentelemetry-collector"]
    values = release["inputs"]["values"]
    assert values["replicaCount"] == 1 and values["annotations"][SINGLE_REPLICA_ANNOTATION]


def test_prod_istiod_autoscales_with_the_request_path_and_keeps_its_budget():
    """istiod's chart: autoscaleEnabled with autoscaleMin ≥ 2 renders its HPA and its PDB and
    leaves replicas out of its Deployment (chart 1.30 templates)."""
    result = synth("istio", "prod")
    settings = load_settings(ROOT, "prod", SELECT["istio"])
    [istiod] = [r for r in result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "istiod"]
    values = istiod["inputs"]["values"]
    assert values["autoscaleEnabled"] is True
    assert values["autoscaleMin"] == settings.request_path_replicas >= 2
    assert values["autoscaleMax"] == settings.autoscale_max
    assert values["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"
    [dev_istiod] = [r for r in synth("istio").by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "istiod"]
    assert dev_istiod["inputs"]["values"]["autoscaleEnabled"] is False
