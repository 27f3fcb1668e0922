"""AWS App Mesh rendering of a mesh of the topology model: the labelled namespace, the App Mesh
custom resources (appmesh.k8s.aws/v1beta2), the ingress gateway's Envoy, and the workloads with
the pod annotations the App Mesh injector reads.

Pure: model and opaque inputs in, `Manifest`s out. The ordering a real cluster needs is declared
on each manifest: everything after its namespace; a workload after its VirtualNode (the injector
adds a sidecar only to pods created once their VirtualNode exists, and rejects pods in a meshed
namespace that nothing selects); a GatewayRoute after its VirtualGateway (the admission webhook
looks the gateway up). The NetworkPolicies (network_policies, from the model's edges) come
before every Deployment, so no pod starts without its traffic rules. VirtualNodes, VirtualServices and VirtualRouters reference each other by
name and the controller resolves those references as they appear, so no edges between them:
a cycle of backends would otherwise deadlock `pulumi up`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..artifacts import APPMESH_ENVOY_IMAGE
from ..settings import Settings
from ..topology import colorapp
from ..topology.canary import CanaryPlan
from ..topology.model import Gateway, Mesh, Route, Router, Service, Workload
from .kubernetes_workloads import (PART_OF, PRESTOP_SLEEP_SECONDS, TERMINATION_GRACE_SECONDS, Manifest, ObjectKey,
                                   WorkloadInputs, autoscalers, check_workload_roles, container_resources,
                                   disruption_budgets, namespace_key, node_placement, render_deployment,
                                   render_service_account, render_services, replicas_field, spread_constraints)
from . import injected_containers
from .load_balancer import INGRESS_GATEWAY_LABELS, NLB_ANNOTATIONS, PUBLIC_HTTP_PORT
from .tls_volume import VOLUME_NAME, tls_secret_keys, tls_volume_source
from .network_policies import (Destination, TrafficRulesInputs, cloud_api, cloud_storage_egress,
                               render_network_policies)

API_VERSION = "appmesh.k8s.aws/v1beta2"
MESH_LABEL = "mesh"
GATEWAY_LABEL = "gateway"
INJECTOR_LABEL = "appmesh.k8s.aws/sidecarInjectorWebhook"
SECRET_MOUNTS_ANNOTATION = "appmesh.k8s.aws/secretMounts"
#: `<pod volume>:<directory>`: the injector mounts a volume of the pod into its Envoy (controller
#: 1.13: pkg/inject, `getVolumeMounts`); the way in for a volume of several Secrets, which
#: `secretMounts` (one Secret per volume) cannot express.
VOLUME_MOUNTS_ANNOTATION = "appmesh.k8s.aws/volumeMounts"
SDS_ANNOTATION = "appmesh.k8s.aws/sds"
#: Where the App Mesh sidecar sees a workload's TLS files (its mounted Secrets).
CERT_DIR = "/certs"
#: Container names the App Mesh injector adds to a pod.
INJECTED_CONTAINER_NAMES = injected_containers.APP_MESH
EGRESS_IGNORED_PORTS_ANNOTATION = "appmesh.k8s.aws/egressIgnoredPorts"
#: The controller never intercepts these (its default, kept when we add ports).
DEFAULT_EGRESS_IGNORED_PORTS = (22,)
#: The identity every proxy of a meshed namespace runs as (workloads with their own IAM needs
#: get a service account named after them instead).
ENVOY_SERVICE_ACCOUNT = "envoy-proxies"
ACCESS_LOG = {"file": {"path": "/dev/stdout"}}
#: The route timeout Envoy applies when a listener sets none; longer routes need a listener timeout.
DEFAULT_TIMEOUT_MS = 15000
GATEWAY_SERVICE_PORT = PUBLIC_HTTP_PORT
GATEWAY_CONTAINER = "envoy"  # the injector configures the container with this name as the gateway
#: The image the gateway Deployment names (the controller chart's sidecar image). The controller
#: replaces it at admission with its configured Envoy, so the mesh runs one version.
GATEWAY_ENVOY_IMAGE = APPMESH_ENVOY_IMAGE.ref
ENVOY_UID = 1337  # the App Mesh Envoy image's user; the injector's traffic rules exempt it
#: status condition each App Mesh kind reports once the App Mesh API has the object
ACTIVE_CONDITIONS = {
    "Mesh": "MeshActive", "VirtualNode": "VirtualNodeActive", "VirtualService": "VirtualServiceActive",
    "VirtualRouter": "VirtualRouterActive", "VirtualGateway": "VirtualGatewayActive",
    "GatewayRoute": "GatewayRouteActive",
}
APPMESH_KINDS = tuple(ACTIVE_CONDITIONS)


@dataclass(frozen=True)
class AppMeshInputs:
    """Opaque values the App Mesh rendering places: image references, the IAM role of the
    namespace's proxies (`envoy_role_arn`) and of workloads with their own identity
    (`workload_roles`, workload name → role), the collector endpoint and the port the proxies must
    leave alone so apps reach it directly, the product table's name, and extra pod annotations."""

    images: Mapping[str, Any]
    envoy_role_arn: Any = None
    workload_roles: Mapping[str, Any] = field(default_factory=dict)
    otlp_endpoint: str | None = None
    otlp_port: int | None = None
    dynamodb_table: Any = None
    pod_annotations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: the trace collector as a NetworkPolicy destination (the apps' OTLP port); None: tracing off
    collector: Destination | None = None


def _cr(kind: str, name: str, namespace: str | None, spec: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(PART_OF)}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": meta, "spec": dict(spec)}


def aws_name(name: str, namespace: str) -> str:
    """App Mesh name of a virtual node or gateway (the controller's default, made explicit so the
    proxies' IAM policy can be scoped to a namespace's nodes)."""
    return f"{name}_{namespace}"


def _ms(value: int) -> dict[str, Any]:
    return {"unit": "ms", "value": value}


def mesh_key(mesh: Mesh) -> ObjectKey:
    return ObjectKey("Mesh", None, mesh.name)


def virtual_node_key(mesh: Mesh, workload: str) -> ObjectKey:
    return ObjectKey("VirtualNode", mesh.namespace, workload)


def _in_mesh(mesh: Mesh) -> tuple[ObjectKey, ObjectKey]:
    return namespace_key(mesh.namespace), mesh_key(mesh)


# --- namespace and mesh ------------------------------------------------------------------------
def namespace_labels(mesh: Mesh) -> dict[str, str]:
    labels = {MESH_LABEL: mesh.name, INJECTOR_LABEL: "enabled", **PART_OF}
    if mesh.gateway:
        labels[GATEWAY_LABEL] = mesh.gateway.name
    return labels


def render_namespace(mesh: Mesh) -> Manifest:
    return Manifest({"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": mesh.namespace, "labels": namespace_labels(mesh)}})


def render_mesh_object(mesh: Mesh) -> Manifest:
    # DROP_ALL: proxies reach only the mesh's services (and AWS APIs); anything else is an error.
    spec = {"namespaceSelector": {"matchLabels": {MESH_LABEL: mesh.name}}, "egressFilter": {"type": "DROP_ALL"}}
    return Manifest(_cr("Mesh", mesh.name, None, spec))


# --- TLS ---------------------------------------------------------------------------------------
def _file_certificate(paths: Mapping[str, str]) -> dict[str, Any]:
    return {"file": {"certificateChain": paths["certificate_chain"], "privateKey": paths["private_key"]}}


def _validation(trust_file: str, sans: Iterable[str]) -> dict[str, Any]:
    return {"trust": {"file": {"certificateChain": trust_file}},
            "subjectAlternativeNames": {"match": {"exact": list(sans)}}}


def _listener_tls(w: Workload) -> dict[str, Any] | None:
    if w.server_tls is None:
        return None
    paths = colorapp.tls_files(w, CERT_DIR)
    return {"mode": w.server_tls.mode, "certificate": _file_certificate(paths),
            "validation": _validation(paths["server_trust"], w.server_tls.client_sans)}


def _client_tls(w: Workload) -> dict[str, Any] | None:
    if w.client_tls is None:
        return None
    paths = colorapp.tls_files(w, CERT_DIR)
    return {"enforce": w.client_tls.enforce, "certificate": _file_certificate(paths),
            "validation": _validation(paths["client_trust"], w.client_tls.sans)}


# --- virtual nodes, services, routers ----------------------------------------------------------
def _routes_to(mesh: Mesh, workload: str) -> list[Route]:
    return [r for router in mesh.routers for r in router.routes if any(t.workload == workload for t in r.targets)]


def render_virtual_node(mesh: Mesh, w: Workload) -> Manifest:
    hc = w.health
    listener: dict[str, Any] = {
        "portMapping": {"port": w.port, "protocol": "http"},
        "healthCheck": {"protocol": "http", "path": hc.path, "port": hc.port,
                        "healthyThreshold": hc.healthy_threshold, "unhealthyThreshold": hc.unhealthy_threshold,
                        "timeoutMillis": hc.timeout_ms, "intervalMillis": hc.interval_ms},
    }
    longest = max((r.timeout_ms for r in _routes_to(mesh, w.name)), default=0)
    if longest > DEFAULT_TIMEOUT_MS:
        listener["timeout"] = {"http": {"perRequest": _ms(longest)}}
    tls = _listener_tls(w)
    if tls:
        listener["tls"] = tls
    spec: dict[str, Any] = {
        "awsName": aws_name(w.name, mesh.namespace),
        "podSelector": {"matchLabels": dict(w.labels)},
        "listeners": [listener],
        "serviceDiscovery": {"dns": {"hostname": mesh.dns(w.host)}},
        "logging": {"accessLog": ACCESS_LOG},
    }
    if w.backends:
        spec["backends"] = [{"virtualService": {"virtualServiceRef": {"name": b}}} for b in w.backends]
    client = _client_tls(w)
    if client:
        spec["backendDefaults"] = {"clientPolicy": {"tls": client}}
    return Manifest(_cr("VirtualNode", w.name, mesh.namespace, spec), _in_mesh(mesh))


def render_virtual_service(mesh: Mesh, svc: Service) -> Manifest:
    if svc.workload:
        provider: dict[str, Any] = {"virtualNode": {"virtualNodeRef": {"name": svc.workload}}}
    else:
        provider = {"virtualRouter": {"virtualRouterRef": {"name": svc.router}}}
    # awsName is the Kubernetes Service's DNS name: what apps resolve and Envoy matches on.
    spec = {"awsName": mesh.dns(svc.name), "provider": provider}
    return Manifest(_cr("VirtualService", svc.name, mesh.namespace, spec), _in_mesh(mesh))


def _http_route(route: Route) -> dict[str, Any]:
    match: dict[str, Any] = {"prefix": route.prefix}
    if route.headers:
        match["headers"] = [{"name": h.name, "match": {"exact": h.exact}} for h in route.headers]
    http: dict[str, Any] = {
        "match": match,
        "action": {"weightedTargets": [{"virtualNodeRef": {"name": t.workload}, "weight": t.weight}
                                       for t in route.targets]},
        "timeout": {"perRequest": _ms(route.timeout_ms)},
    }
    if route.retries:
        r = route.retries
        http["retryPolicy"] = {"maxRetries": r.max_retries, "perRetryTimeout": _ms(r.per_retry_timeout_ms),
                               "httpRetryEvents": list(r.http_events), "tcpRetryEvents": list(r.tcp_events)}
    out: dict[str, Any] = {"name": route.name, "httpRoute": http}
    if route.priority is not None:
        out["priority"] = route.priority
    return out


def render_virtual_router(mesh: Mesh, router: Router) -> Manifest:
    spec = {"listeners": [{"portMapping": {"port": router.port, "protocol": "http"}}],
            "routes": [_http_route(r) for r in router.routes]}
    return Manifest(_cr("VirtualRouter", router.name, mesh.namespace, spec), _in_mesh(mesh))


# --- ingress gateway ---------------------------------------------------------------------------
def gateway_labels(gateway: Gateway) -> dict[str, str]:
    return {"app": gateway.name}


def render_virtual_gateway(mesh: Mesh, gateway: Gateway) -> Manifest:
    spec = {
        "awsName": aws_name(gateway.name, mesh.namespace),
        # GatewayRoutes in namespaces with this label belong to the gateway.
        "namespaceSelector": {"matchLabels": {GATEWAY_LABEL: gateway.name}},
        "podSelector": {"matchLabels": gateway_labels(gateway)},
        "listeners": [{"portMapping": {"port": gateway.port, "protocol": "http"}}],
        "logging": {"accessLog": ACCESS_LOG},
    }
    return Manifest(_cr("VirtualGateway", gateway.name, mesh.namespace, spec), _in_mesh(mesh))


def render_gateway_routes(mesh: Mesh, gateway: Gateway) -> tuple[Manifest, ...]:
    vg = ObjectKey("VirtualGateway", mesh.namespace, gateway.name)
    return tuple(
        Manifest(_cr("GatewayRoute", gr.name, mesh.namespace, {
            "httpRoute": {"match": {"prefix": gr.prefix},
                          "action": {"target": {"virtualService": {"virtualServiceRef": {"name": gr.service}}}}},
        }), (*_in_mesh(mesh), vg))
        for gr in gateway.routes)


def render_gateway_workload(mesh: Mesh, gateway: Gateway) -> tuple[Manifest, Manifest]:
    """The gateway's Envoy Deployment and its internet-facing NLB Service."""
    labels = gateway_labels(gateway)
    container = {
        "name": GATEWAY_CONTAINER, "image": GATEWAY_ENVOY_IMAGE, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": gateway.port, "protocol": "TCP"}],
        "resources": container_resources(gateway.resources),
        # The root filesystem stays writable: the controller-managed Envoy image writes its
        # generated bootstrap at start, and where is not a documented contract.
        "securityContext": {"runAsNonRoot": True, "runAsUser": ENVOY_UID, "runAsGroup": ENVOY_UID,
                            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        # Keep accepting while the load balancer and kube-proxy stop sending to this pod.
        "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SLEEP_SECONDS}}},
    }
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": gateway.name, "namespace": mesh.namespace, "labels": {**labels, **PART_OF}},
        "spec": {
            **replicas_field(gateway.replicas, gateway.autoscaling), "revisionHistoryLimit": 5,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": {
                "serviceAccountName": ENVOY_SERVICE_ACCOUNT,
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [container],
                **node_placement(mesh),
                **({"topologySpreadConstraints": spread_constraints(labels)} if gateway.replicas > 1 else {}),
            }},
        },
    }
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": gateway.name, "namespace": mesh.namespace,
                     "labels": {**PART_OF, **INGRESS_GATEWAY_LABELS}, "annotations": dict(NLB_ANNOTATIONS)},
        "spec": {"type": "LoadBalancer", "selector": dict(labels),
                 "ports": [{"name": "http", "port": GATEWAY_SERVICE_PORT, "targetPort": gateway.port,
                            "protocol": "TCP"}]},
    }
    ns = namespace_key(mesh.namespace)
    return (Manifest(deployment, (ns, ObjectKey("VirtualGateway", mesh.namespace, gateway.name),
                                  ObjectKey("ServiceAccount", mesh.namespace, ENVOY_SERVICE_ACCOUNT))),
            Manifest(service, (ns,)))


# --- workloads ---------------------------------------------------------------------------------
def secret_mount(secret: colorapp.TlsSecret) -> str:
    """The value of `appmesh.k8s.aws/secretMounts` for a Secret: `<name>:<directory>/`."""
    return f"{secret.name}:{CERT_DIR}/"


def tls_pod_volumes(w: Workload) -> tuple[dict[str, Any], ...]:
    """The pod volume that carries a TLS mount of several Secrets (front's: one per trust) into the
    sidecar through `appmesh.k8s.aws/volumeMounts`; none for one Secret, which the injector mounts
    itself (`secretMounts`), or without TLS."""
    source = tls_volume_source(w)
    if source is None or "secret" in source:
        return ()
    return ({"name": VOLUME_NAME, **source},)


def appmesh_pod_annotations(w: Workload, inputs: AppMeshInputs) -> dict[str, str]:
    """What the App Mesh injector reads from a pod: which Secrets to mount into the sidecar, at
    CERT_DIR (file based mTLS, so SDS stays off), and which outbound ports to leave to the app
    (the collector)."""
    out: dict[str, str] = {}
    mount = colorapp.tls_mount(w)
    if tls_pod_volumes(w):
        out[VOLUME_MOUNTS_ANNOTATION] = f"{VOLUME_NAME}:{CERT_DIR}"
    elif mount:
        [secret] = mount
        out[SECRET_MOUNTS_ANNOTATION] = secret_mount(secret)
    if mount:
        out[SDS_ANNOTATION] = "disabled"
    if inputs.otlp_port:
        ports = dict.fromkeys((*DEFAULT_EGRESS_IGNORED_PORTS, inputs.otlp_port))
        out[EGRESS_IGNORED_PORTS_ANNOTATION] = ",".join(str(p) for p in ports)
    return out


def workload_service_account(w: Workload, inputs: AppMeshInputs) -> str:
    return w.name if w.name in inputs.workload_roles else ENVOY_SERVICE_ACCOUNT


def workload_inputs(mesh: Mesh, inputs: AppMeshInputs) -> WorkloadInputs:
    annotations = {w.name: {**appmesh_pod_annotations(w, inputs), **inputs.pod_annotations.get(w.name, {})}
                   for w in mesh.workloads}
    return WorkloadInputs(
        images=inputs.images, default_service_account=ENVOY_SERVICE_ACCOUNT,
        service_accounts={w.name: workload_service_account(w, inputs) for w in mesh.workloads
                          if w.name in inputs.workload_roles},
        otlp_endpoint=inputs.otlp_endpoint, dynamodb_table=inputs.dynamodb_table,
        pod_annotations={k: v for k, v in annotations.items() if v},
        proxy_volumes={w.name: tls_pod_volumes(w) for w in mesh.workloads if tls_pod_volumes(w)},
        reserved_container_names=INJECTED_CONTAINER_NAMES)


def render_app_mesh(mesh: Mesh, settings: Settings, inputs: AppMeshInputs) -> tuple[Manifest, ...]:
    """Every object of one mesh, in an order that is also a valid creation order."""
    check_workload_roles(mesh, inputs.workload_roles, "AppMeshInputs.workload_roles")
    out: list[Manifest] = [render_namespace(mesh), render_mesh_object(mesh),
                           render_service_account(mesh.namespace, ENVOY_SERVICE_ACCOUNT, inputs.envoy_role_arn)]
    out += [render_service_account(mesh.namespace, name, role) for name, role in sorted(inputs.workload_roles.items())]
    out += [render_virtual_node(mesh, w) for w in mesh.workloads]
    out += [render_virtual_router(mesh, r) for r in mesh.routers]
    out += [render_virtual_service(mesh, s) for s in mesh.services]
    if mesh.gateway:
        out.append(render_virtual_gateway(mesh, mesh.gateway))
        out += render_gateway_routes(mesh, mesh.gateway)
    out += render_services(mesh)
    rules = render_network_policies(mesh, traffic_rules_inputs(mesh, settings, inputs))
    out += rules
    after_rules = tuple(r.key for r in rules)
    w_inputs = workload_inputs(mesh, inputs)
    for w in mesh.workloads:
        deployment = render_deployment(mesh, w, settings, w_inputs).after(virtual_node_key(mesh, w.name), *after_rules,
                                                                         *tls_secret_keys(mesh, w))
        out.append(deployment)
    if mesh.gateway:
        deployment, service = render_gateway_workload(mesh, mesh.gateway)
        out += [deployment.after(*after_rules), service]
    out += autoscalers(mesh, out)
    out += disruption_budgets(out)
    return tuple(out)


# --- traffic rules -----------------------------------------------------------------------------
def traffic_rules_inputs(mesh: Mesh, settings: Settings, inputs: AppMeshInputs) -> TrafficRulesInputs:
    """App Mesh's facts for the neutral NetworkPolicies. Callers' Envoys reach a callee on its app
    port (its listener). Every pod's Envoy takes its configuration from the App Mesh Envoy
    Management Service and, with tracing, its X-Ray daemon sends segments to the X-Ray API, both
    AWS endpoints over HTTPS after an STS call for the proxies' IRSA role: NetworkPolicy cannot
    name those endpoints, so every pod may reach TCP 443 outside the VPC (`cloud_api`), never a
    pod or node. Apps reach the collector directly (its port is left out of Envoy's capture). The
    gateway's Envoy listens on the model gateway port, which the NLB Service targets."""
    shared: list[Destination] = [cloud_api(settings.vpc_cidr, "App Mesh's Envoy management service, X-Ray and STS "
                                                              "(the proxies' role), over HTTPS")]
    if inputs.collector is not None:
        shared.append(inputs.collector)
    return TrafficRulesInputs(
        inbound_ports={w.name: (w.port,) for w in mesh.workloads},
        gateway_labels=gateway_labels(mesh.gateway) if mesh.gateway else None,
        gateway_ports=(mesh.gateway.port,) if mesh.gateway else (),
        shared_egress=tuple(shared), workload_egress=cloud_storage_egress(mesh, settings.vpc_cidr))


# --- canary ------------------------------------------------------------------------------------
def canary_keys(mesh: Mesh, plan: CanaryPlan) -> frozenset[ObjectKey]:
    """The objects a canary owns: its router, and its workloads' virtual nodes, Deployments (with
    their autoscalers) and host Services."""
    ns = mesh.namespace
    keys = {ObjectKey("VirtualRouter", ns, plan.router)}
    for name in plan.workloads:
        w = mesh.workload(name)
        keys |= {virtual_node_key(mesh, name), ObjectKey("Deployment", ns, name), ObjectKey("Service", ns, w.host)}
        if w.autoscaling:
            keys.add(ObjectKey("HorizontalPodAutoscaler", ns, name))
    return frozenset(keys)
