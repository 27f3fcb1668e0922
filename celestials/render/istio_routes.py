"""Gateway API routing of a mesh on Istio (the standard channel of the pinned bundle,
celestials.artifacts.GATEWAY_API): the ingress `Gateway` + its `HTTPRoute`, and one GAMMA mesh `HTTPRoute` per model router.

Mapping from the model:
* A router becomes an `HTTPRoute` named after it whose parentRefs are the Services that use it
  (`group: ""`, `kind: Service`, with the Service port): Istio's sidecars apply it to every call
  a meshed client makes to that Service. Each model route is one rule: path prefix and exact
  header matches, backendRefs to the target workloads' host Services with the model's weights
  (a weight of 0 is rendered as `weight: 0`, so the backend stays declared and a later shift is a
  one-field change), and the route timeout as `timeouts.request`.
* Retries: the standard channel's HTTPRoute has no retry field (HTTPRoute retries, GEP-1731, are
  experimental only; `rules[].retry` is absent from the standard CRDs up to v1.6.1). So the model's
  `RetryPolicy` is not rendered here; Istio's sidecars then apply Istio's default retry policy
  to mesh routes (2 attempts on connect-failure, refused-stream, unavailable, cancelled and a
  503 response; `meshConfig.defaultHttpRetryPolicy` changes it mesh-wide). That covers the
  model's `connection-error` and part of `gateway-error`, but not 500/502/504 nor the per-retry
  timeout. Exact parity would need the experimental CRDs or an Istio `VirtualService` for the
  same host, which would compete with the HTTPRoute for it; neither is worth it for the demo.
* `Route.priority` has no Gateway API field: rule precedence follows the spec (longest path
  prefix, then most header matches). The model's meshes never rely on priority to break a tie.
* The ingress `Gateway` (class `istio`, one HTTP listener on the public port, routes from its
  own namespace) binds, through `spec.addresses` (type Hostname), to the gateway Service the
  program renders itself (istio_gateway: why not the one istiod would generate), so istiod
  programs those pods instead of creating a Deployment and Service of its own. Its `HTTPRoute`
  sends each model gateway route's prefix to the Service it names. Per GAMMA, mesh routes bind
  mesh clients, not the gateway, so a gateway route to a routed Service would reach its pods
  without the router's split: the model's gateway routes name workload Services only.

Ordering: everything after the namespace; the ingress route after its Gateway and its backend
Service; a mesh route after its parent and backend Services and its backends' Deployments, so a
new version has rolled out before the route sends it traffic (Deployments never wait for routes,
so there is no cycle).
"""

from __future__ import annotations

from typing import Any

from ..topology.model import Gateway, Mesh, Route, Router
from .kubernetes_workloads import PART_OF, Manifest, ObjectKey, RenderError, namespace_key
from .istio_gateway import gateway_service_host, gateway_service_key, render_gateway_workload
from .load_balancer import PUBLIC_HTTP_PORT

GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1"
#: The GatewayClass Istio's gateway controller serves.
GATEWAY_CLASS = "istio"
GATEWAY_LISTENER = "http"
#: Largest value of one unit in a Gateway API duration (GEP-2257: at most 5 digits per unit).
_MAX_DURATION_UNIT = 99999


def gateway_api_duration(millis: int) -> str:
    """A Gateway API duration string (`5s`, `1500ms`, `12s345ms`) for a positive millisecond value."""
    if isinstance(millis, bool) or not isinstance(millis, int) or millis <= 0:
        raise RenderError(f"timeout {millis!r} ms: must be a positive whole number of milliseconds")
    seconds, rest = divmod(millis, 1000)
    if seconds > _MAX_DURATION_UNIT:
        raise RenderError(f"timeout {millis} ms: longer than a Gateway API duration can say "
                          f"({_MAX_DURATION_UNIT} s)")
    return (f"{seconds}s" if seconds else "") + (f"{rest}ms" if rest else "")


def _meta(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": dict(PART_OF)}


def service_key(mesh: Mesh, name: str) -> ObjectKey:
    return ObjectKey("Service", mesh.namespace, name)


# --- ingress -----------------------------------------------------------------------------------
def gateway_key(mesh: Mesh, gateway: Gateway) -> ObjectKey:
    return ObjectKey("Gateway", mesh.namespace, gateway.name)


def render_gateway(mesh: Mesh, gateway: Gateway) -> Manifest:
    spec = {
        "gatewayClassName": GATEWAY_CLASS,
        "addresses": [{"type": "Hostname", "value": gateway_service_host(mesh, gateway)}],
        "listeners": [{"name": GATEWAY_LISTENER, "port": PUBLIC_HTTP_PORT, "protocol": "HTTP",
                       "allowedRoutes": {"namespaces": {"from": "Same"}}}],
    }
    obj = {"apiVersion": GATEWAY_API_VERSION, "kind": "Gateway", "metadata": _meta(gateway.name, mesh.namespace),
           "spec": spec}
    return Manifest(obj, (namespace_key(mesh.namespace), gateway_service_key(mesh, gateway)))


def render_ingress_route(mesh: Mesh, gateway: Gateway) -> Manifest:
    """One HTTPRoute on the Gateway's listener: each gateway route's prefix to its Service."""
    rules = []
    for gr in gateway.routes:
        svc = mesh.service(gr.service)
        rules.append({"name": gr.name,
                      "matches": [{"path": {"type": "PathPrefix", "value": gr.prefix}}],
                      "backendRefs": [{"group": "", "kind": "Service", "name": svc.name, "port": svc.port}]})
    spec = {"parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway.name,
                            "sectionName": GATEWAY_LISTENER}],
            "rules": rules}
    obj = {"apiVersion": GATEWAY_API_VERSION, "kind": "HTTPRoute", "metadata": _meta(gateway.name, mesh.namespace),
           "spec": spec}
    backends = dict.fromkeys(service_key(mesh, gr.service) for gr in gateway.routes)
    return Manifest(obj, (namespace_key(mesh.namespace), gateway_key(mesh, gateway), *backends))


# --- mesh routes (GAMMA) -----------------------------------------------------------------------
def _match(route: Route) -> dict[str, Any]:
    match: dict[str, Any] = {"path": {"type": "PathPrefix", "value": route.prefix}}
    if route.headers:
        match["headers"] = [{"type": "Exact", "name": h.name, "value": h.exact} for h in route.headers]
    return match


def _rule(mesh: Mesh, route: Route) -> dict[str, Any]:
    backends = []
    for t in route.targets:
        w = mesh.workload(t.workload)
        backends.append({"group": "", "kind": "Service", "name": w.host, "port": w.port, "weight": t.weight})
    return {"name": route.name, "matches": [_match(route)], "backendRefs": backends,
            "timeouts": {"request": gateway_api_duration(route.timeout_ms)}}


def render_mesh_route(mesh: Mesh, router: Router) -> Manifest:
    parents = [s for s in mesh.services if s.router == router.name]
    if not parents:
        raise RenderError(f"router {router.name}: no service of mesh {mesh.name} uses it, so a mesh HTTPRoute "
                          "would have no Service to attach to")
    spec = {"parentRefs": [{"group": "", "kind": "Service", "name": s.name, "port": s.port} for s in parents],
            "rules": [_rule(mesh, r) for r in router.routes]}
    obj = {"apiVersion": GATEWAY_API_VERSION, "kind": "HTTPRoute", "metadata": _meta(router.name, mesh.namespace),
           "spec": spec}
    targets = dict.fromkeys(t.workload for r in router.routes for t in r.targets)
    deps = [namespace_key(mesh.namespace), *(service_key(mesh, s.name) for s in parents)]
    for name in targets:
        deps += [service_key(mesh, mesh.workload(name).host), ObjectKey("Deployment", mesh.namespace, name)]
    return Manifest(obj, tuple(dict.fromkeys(deps)))


def route_key(mesh: Mesh, router: str) -> ObjectKey:
    return ObjectKey("HTTPRoute", mesh.namespace, router)


def render_routes(mesh: Mesh) -> tuple[Manifest, ...]:
    """The ingress Gateway and its route (when the mesh has a gateway), then the mesh routes."""
    out: list[Manifest] = []
    if mesh.gateway:
        out += [*render_gateway_workload(mesh, mesh.gateway), render_gateway(mesh, mesh.gateway),
                render_ingress_route(mesh, mesh.gateway)]
    out += [render_mesh_route(mesh, r) for r in mesh.routers]
    return tuple(out)
