"""The Kubernetes side of a mesh that every mesh backend shares: Deployments, Services and
ServiceAccounts for the model's workloads.

Why backend-neutral: the pods are the same whichever mesh routes between them. A backend adds its
own pod annotations and ordering (passed in, or appended with `Manifest.after`), never edits these
objects. Image references and IAM role ARNs are opaque inputs: at deploy time they are Pulumi
Outputs, so they are placed where they belong and never read.

Each object comes as a `Manifest`: the plain Kubernetes object plus the keys of the objects that
must exist before it (namespace, service account, ...). Components turn those keys into
`depends_on`, so the ordering is decided here, with the objects, and testable without Pulumi.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from ..settings import Settings
from ..topology.model import Autoscaling, Mesh, Resources, Workload
from .node_placement import node_selector
from .single_replica import SINGLE_REPLICA_ANNOTATION

#: The file name of a workload's sqlite database, inside its model storage directory.
SQLITE_FILE = "products.db"
#: OTEL_PROPAGATORS of every app: W3C for app-to-app context, X-Ray so app spans join the trace
#: that the sidecars start (X-Amzn-Trace-Id).
OTEL_PROPAGATORS = "tracecontext,baggage,xray"
#: Seconds a terminating pod keeps serving so endpoint removal reaches every proxy first.
PRESTOP_SLEEP_SECONDS = 5
#: Covers the preStop sleep, the apps' own drain (gunicorn's graceful_timeout is 20 s) and the
#: mesh sidecar, which stays up a little longer than the app so in-flight calls still go out.
TERMINATION_GRACE_SECONDS = 45
#: The user and group every app image runs as (each Dockerfile's `USER`, a test holds them equal):
#: above 10000 so it is no user of the node's, and not the mesh proxies' 1337, whose traffic the
#: meshes exempt from redirection.
APP_UID = 10001
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
PART_OF = {"app.kubernetes.io/part-of": "celestials"}


class RenderError(ValueError):
    """Inputs a renderer cannot turn into valid objects; the message names what and why."""


@dataclass(frozen=True, order=True)
class ObjectKey:
    """Identifies a Kubernetes object within one program: kind, namespace (None if cluster-wide), name."""

    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


def key_of(obj: Mapping[str, Any]) -> ObjectKey:
    meta = obj["metadata"]
    return ObjectKey(obj["kind"], meta.get("namespace"), meta["name"])


@dataclass(frozen=True, eq=False)
class Manifest:
    """A Kubernetes object and the objects that must exist before it is created."""

    obj: Mapping[str, Any]
    depends_on: tuple[ObjectKey, ...] = field(default=())

    @property
    def key(self) -> ObjectKey:
        return key_of(self.obj)

    def after(self, *keys: ObjectKey) -> "Manifest":
        merged = dict.fromkeys((*self.depends_on, *keys))
        merged.pop(self.key, None)
        return replace(self, depends_on=tuple(merged))


def partition(manifests: Iterable[Manifest], keys: frozenset[ObjectKey]) -> tuple[tuple[Manifest, ...], tuple[Manifest, ...]]:
    """(manifests outside `keys`, manifests inside), each in the given order."""
    manifests = tuple(manifests)
    return (tuple(m for m in manifests if m.key not in keys), tuple(m for m in manifests if m.key in keys))


def with_annotations(manifest: Manifest, annotations: Mapping[str, str]) -> Manifest:
    obj = dict(manifest.obj)
    meta = dict(obj["metadata"])
    meta["annotations"] = {**meta.get("annotations", {}), **annotations}
    obj["metadata"] = meta
    return replace(manifest, obj=obj)


@dataclass(frozen=True)
class WorkloadInputs:
    """What the workloads need besides the model and the settings.

    `images`: Workload.image → image reference. `service_accounts`: workload name → service
    account for workloads with their own identity; the others run as `default_service_account`.
    `otlp_endpoint`: base URL of the in-cluster trace collector (None: tracing off).
    `pod_annotations`: workload name → extra pod-template annotations (a backend's proxy
    settings, a digest that rolls pods when mounted material changes).
    `dynamodb_table`: the table's name for workloads whose model storage is DynamoDB.
    `reserved_container_names`: names the backend's injector gives its own containers (an app
    container with such a name would be taken for the proxy).
    `proxy_volumes`: workload name → pod volumes that only the backend's injected proxy mounts
    (the app container does not), for an injector that mounts volumes of the pod by name.
    """

    images: Mapping[str, Any]
    default_service_account: str
    service_accounts: Mapping[str, str] = field(default_factory=dict)
    otlp_endpoint: str | None = None
    pod_annotations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    dynamodb_table: Any = None
    reserved_container_names: tuple[str, ...] = ()
    proxy_volumes: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)


def namespace_key(namespace: str) -> ObjectKey:
    return ObjectKey("Namespace", None, namespace)


def service_account_name(workload: Workload, inputs: WorkloadInputs) -> str:
    return inputs.service_accounts.get(workload.name, inputs.default_service_account)


def uses_dynamodb(workload: Workload) -> bool:
    return workload.storage is not None and workload.storage.kind == "dynamodb"


def uses_sqlite(workload: Workload) -> bool:
    return workload.storage is not None and workload.storage.kind == "sqlite"


def sqlite_path(workload: Workload) -> str:
    assert workload.storage is not None  # asked of sqlite workloads only
    return f"{workload.storage.directory}/{SQLITE_FILE}"


def needs_own_identity(workload: Workload) -> bool:
    """A workload whose model storage is reached with a cloud identity of its own (IRSA)."""
    return workload.storage is not None and workload.storage.needs_cloud_identity


def check_workload_roles(mesh: Mesh, roles: Mapping[str, Any], where: str) -> None:
    """Every workload that needs its own IAM role has one in `roles` (workload → role, named
    `where` in the message), and `roles` names only workloads of the mesh."""
    unknown = sorted(set(roles) - {w.name for w in mesh.workloads})
    if unknown:
        raise RenderError(f"mesh {mesh.name}: roles given for workloads it does not have: {', '.join(unknown)}")
    for w in mesh.workloads:
        if needs_own_identity(w) and w.name not in roles:
            assert w.storage is not None  # needs_own_identity: it has storage
            raise RenderError(f"workload {w.name}: stores data in {w.storage.kind} but has no IAM role of its own ({where})")


# --- pieces of a pod ---------------------------------------------------------------------------
def node_placement(mesh: Mesh) -> dict[str, Any]:
    """The pod-spec fields that keep the mesh's pods on nodes of its architecture (none when the
    model names no architecture); every backend puts them on every pod template it renders."""
    return {"nodeSelector": node_selector(mesh.node_architecture)} if mesh.node_architecture else {}


def _cpu(millis: int) -> str:
    return f"{millis}m"


def _memory(mebibytes: int) -> str:
    return f"{mebibytes}Mi"


def container_resources(r: Resources) -> dict[str, Any]:
    """A container's `resources` from the model's requests and (optional) limits."""
    limits: dict[str, str] = {}
    if r.cpu_limit_m is not None:
        limits["cpu"] = _cpu(r.cpu_limit_m)
    if r.memory_limit_mi is not None:
        limits["memory"] = _memory(r.memory_limit_mi)
    out: dict[str, Any] = {"requests": {"cpu": _cpu(r.cpu_request_m), "memory": _memory(r.memory_request_mi)}}
    if limits:
        out["limits"] = limits
    return out


def _seconds(millis: int) -> int:
    return max(1, math.ceil(millis / 1000))


def _container_ports(workload: Workload) -> list[dict[str, Any]]:
    ports = [{"name": "http", "containerPort": workload.port, "protocol": "TCP"}]
    if workload.health.probe_port is not None:
        ports.append({"name": "health", "containerPort": workload.health.probe_port, "protocol": "TCP"})
    return ports


def _probes(workload: Workload) -> dict[str, Any]:
    """Readiness follows the model's health check exactly; liveness is slower to give up (a
    restart is costlier than a pause in traffic); startup covers a cold start without making
    liveness lenient for the rest of the pod's life."""
    hc = workload.health
    period, timeout = _seconds(hc.interval_ms), _seconds(hc.timeout_ms)

    def get() -> dict[str, Any]:
        return {"httpGet": {"path": hc.path, "port": "health" if hc.probe_port is not None else "http"}}

    return {
        "readinessProbe": {**get(), "periodSeconds": period, "timeoutSeconds": timeout,
                           "successThreshold": hc.healthy_threshold, "failureThreshold": hc.unhealthy_threshold},
        "livenessProbe": {**get(), "periodSeconds": 2 * period, "timeoutSeconds": timeout,
                          "successThreshold": 1, "failureThreshold": hc.unhealthy_threshold},
        "startupProbe": {**get(), "periodSeconds": 2, "timeoutSeconds": timeout,
                         "successThreshold": 1, "failureThreshold": 60},
    }


def _tracing_env(mesh: Mesh, workload: Workload, inputs: WorkloadInputs) -> list[dict[str, Any]]:
    attributes = f"service.namespace={mesh.namespace}"
    if workload.version:
        attributes += f",service.version={workload.version}"
    env = [{"name": "OTEL_SERVICE_NAME", "value": workload.tracing_name},
           {"name": "OTEL_RESOURCE_ATTRIBUTES", "value": attributes},
           {"name": "OTEL_PROPAGATORS", "value": OTEL_PROPAGATORS},
           {"name": "OTEL_METRICS_EXPORTER", "value": "none"},
           {"name": "OTEL_LOGS_EXPORTER", "value": "none"}]
    if inputs.otlp_endpoint:
        env += [{"name": "OTEL_TRACES_EXPORTER", "value": "otlp"},
                {"name": "OTEL_EXPORTER_OTLP_PROTOCOL", "value": "http/protobuf"},
                {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": inputs.otlp_endpoint}]
    else:
        env.append({"name": "OTEL_TRACES_EXPORTER", "value": "none"})
    return env


def _storage_env(workload: Workload, settings: Settings, inputs: WorkloadInputs) -> list[dict[str, Any]]:
    if uses_dynamodb(workload):
        if inputs.dynamodb_table is None:
            raise RenderError(f"workload {workload.name}: prodcatalogStorage is dynamodb but no DynamoDB "
                              "table name was given to the workload renderer (WorkloadInputs.dynamodb_table)")
        return [{"name": "STORAGE_BACKEND", "value": "dynamodb"},
                {"name": "DYNAMODB_TABLE", "value": inputs.dynamodb_table},
                {"name": "AWS_REGION", "value": settings.region}]
    if uses_sqlite(workload):
        return [{"name": "STORAGE_BACKEND", "value": "sqlite"}, {"name": "SQLITE_PATH", "value": sqlite_path(workload)}]
    return []


def _env(mesh: Mesh, workload: Workload, settings: Settings, inputs: WorkloadInputs) -> list[dict[str, Any]]:
    env = [{"name": "HOST", "value": "0.0.0.0"}, {"name": "PORT", "value": str(workload.port)}]
    if workload.health.probe_port is not None:
        env.append({"name": "HEALTH_PORT", "value": str(workload.health.probe_port)})
    env += [{"name": name, "value": value} for name, value in workload.env]
    env += [{"name": b.name, "value": mesh.service_url(b.service, b.path)} for b in workload.backend_env]
    env += _storage_env(workload, settings, inputs)
    env += _tracing_env(mesh, workload, inputs)
    names = [e["name"] for e in env]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RenderError(f"workload {workload.name}: environment variables set twice: {', '.join(duplicates)}")
    return env


def _replicas(workload: Workload, settings: Settings) -> int:
    if uses_sqlite(workload) and workload.replicas != 1:
        raise RenderError(
            f"workload {workload.name}: prodcatalogStorage sqlite keeps products in one pod's file, so it "
            f"needs exactly 1 replica, not {workload.replicas}: set celestials:prodcatalogReplicas to 1 "
            "or use celestials:prodcatalogStorage dynamodb")
    return workload.replicas


def container_name(workload: Workload, inputs: WorkloadInputs) -> str:
    if workload.app in inputs.reserved_container_names:
        raise RenderError(f"workload {workload.name}: app name {workload.app!r} is reserved for the mesh proxy")
    return workload.app


# --- objects -----------------------------------------------------------------------------------
def render_deployment(mesh: Mesh, workload: Workload, settings: Settings, inputs: WorkloadInputs) -> Manifest:
    if workload.image not in inputs.images:
        raise RenderError(f"workload {workload.name}: no image reference for image key {workload.image!r} "
                          f"(known: {', '.join(sorted(inputs.images)) or 'none'})")
    replicas = _replicas(workload, settings)
    sqlite = uses_sqlite(workload)
    labels = dict(workload.labels)
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    volumes += [dict(v) for v in inputs.proxy_volumes.get(workload.name, ())]
    if sqlite:
        assert workload.storage is not None and workload.storage.directory is not None  # validate() checked it
        mounts.append({"name": "data", "mountPath": workload.storage.directory})
        volumes.append({"name": "data", "emptyDir": {"sizeLimit": "256Mi"}})
    container = {
        "name": container_name(workload, inputs),
        "image": inputs.images[workload.image],
        "imagePullPolicy": "IfNotPresent",
        "ports": _container_ports(workload),
        "env": _env(mesh, workload, settings, inputs),
        **_probes(workload),
        "resources": container_resources(workload.resources),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": APP_UID,
            "runAsGroup": APP_UID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SLEEP_SECONDS}}},
        "volumeMounts": mounts,
    }
    template_meta: dict[str, Any] = {"labels": labels}
    meta: dict[str, Any] = {"name": workload.name, "namespace": mesh.namespace, "labels": {**labels, **PART_OF}}
    if workload.single_replica_reason and replicas == 1 and workload.autoscaling is None:
        meta["annotations"] = {SINGLE_REPLICA_ANNOTATION: workload.single_replica_reason}
    annotations = dict(inputs.pod_annotations.get(workload.name, {}))
    if annotations:
        template_meta["annotations"] = annotations
    pod_spec: dict[str, Any] = {
        "serviceAccountName": service_account_name(workload, inputs),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
        # Pod-wide seccomp only: runAsNonRoot stays per container because a mesh may inject an
        # init container that must run as root to set up traffic redirection.
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": volumes,
        **node_placement(mesh),
    }
    if replicas > 1:
        pod_spec["topologySpreadConstraints"] = spread_constraints(labels)
    strategy = ({"type": "Recreate"} if sqlite else
                {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    obj = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": meta,
        "spec": {**replicas_field(replicas, workload.autoscaling), "revisionHistoryLimit": 5, "strategy": strategy,
                 "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": template_meta, "spec": pod_spec}},
    }
    sa = ObjectKey("ServiceAccount", mesh.namespace, service_account_name(workload, inputs))
    return Manifest(obj, (namespace_key(mesh.namespace), sa))


def service_selector(mesh: Mesh, host: str) -> dict[str, str]:
    """A workload host selects its workload; a routed name selects the labels its workloads share
    (so plain DNS resolves to a ClusterIP and a mesh without sidecars still reaches a backend).
    Empty when the routed workloads share no label: the name then only resolves, the mesh routes."""
    for w in mesh.workloads:
        if w.host == host:
            return dict(w.labels)
    workloads = [mesh.workload(n) for n in mesh.service_workloads(host)]
    common = dict(workloads[0].labels)
    for w in workloads[1:]:
        common = {k: v for k, v in common.items() if w.labels.get(k) == v}
    return common


def _host_port(mesh: Mesh, host: str) -> int:
    for w in mesh.workloads:
        if w.host == host:
            return w.port
    return mesh.service(host).port


def render_services(mesh: Mesh) -> tuple[Manifest, ...]:
    """One Service per DNS host of the mesh: each workload host, then each routed service name."""
    out = []
    for host in mesh.hosts():
        port = _host_port(mesh, host)
        spec: dict[str, Any] = {"type": "ClusterIP",
                                "ports": [{"name": "http", "port": port, "targetPort": port,
                                           "protocol": "TCP", "appProtocol": "http"}]}
        selector = service_selector(mesh, host)
        if selector:
            spec["selector"] = selector
        obj = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": host, "namespace": mesh.namespace, "labels": dict(PART_OF)},
               "spec": spec}
        out.append(Manifest(obj, (namespace_key(mesh.namespace),)))
    return tuple(out)


def replicas_field(replicas: int, autoscaling: Autoscaling | None) -> dict[str, int]:
    """A Deployment's `spec.replicas`: set when fixed, left out when an HPA owns the count.

    Why left out: the provider applies with server-side apply, so Pulumi owns every field it
    sends. A `replicas` it sends would be written back to the model's number on every `up` that
    touches the Deployment (undoing the HPA's scale-out) or refused as a field conflict once the
    HPA has scaled it ("conflict with kube-controller-manager with subresource scale: .spec.replicas",
    pulumi/pulumi-kubernetes#2491). Kubernetes' HPA guide says the same: remove `spec.replicas`
    from a Deployment an HPA manages (kubernetes/website#29739); the istiod chart does it too.

    The cost, stated plainly: a new Deployment without `replicas` starts with 1 pod (the API
    default). Its HPA (created right after it) raises it to `minReplicas` at its first sync, which
    needs no metrics (the controller's "below minReplicas" rule; sync every 15 s), so for about
    15 s plus a pod's start-up the new Deployment runs one pod, before any traffic reaches a new
    stack. On an existing stack that had a Pulumi-owned `replicas`, the `up` that introduces
    the HPA drops Pulumi's ownership and the count falls back to 1 until that same sync: hand the
    field over first (docs/platform.md, "Autoscaling") to avoid that one-off dip."""
    return {} if autoscaling is not None else {"replicas": replicas}


def render_autoscaler(deployment: Manifest, replicas: int, autoscaling: Autoscaling) -> Manifest:
    """The HorizontalPodAutoscaler (autoscaling/v2) of a Deployment: from `replicas` to
    `autoscaling.max_replicas`, on the average CPU use of its pods relative to their requests
    (every container here, sidecars included, requests CPU, so utilization is defined)."""
    meta = deployment.obj["metadata"]
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": dict(PART_OF)},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"]},
                    "minReplicas": replicas, "maxReplicas": autoscaling.max_replicas,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": autoscaling.cpu_utilization_percent}}}]}}
    return Manifest(hpa, (namespace_key(meta["namespace"]), deployment.key))


def autoscalers(mesh: Mesh, manifests: Iterable[Manifest]) -> tuple[Manifest, ...]:
    """An HPA for every Deployment of `manifests` whose model workload (or gateway) autoscales;
    every backend names those Deployments after the model's workload or gateway."""
    scaling = {w.name: (w.replicas, w.autoscaling) for w in mesh.workloads}
    if mesh.gateway:
        scaling[mesh.gateway.name] = (mesh.gateway.replicas, mesh.gateway.autoscaling)
    out = []
    for m in manifests:
        if m.key.kind != "Deployment" or m.key.namespace != mesh.namespace or m.key.name not in scaling:
            continue
        replicas, autoscaling = scaling[m.key.name]
        if autoscaling is not None:
            if "replicas" in m.obj["spec"]:
                raise RenderError(f"Deployment {m.key.name}: sets spec.replicas although an HPA manages it")
            out.append(render_autoscaler(m, replicas, autoscaling))
    return tuple(out)


def spread_constraints(labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Replicas across zones (required: a lost zone must leave a replica) and across nodes
    (preferred: a zone may have fewer nodes than replicas)."""
    return [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": when, "labelSelector": {"matchLabels": dict(labels)}}
            for key, when in (("topology.kubernetes.io/zone", "DoNotSchedule"),
                              ("kubernetes.io/hostname", "ScheduleAnyway"))]


def disruption_budgets(manifests: Iterable[Manifest]) -> tuple[Manifest, ...]:
    """A PodDisruptionBudget for every Deployment of more than one replica (its own `replicas`,
    or the `minReplicas` of the HPA in `manifests` that manages it): a node drain (an upgrade, a
    scale-in) takes at most one of its pods at a time. One replica gets none, since a budget that
    allows no eviction would block every drain."""
    manifests = tuple(manifests)
    hpa_min = {ObjectKey("Deployment", m.key.namespace, m.obj["spec"]["scaleTargetRef"]["name"]): m.obj["spec"]["minReplicas"]
               for m in manifests if m.key.kind == "HorizontalPodAutoscaler"}
    out = []
    for m in manifests:
        obj = m.obj
        if obj["kind"] != "Deployment" or obj["spec"].get("replicas", hpa_min.get(m.key, 1)) < 2:
            continue
        meta = obj["metadata"]
        pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": dict(PART_OF)},
               "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(obj["spec"]["selector"]["matchLabels"])},
                        "unhealthyPodEvictionPolicy": "AlwaysAllow"}}
        out.append(Manifest(pdb, (namespace_key(meta["namespace"]),)))
    return tuple(out)


def render_service_account(namespace: str, name: str, role_arn: Any = None) -> Manifest:
    """A pod identity; with `role_arn`, EKS hands its pods that IAM role (IRSA). Pods here never
    call the Kubernetes API, so no API token is mounted."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(PART_OF)}
    if role_arn is not None:
        meta["annotations"] = {IRSA_ROLE_ANNOTATION: role_arn}
    obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta,
           "automountServiceAccountToken": False}
    return Manifest(obj, (namespace_key(namespace),))


def render_workloads(mesh: Mesh, settings: Settings, inputs: WorkloadInputs) -> tuple[Manifest, ...]:
    """Deployments (model order) then Services; service accounts are rendered by the caller, who
    knows which IAM role each one carries."""
    return (*(render_deployment(mesh, w, settings, inputs) for w in mesh.workloads), *render_services(mesh))
