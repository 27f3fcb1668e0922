"""The backend-neutral description of a mesh: what every renderer (App Mesh, local Envoy, a
later successor backend) turns into its own objects.

Pure data: no Pulumi, no I/O. `Mesh.validate()` checks the invariants that each backend would
otherwise discover late (a weight that does not sum to 100 is a runtime 503 in Envoy and an
admission error in App Mesh): fail here instead, with a message naming the object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Protocol, TypeVar

CLUSTER_DOMAIN = "svc.cluster.local"
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


class TopologyError(ValueError):
    """A mesh description that breaks an invariant."""


@dataclass(frozen=True)
class HealthCheck:
    """`port`: the serving port, which the mesh's own health check uses. `probe_port`: where the
    kubelet probes instead, for a workload whose serving port requires client certificates (the
    kubelet presents none, so probes there would never pass); None: the serving port."""

    path: str
    port: int
    interval_ms: int = 5000
    timeout_ms: int = 2000
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    probe_port: int | None = None

    @property
    def kubelet_port(self) -> int:
        return self.probe_port if self.probe_port is not None else self.port


@dataclass(frozen=True)
class Resources:
    """Container requests/limits: feed the pod specs and the capacity check."""

    cpu_request_m: int
    memory_request_mi: int
    cpu_limit_m: int | None = None
    memory_limit_mi: int | None = None


@dataclass(frozen=True)
class Autoscaling:
    """A HorizontalPodAutoscaler for a Deployment: from its `replicas` (the minimum, so the
    PodDisruptionBudget and the N-1 check hold at the floor) up to `max_replicas` when the pods'
    average CPU use exceeds `cpu_utilization_percent` of their CPU requests. The capacity check
    counts the Deployment at `max_replicas` on the full node group."""

    max_replicas: int
    cpu_utilization_percent: int = 70


@dataclass(frozen=True)
class BackendEnv:
    """An environment variable that carries the URL of a declared backend to the app."""

    name: str
    service: str
    path: str = "/"


@dataclass(frozen=True)
class ServerTls:
    """Inbound TLS of a workload: its own leaf, and (STRICT) the client certificates it accepts."""

    certificate: str
    client_trust: tuple[str, ...]
    client_sans: tuple[str, ...]
    mode: str = "STRICT"


@dataclass(frozen=True)
class ClientTls:
    """Outbound TLS policy of a workload towards all its backends."""

    certificate: str
    trust: tuple[str, ...]
    sans: tuple[str, ...]
    enforce: bool = True


@dataclass(frozen=True)
class Storage:
    """Where a workload keeps its state. `dynamodb`: a table it reaches with its own cloud
    identity (so it needs a service account of its own); `sqlite`: one file under `directory`,
    which only one writer may hold (so exactly one replica, replaced rather than rolled)."""

    kind: str
    directory: str | None = None

    KINDS = ("dynamodb", "sqlite")

    @property
    def needs_cloud_identity(self) -> bool:
        return self.kind == "dynamodb"

    @property
    def single_writer(self) -> bool:
        return self.kind == "sqlite"


@dataclass(frozen=True)
class Workload:
    """One versioned deployment of an app: a virtual node in App Mesh, a sidecar locally."""

    name: str
    app: str
    image: str
    port: int
    health: HealthCheck
    host: str
    tracing_name: str
    version: str | None = None
    backends: tuple[str, ...] = ()
    backend_env: tuple[BackendEnv, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    replicas: int = 1
    resources: Resources = Resources(cpu_request_m=100, memory_request_mi=128, memory_limit_mi=256)
    server_tls: ServerTls | None = None
    client_tls: ClientTls | None = None
    internal: bool = False
    storage: Storage | None = None
    #: None: `replicas` is fixed; else an HPA scales from `replicas` up to its max
    autoscaling: Autoscaling | None = None
    #: why a single-replica Deployment is acceptable (not on the request path); rendered as an
    #: annotation so a policy can tell a deliberate single replica from a forgotten one
    single_replica_reason: str | None = None

    @property
    def max_replicas(self) -> int:
        """The most pods the Deployment may run (its autoscaler's max, else `replicas`)."""
        return self.autoscaling.max_replicas if self.autoscaling else self.replicas

    @property
    def labels(self) -> dict[str, str]:
        labels = {"app": self.app, "workload": self.name}
        if self.version:
            labels["version"] = self.version
        return labels


@dataclass(frozen=True)
class HeaderMatch:
    name: str
    exact: str


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    per_retry_timeout_ms: int = 2000
    http_events: tuple[str, ...] = ("server-error", "gateway-error")
    tcp_events: tuple[str, ...] = ("connection-error",)


@dataclass(frozen=True)
class WeightedTarget:
    workload: str
    weight: int


@dataclass(frozen=True)
class Route:
    name: str
    targets: tuple[WeightedTarget, ...]
    prefix: str = "/"
    headers: tuple[HeaderMatch, ...] = ()
    timeout_ms: int = 15000
    retries: RetryPolicy | None = None
    priority: int | None = None


@dataclass(frozen=True)
class Router:
    name: str
    port: int
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class Service:
    """A name clients call (`<name>.<namespace>.svc.cluster.local:<port>`), served by exactly one
    workload or by a router."""

    name: str
    port: int
    workload: str | None = None
    router: str | None = None


@dataclass(frozen=True)
class GatewayRoute:
    name: str
    prefix: str
    service: str


@dataclass(frozen=True)
class Gateway:
    name: str
    port: int
    routes: tuple[GatewayRoute, ...]
    replicas: int = 1
    resources: Resources = Resources(cpu_request_m=100, memory_request_mi=64, memory_limit_mi=256)
    autoscaling: Autoscaling | None = None

    @property
    def max_replicas(self) -> int:
        return self.autoscaling.max_replicas if self.autoscaling else self.replicas


@dataclass(frozen=True)
class Mesh:
    name: str
    namespace: str
    workloads: tuple[Workload, ...]
    services: tuple[Service, ...]
    routers: tuple[Router, ...] = ()
    gateway: Gateway | None = None
    #: the CPU architecture of the nodes its pods run on, as Kubernetes names it (`amd64`,
    #: `arm64`), which the cloud renderers pin every pod to; None: any (the local rehearsal has
    #: no nodes)
    node_architecture: str | None = None

    # --- lookups -------------------------------------------------------------------------
    def dns(self, host: str) -> str:
        return f"{host}.{self.namespace}.{CLUSTER_DOMAIN}"

    def workload(self, name: str) -> Workload:
        return _find(self.workloads, name, "workload", self.name)

    def service(self, name: str) -> Service:
        return _find(self.services, name, "service", self.name)

    def router(self, name: str) -> Router:
        return _find(self.routers, name, "router", self.name)

    def service_url(self, name: str, path: str = "/") -> str:
        svc = self.service(name)
        return f"http://{self.dns(svc.name)}:{svc.port}{path}"

    def service_workloads(self, name: str) -> tuple[str, ...]:
        """Workloads that can answer for a service, in model order."""
        svc = self.service(name)
        if svc.workload:
            return (svc.workload,)
        assert svc.router is not None  # validate(): a service without a workload has a router
        names = {t.workload for r in self.router(svc.router).routes for t in r.targets}
        return tuple(w.name for w in self.workloads if w.name in names)

    def hosts(self) -> tuple[str, ...]:
        """Every DNS host of the mesh: workload hosts then routed service names (deduplicated)."""
        seen: dict[str, None] = {}
        for w in self.workloads:
            seen.setdefault(w.host, None)
        for s in self.services:
            seen.setdefault(s.name, None)
        return tuple(seen)

    # --- invariants ----------------------------------------------------------------------
    def validate(self) -> "Mesh":
        _check_unique(self.workloads, "workload", self.name)
        _check_unique(self.services, "service", self.name)
        _check_unique(self.routers, "router", self.name)
        _check_unique(self.hosts_of_workloads(), "workload host", self.name)
        for label in (self.namespace, *self.hosts(), *(w.name for w in self.workloads)):
            if not _DNS_LABEL.match(label):
                raise TopologyError(f"mesh {self.name}: {label!r} is not a DNS label")
        workloads = {w.name for w in self.workloads}
        services = {s.name for s in self.services}
        routers = {r.name for r in self.routers}
        for svc in self.services:
            if (svc.workload is None) == (svc.router is None):
                raise TopologyError(f"service {svc.name}: needs exactly one of workload or router")
            if svc.workload and svc.workload not in workloads:
                raise TopologyError(f"service {svc.name}: workload {svc.workload!r} does not exist")
            if svc.router and svc.router not in routers:
                raise TopologyError(f"service {svc.name}: router {svc.router!r} does not exist")
            if svc.workload and self.workload(svc.workload).port != svc.port:
                raise TopologyError(f"service {svc.name}: port {svc.port} differs from its workload's")
        for router in self.routers:
            self._check_router(router, workloads)
        for w in self.workloads:
            for backend in w.backends:
                if backend not in services:
                    raise TopologyError(f"workload {w.name}: backend {backend!r} is not a declared service")
            for env in w.backend_env:
                if env.service not in w.backends:
                    raise TopologyError(
                        f"workload {w.name}: env {env.name} points at {env.service!r}, which is not one of its backends")
            if w.health.port != w.port:
                raise TopologyError(f"workload {w.name}: health check port {w.health.port} is not its port {w.port}")
            if w.health.probe_port is not None and not (0 < w.health.probe_port < 65536 and w.health.probe_port != w.port):
                raise TopologyError(f"workload {w.name}: probe port {w.health.probe_port} must be a port other than {w.port}")
            if w.server_tls is not None and w.server_tls.mode == "STRICT" and w.health.kubelet_port == w.port:
                raise TopologyError(
                    f"workload {w.name}: port {w.port} requires client certificates, which the kubelet's probes do not "
                    "present; give its health check a probe_port of its own")
            if w.replicas < 1:
                raise TopologyError(f"workload {w.name}: replicas must be at least 1")
            _check_autoscaling(f"workload {w.name}", w.replicas, w.autoscaling)
            if w.autoscaling and w.storage is not None and w.storage.single_writer:
                raise TopologyError(f"workload {w.name}: {w.storage.kind} storage has a single writer, so it "
                                    "cannot autoscale")
            if w.storage is not None:
                if w.storage.kind not in Storage.KINDS:
                    raise TopologyError(f"workload {w.name}: storage {w.storage.kind!r} is not one of {Storage.KINDS}")
                if w.storage.kind == "sqlite" and not (w.storage.directory or "").startswith("/"):
                    raise TopologyError(f"workload {w.name}: sqlite storage needs an absolute directory")
            self._check_sans(w)
        if self.gateway:
            _check_autoscaling(f"gateway {self.gateway.name}", self.gateway.replicas, self.gateway.autoscaling)
            for gr in self.gateway.routes:
                if gr.service not in services:
                    raise TopologyError(f"gateway route {gr.name}: service {gr.service!r} does not exist")
        self._check_reachability()
        return self

    def hosts_of_workloads(self) -> tuple[_Named, ...]:
        return tuple(_Named(w.host) for w in self.workloads)

    def _check_router(self, router: Router, workloads: set[str]) -> None:
        if not router.routes:
            raise TopologyError(f"router {router.name}: has no routes")
        _check_unique(router.routes, f"route of router {router.name}", self.name)
        for route in router.routes:
            if not route.targets:
                raise TopologyError(f"route {route.name}: has no targets")
            total = 0
            for t in route.targets:
                if isinstance(t.weight, bool) or not isinstance(t.weight, int) or not 0 <= t.weight <= 100:
                    raise TopologyError(f"route {route.name}: weight {t.weight!r} of {t.workload} is not an integer 0-100")
                if t.workload not in workloads:
                    raise TopologyError(f"route {route.name}: target {t.workload!r} does not exist")
                if self.workload(t.workload).port != router.port:
                    raise TopologyError(f"route {route.name}: target {t.workload} does not listen on {router.port}")
                total += t.weight
            if total != 100:
                raise TopologyError(f"route {route.name}: weights sum to {total}, not 100")
            if not route.prefix.startswith("/"):
                raise TopologyError(f"route {route.name}: prefix {route.prefix!r} must start with /")

    def _check_sans(self, w: Workload) -> None:
        own = {self.dns(h) for h in self.hosts()}
        policies = [("server_tls", w.server_tls, w.server_tls.client_sans if w.server_tls else ()),
                    ("client_tls", w.client_tls, w.client_tls.sans if w.client_tls else ())]
        for label, policy, sans in policies:
            if policy is None:
                continue
            for san in sans:
                if san not in own:
                    raise TopologyError(
                        f"workload {w.name}: {label} SAN {san!r} is not the DNS name of a service in namespace {self.namespace}")

    def _check_reachability(self) -> None:
        reached: set[str] = set()
        frontier = [r.service for r in self.gateway.routes] if self.gateway else []
        frontier += [b for w in self.workloads if w.internal for b in w.backends]
        reached |= {w.name for w in self.workloads if w.internal}
        while frontier:
            svc = frontier.pop()
            for name in self.service_workloads(svc):
                if name not in reached:
                    reached.add(name)
                    frontier.extend(self.workload(name).backends)
        for w in self.workloads:
            if w.name not in reached:
                raise TopologyError(
                    f"workload {w.name}: unreachable from the gateway (declare it internal if that is intended)")


@dataclass(frozen=True)
class Topology:
    meshes: tuple[Mesh, ...]

    def mesh(self, name: str) -> Mesh:
        return _find(self.meshes, name, "mesh", "topology")

    def workloads_storing_in(self, kind: str) -> tuple[tuple[Mesh, Workload], ...]:
        """(mesh, workload) for every workload whose model storage is of `kind`."""
        return tuple((m, w) for m in self.meshes for w in m.workloads if w.storage and w.storage.kind == kind)

    def mesh_in(self, namespace: str) -> Mesh:
        for m in self.meshes:
            if m.namespace == namespace:
                return m
        raise TopologyError(f"no mesh in namespace {namespace!r}")

    def validate(self) -> "Topology":
        _check_unique(self.meshes, "mesh", "topology")
        for m in self.meshes:
            m.validate()
        namespaces = [m.namespace for m in self.meshes]
        if len(set(namespaces)) != len(namespaces):
            raise TopologyError(f"two meshes share a namespace: {namespaces}")
        return self


@dataclass(frozen=True)
class _Named:
    name: str


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


_NamedT = TypeVar("_NamedT", bound=_HasName)


def _find(items: Iterable[_NamedT], name: str, kind: str, where: str) -> _NamedT:
    for item in items:
        if item.name == name:
            return item
    raise TopologyError(f"{where}: no {kind} named {name!r}")


def _check_unique(items: Iterable[_HasName], kind: str, where: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            raise TopologyError(f"{where}: two {kind}s named {item.name!r}")
        seen.add(item.name)


def _check_autoscaling(what: str, replicas: int, autoscaling: Autoscaling | None) -> None:
    if autoscaling is None:
        return
    if autoscaling.max_replicas < replicas:
        raise TopologyError(f"{what}: autoscaling max {autoscaling.max_replicas} is below its {replicas} replicas")
    if not 1 <= autoscaling.cpu_utilization_percent <= 100:
        raise TopologyError(f"{what}: CPU utilization target {autoscaling.cpu_utilization_percent} is not 1-100 %")
