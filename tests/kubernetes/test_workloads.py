"""The backend-neutral workload renderer: pods that follow the model (probes, resources, env,
backend URLs), run locked down, shut down gracefully, and Services that give every name DNS."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from celestials.render.kubernetes_workloads import (APP_UID, IRSA_ROLE_ANNOTATION, OTEL_PROPAGATORS,
                                                    PRESTOP_SLEEP_SECONDS, TERMINATION_GRACE_SECONDS, ObjectKey,
                                                    RenderError, WorkloadInputs, render_deployment,
                                                    render_service_account, render_services)
from celestials.render.node_placement import ARCH_LABEL
from celestials.settings import parse_settings
from celestials.topology import build_topology, productcatalog


class Opaque:
    """Stands for a Pulumi Output: a renderer may place it but must never look at it."""

    def __init__(self, label: str):
        object.__setattr__(self, "label", label)

    def _refuse(self, *args, **kwargs):
        raise AssertionError(f"the renderer inspected opaque input {self.label}")

    __str__ = __repr__ = __format__ = __bool__ = __eq__ = __hash__ = __len__ = __iter__ = __getattr__ = _refuse


def _settings(**config):
    return parse_settings({"appMeshEndOfSupportAcknowledged": True, **config}, "dev")


def _mesh(settings):
    return build_topology(settings).mesh_in(productcatalog.NAMESPACE)


def _inputs(**overrides):
    images = {k: Opaque(f"image {k}") for k in ("frontend-node", "prodcatalog", "proddetail-v1", "proddetail-v2")}
    base = dict(images=images, default_service_account="runner", otlp_endpoint="http://collector:4318",
                dynamodb_table=Opaque("table name"))
    return WorkloadInputs(**{**base, **overrides})


def _container(deployment):
    [container] = deployment.obj["spec"]["template"]["spec"]["containers"]
    return container


def _env(deployment):
    return {e["name"]: e["value"] for e in _container(deployment)["env"]}


@pytest.fixture(scope="module")
def settings():
    return _settings()


@pytest.fixture(scope="module")
def mesh(settings):
    return _mesh(settings)


def test_opaque_inputs_are_placed_as_they_are(mesh, settings):
    inputs = _inputs()
    deployment = render_deployment(mesh, mesh.workload("prodcatalog"), settings, inputs)
    assert _container(deployment)["image"] is inputs.images["prodcatalog"]
    [table] = [e["value"] for e in _container(deployment)["env"] if e["name"] == "DYNAMODB_TABLE"]
    assert table is inputs.dynamodb_table
    role = Opaque("role arn")
    sa = render_service_account("ns", "runner", role)
    assert sa.obj["metadata"]["annotations"][IRSA_ROLE_ANNOTATION] is role


def test_probes_follow_the_models_health_check(mesh, settings):
    w = mesh.workload("prodcatalog")
    c = _container(render_deployment(mesh, w, settings, _inputs()))
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert c[probe]["httpGet"] == {"path": "/products/ping", "port": "http"}
    ready = c["readinessProbe"]
    assert (ready["periodSeconds"], ready["timeoutSeconds"], ready["successThreshold"], ready["failureThreshold"]) == (
        w.health.interval_ms // 1000, w.health.timeout_ms // 1000, w.health.healthy_threshold, w.health.unhealthy_threshold)
    assert c["livenessProbe"]["periodSeconds"] > ready["periodSeconds"]
    assert c["ports"] == [{"name": "http", "containerPort": 5000, "protocol": "TCP"}]


def test_every_app_image_runs_as_the_uid_the_deployments_set():
    """The Deployments set runAsUser (checkov CKV_K8S_40: a UID above 10000); an image whose USER
    differs would run its files as a user they were not built for."""
    root = Path(__file__).resolve().parents[2]
    dockerfiles = sorted(root.glob("apps/*/Dockerfile"))
    assert len(dockerfiles) >= 4
    for dockerfile in dockerfiles:
        users = [line.split()[1] for line in dockerfile.read_text().splitlines() if line.startswith("USER ")]
        assert users and users[-1] == f"{APP_UID}:{APP_UID}", f"{dockerfile}: USER {users}"


def test_resources_follow_the_model(mesh, settings):
    c = _container(render_deployment(mesh, mesh.workload("proddetail-v1"), settings, _inputs()))
    r = mesh.workload("proddetail-v1").resources
    assert c["resources"] == {"requests": {"cpu": f"{r.cpu_request_m}m", "memory": f"{r.memory_request_mi}Mi"},
                              "limits": {"memory": f"{r.memory_limit_mi}Mi"}}


def test_pods_run_locked_down_and_drain_before_stopping(mesh, settings):
    for w in mesh.workloads:
        d = render_deployment(mesh, w, settings, _inputs())
        pod = d.obj["spec"]["template"]["spec"]
        c = _container(d)
        assert c["securityContext"] == {"runAsNonRoot": True, "runAsUser": APP_UID, "runAsGroup": APP_UID,
                                        "allowPrivilegeEscalation": False,
                                        "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
        assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
        assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]
        assert c["lifecycle"] == {"preStop": {"sleep": {"seconds": PRESTOP_SLEEP_SECONDS}}}
        assert pod["terminationGracePeriodSeconds"] == TERMINATION_GRACE_SECONDS > PRESTOP_SLEEP_SECONDS + 20
        assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == "runner"


def test_env_carries_backend_urls_and_tracing(mesh, settings):
    env = _env(render_deployment(mesh, mesh.workload("frontend-node"), settings, _inputs()))
    assert env["BASE_URL"] == "http://prodcatalog.prodcatalog-ns.svc.cluster.local:5000/products/"
    assert env["PORT"] == "9000" and env["HOST"] == "0.0.0.0"
    assert env["OTEL_SERVICE_NAME"] == "Frontend-Node"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert env["OTEL_PROPAGATORS"] == OTEL_PROPAGATORS
    assert env["OTEL_TRACES_EXPORTER"] == "otlp"
    env = _env(render_deployment(mesh, mesh.workload("prodcatalog"), settings, _inputs()))
    assert env["AGG_APP_URL"] == "http://proddetail.prodcatalog-ns.svc.cluster.local:3000/catalogDetail"
    assert env["OTEL_SERVICE_NAME"] == "Product-Catalog"


def test_tracing_off_disables_the_exporter(mesh, settings):
    env = _env(render_deployment(mesh, mesh.workload("proddetail-v2"), settings, _inputs(otlp_endpoint=None)))
    assert env["OTEL_TRACES_EXPORTER"] == "none" and "OTEL_EXPORTER_OTLP_ENDPOINT" not in env
    assert env["OTEL_SERVICE_NAME"] == "Product-Detail-V2"


def test_prodcatalog_uses_dynamodb_from_settings(mesh, settings):
    d = render_deployment(mesh, mesh.workload("prodcatalog"), settings, _inputs(dynamodb_table="products"))
    env = _env(d)
    assert (env["STORAGE_BACKEND"], env["DYNAMODB_TABLE"], env["AWS_REGION"]) == ("dynamodb", "products", "us-west-2")
    assert d.obj["spec"]["replicas"] == settings.prodcatalog_replicas == 2
    assert "SQLITE_PATH" not in env


def test_prodcatalog_dynamodb_needs_a_table_name(mesh, settings):
    with pytest.raises(RenderError, match="no DynamoDB table name"):
        render_deployment(mesh, mesh.workload("prodcatalog"), settings, _inputs(dynamodb_table=None))


def test_prodcatalog_sqlite_gets_a_writable_volume_and_one_replica():
    settings = _settings(prodcatalogStorage="sqlite", prodcatalogReplicas=1)
    mesh = _mesh(settings)
    d = render_deployment(mesh, mesh.workload("prodcatalog"), settings, _inputs(dynamodb_table=None))
    env = _env(d)
    assert (env["STORAGE_BACKEND"], env["SQLITE_PATH"]) == ("sqlite", "/data/products.db")
    assert {"name": "data", "mountPath": "/data"} in _container(d)["volumeMounts"]
    assert d.obj["spec"]["replicas"] == 1 and d.obj["spec"]["strategy"] == {"type": "Recreate"}
    assert "DYNAMODB_TABLE" not in env


def test_prodcatalog_sqlite_refuses_more_than_one_replica():
    # the settings refuse this pair (tests/config); the renderer holds to the model on its own
    settings = replace(_settings(prodcatalogStorage="sqlite", prodcatalogReplicas=1), prodcatalog_replicas=3)
    mesh = _mesh(settings)
    with pytest.raises(RenderError, match="celestials:prodcatalogReplicas to 1"):
        render_deployment(mesh, mesh.workload("prodcatalog"), settings, _inputs())


def test_storage_follows_the_model_not_the_app_name(mesh, settings):
    """The renderer reads `Workload.storage`: any workload the model gives storage gets it."""
    from dataclasses import replace as dc_replace

    from celestials.topology.model import Storage

    other = dc_replace(mesh.workload("proddetail-v1"), storage=Storage("sqlite", directory="/state"))
    env = _env(render_deployment(mesh, other, settings, _inputs()))
    assert (env["STORAGE_BACKEND"], env["SQLITE_PATH"]) == ("sqlite", "/state/products.db")


def test_a_container_named_like_the_backends_proxy_is_refused(mesh, settings):
    from dataclasses import replace as dc_replace

    workload = dc_replace(mesh.workload("proddetail-v1"), app="istio-proxy")
    render_deployment(mesh, workload, settings, _inputs())  # no backend reserved it
    with pytest.raises(RenderError, match="reserved for the mesh proxy"):
        render_deployment(mesh, workload, settings, _inputs(reserved_container_names=("istio-proxy",)))


def test_only_the_storage_app_gets_storage_env(mesh, settings):
    for name in ("frontend-node", "proddetail-v1"):
        assert "STORAGE_BACKEND" not in _env(render_deployment(mesh, mesh.workload(name), settings, _inputs()))


def test_a_missing_image_is_a_clear_error(mesh, settings):
    with pytest.raises(RenderError, match="no image reference for image key 'proddetail-v2'"):
        render_deployment(mesh, mesh.workload("proddetail-v2"), settings, _inputs(images={}))


def test_one_service_per_host_on_the_contract_ports(mesh):
    services = {m.obj["metadata"]["name"]: m.obj["spec"] for m in render_services(mesh)}
    assert {n: s["ports"][0]["port"] for n, s in services.items()} == {
        "frontend-node": 9000, "prodcatalog": 5000, "proddetail-v1": 3000, "proddetail-v2": 3000, "proddetail": 3000}
    assert services["proddetail"]["selector"] == {"app": "proddetail"}
    assert services["proddetail-v2"]["selector"] == {"app": "proddetail", "workload": "proddetail-v2", "version": "v2"}


def test_deployments_come_after_their_namespace_and_service_account(mesh, settings):
    inputs = _inputs(service_accounts={"prodcatalog": "prodcatalog"})
    d = render_deployment(mesh, mesh.workload("prodcatalog"), settings, inputs)
    assert d.depends_on == (ObjectKey("Namespace", None, "prodcatalog-ns"),
                            ObjectKey("ServiceAccount", "prodcatalog-ns", "prodcatalog"))
    assert d.obj["spec"]["template"]["spec"]["serviceAccountName"] == "prodcatalog"


@pytest.mark.parametrize("architecture", ["amd64", "arm64"])
def test_pods_stay_on_nodes_of_the_models_architecture(architecture):
    """The images are built for one architecture: a pod must never be scheduled elsewhere, e.g. on
    an old node while a nodeArchitecture switch replaces the node group."""
    instance = {"amd64": "t3.medium", "arm64": "t4g.medium"}[architecture]
    settings = _settings(nodeArchitecture=architecture, instanceType=instance)
    mesh = _mesh(settings)
    assert mesh.node_architecture == architecture
    for w in mesh.workloads:
        pod = render_deployment(mesh, w, settings, _inputs()).obj["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {ARCH_LABEL: architecture}, w.name
    anywhere = replace(mesh, node_architecture=None)  # a model without nodes (the local rehearsal's)
    pod = render_deployment(anywhere, anywhere.workload("prodcatalog"), settings, _inputs()).obj["spec"]["template"]["spec"]
    assert "nodeSelector" not in pod


def test_proxy_volumes_are_pod_volumes_the_app_does_not_mount(mesh, settings):
    volume = {"name": "proxy-only", "secret": {"secretName": "s"}}
    d = render_deployment(mesh, mesh.workload("proddetail-v1"), settings,
                          _inputs(proxy_volumes={"proddetail-v1": (volume,)}))
    pod = d.obj["spec"]["template"]["spec"]
    assert volume in pod["volumes"]
    assert "proxy-only" not in {m["name"] for m in _container(d)["volumeMounts"]}
    other = render_deployment(mesh, mesh.workload("proddetail-v2"), settings,
                              _inputs(proxy_volumes={"proddetail-v1": (volume,)}))
    assert volume not in other.obj["spec"]["template"]["spec"]["volumes"]


def test_replicated_workloads_spread_over_zones(mesh, settings):
    pod = render_deployment(mesh, mesh.workload("prodcatalog"), settings, _inputs()).obj["spec"]["template"]["spec"]
    assert [c["topologyKey"] for c in pod["topologySpreadConstraints"]] == ["topology.kubernetes.io/zone",
                                                                           "kubernetes.io/hostname"]
    single = render_deployment(mesh, mesh.workload("proddetail-v1"), settings, _inputs()).obj["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in single



# --- issue 10.4: autoscaled Deployments ----------------------------------------------------------
def test_an_autoscaled_deployment_leaves_its_replica_count_to_its_hpa():
    from celestials.render.kubernetes_workloads import autoscalers, disruption_budgets

    settings = _settings(autoscaleMaxReplicas=5, requestPathReplicas=2)
    mesh = _mesh(settings)
    deployments = [render_deployment(mesh, w, settings, _inputs()) for w in mesh.workloads]
    assert all("replicas" not in d.obj["spec"] for d in deployments)
    hpas = {h.key.name: h for h in autoscalers(mesh, deployments)}
    assert set(hpas) == {w.name for w in mesh.workloads}  # the gateway's Deployment is the backend's
    front = hpas["frontend-node"]
    assert front.obj["spec"]["minReplicas"] == 2 and front.obj["spec"]["maxReplicas"] == 5
    assert ObjectKey("Deployment", mesh.namespace, "frontend-node") in front.depends_on
    budgets = {p.key.name for p in disruption_budgets([*deployments, *hpas.values()])}
    assert budgets == {w.name for w in mesh.workloads}  # min ≥ 2 everywhere (prodcatalog: 2)
    # without the HPAs the same Deployments would count as one replica each: no budget
    assert not disruption_budgets(deployments)


def test_a_fixed_deployment_keeps_its_count_and_an_hpa_never_targets_one_that_sets_it():
    from celestials.render.kubernetes_workloads import autoscalers

    settings = _settings()
    mesh = _mesh(settings)
    fixed = render_deployment(mesh, mesh.workload("prodcatalog"), settings, _inputs())
    assert fixed.obj["spec"]["replicas"] == 2 and not autoscalers(mesh, [fixed])
    scaled = _settings(autoscaleMaxReplicas=4)
    with pytest.raises(RenderError, match="sets spec.replicas although an HPA manages it"):
        autoscalers(_mesh(scaled), [fixed])


def test_sqlite_prodcatalog_never_autoscales():
    settings = _settings(autoscaleMaxReplicas=4, prodcatalogStorage="sqlite", prodcatalogReplicas=1)
    mesh = _mesh(settings)
    assert mesh.workload("prodcatalog").autoscaling is None
    assert render_deployment(mesh, mesh.workload("prodcatalog"), settings, _inputs()).obj["spec"]["replicas"] == 1
    assert mesh.workload("frontend-node").autoscaling.max_replicas == 4
