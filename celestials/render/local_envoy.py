"""Local backend: the mesh as Envoy bootstraps — one sidecar per workload, one per gateway.

A sidecar has an inbound listener in front of its app and one outbound listener per declared
backend (so an undeclared call has nowhere to go, as with App Mesh's egress filter). Routers
become weighted clusters and header matches in the *caller's* sidecar, as in a mesh; TLS is
file-based; retries, timeouts, access logs and OpenTelemetry tracing come from the model.
Pure: the model and the local plan in, plain dicts (Envoy v3 JSON with typed `@type`s) out.
"""

from __future__ import annotations

from typing import Any

from ..topology.model import (ClientTls, Gateway, Mesh, RetryPolicy, Route, ServerTls, Topology,
                              TopologyError, Workload)
from .local_plan import Endpoint, LocalPlan, sidecar_name

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
_FILE_LOG = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
_OTEL = "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig"
_DOWNSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
_UPSTREAM_TLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
_TLS_INSPECTOR = "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"

LOCAL_APP_CLUSTER = "local-app"
TRACE_SINK_CLUSTER = "trace-sink"

#: App Mesh retry events → Envoy `retry_on` conditions.
_RETRY_ON = {
    "server-error": ("5xx",),
    "gateway-error": ("gateway-error",),
    "client-error": ("retriable-4xx",),
    "stream-error": ("refused-stream", "reset"),
    "connection-error": ("connect-failure", "reset"),
}

_ACCESS_LOG_FORMAT = {
    "time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "authority": "%REQ(:AUTHORITY)%",
    "status": "%RESPONSE_CODE%",
    "flags": "%RESPONSE_FLAGS%",
    "details": "%RESPONSE_CODE_DETAILS%",
    "duration_ms": "%DURATION%",
    "upstream_cluster": "%UPSTREAM_CLUSTER%",
    "upstream_host": "%UPSTREAM_HOST%",
    "upstream_failure": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
    "attempts": "%UPSTREAM_REQUEST_ATTEMPT_COUNT%",
    "peer_san": "%DOWNSTREAM_PEER_URI_SAN%",
    "peer_dns_san": "%DOWNSTREAM_PEER_DNS_SAN%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "traceparent": "%REQ(TRACEPARENT)%",
}

#: Envoy's OpenTelemetry tracer batches spans; flush twice a second so traces show up promptly
#: without one export per span under load.
_TRACING_RUNTIME = {"tracing.opentelemetry.flush_interval_ms": 500, "tracing.opentelemetry.min_flush_spans": 64}


#: A failed upstream connection's 503 says why, as App Mesh's Envoy does (Envoy >= 1.38 dropped the
#: transport failure reason from that body): only the local app calls an outbound listener, and the
#: colorapp front turns "CERTIFICATE_VERIFY_FAILED" into "the color service's certificate is not trusted".
_OUTBOUND_LOCAL_REPLY = {"mappers": [{
    "filter": {"response_flag_filter": {"flags": ["UF"]}},
    "body_format_override": {"text_format_source": {
        "inline_string": "%LOCAL_REPLY_BODY%, transport failure reason: %UPSTREAM_TRANSPORT_FAILURE_REASON%"}},
}]}


def render_envoy_configs(topology: Topology, plan: LocalPlan, tracing: bool = True) -> dict[str, dict[str, Any]]:
    """Every Envoy of the rehearsal: process name → bootstrap."""
    configs: dict[str, dict[str, Any]] = {}
    for mesh in topology.meshes:
        for w in mesh.workloads:
            configs[sidecar_name(w)] = sidecar_bootstrap(mesh, w, plan, tracing)
        if mesh.gateway:
            configs[mesh.gateway.name] = gateway_bootstrap(mesh, mesh.gateway, plan, tracing)
    return configs


def sidecar_bootstrap(mesh: Mesh, w: Workload, plan: LocalPlan, tracing: bool) -> dict[str, Any]:
    name = sidecar_name(w)
    ctx = _Ctx(name, plan, tracing)
    listeners = [_inbound_listener(ctx, mesh, w)]
    targets: dict[str, None] = {}
    for backend in w.backends:
        routes = _service_routes(mesh, backend, "/")
        hcm = ctx.hcm(f"outbound_{backend}", route_config(backend, routes))
        hcm["typed_config"]["local_reply_config"] = _OUTBOUND_LOCAL_REPLY
        listeners.append(envoy_listener(
            f"outbound-{backend}", plan.outbound(mesh, w, backend), "OUTBOUND", [{"filters": [hcm]}]))
        targets.update(dict.fromkeys(mesh.service_workloads(backend)))
    clusters = [static_cluster(LOCAL_APP_CLUSTER, plan.app(mesh, w))]
    clusters += [_workload_cluster(mesh, mesh.workload(t), plan, w.client_tls) for t in targets]
    return ctx.bootstrap(w.name, plan.sidecar_admin(mesh, w), listeners, clusters)


def gateway_bootstrap(mesh: Mesh, gw: Gateway, plan: LocalPlan, tracing: bool) -> dict[str, Any]:
    """The ingress gateway: gateway routes (longest prefix first) onto the services' targets."""
    ctx = _Ctx(gw.name, plan, tracing)
    routes: list[dict[str, Any]] = []
    targets: dict[str, None] = {}
    for gr in sorted(gw.routes, key=lambda r: (-len(r.prefix), r.name)):
        routes += _service_routes(mesh, gr.service, gr.prefix)
        targets.update(dict.fromkeys(mesh.service_workloads(gr.service)))
    hcm = ctx.hcm("ingress", route_config(gw.name, routes), use_remote_address=True)
    listeners = [envoy_listener("ingress", plan.gateway(mesh, gw), "INBOUND", [{"filters": [hcm]}])]
    clusters = [_workload_cluster(mesh, mesh.workload(t), plan, None) for t in targets]
    return ctx.bootstrap(gw.name, plan.gateway_admin(mesh, gw), listeners, clusters)


class _Ctx:
    """What every listener and the bootstrap of one Envoy share: its name, plan and tracing."""

    def __init__(self, name: str, plan: LocalPlan, tracing: bool):
        self.name, self.plan, self.tracing = name, plan, tracing

    def hcm(self, stat_prefix: str, route_config: dict[str, Any], use_remote_address: bool = False) -> dict[str, Any]:
        config: dict[str, Any] = {
            "@type": HCM,
            "stat_prefix": stat_prefix,
            "codec_type": "AUTO",
            "use_remote_address": use_remote_address,
            "route_config": route_config,
            "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}}],
            "access_log": [{"name": "envoy.access_loggers.file", "typed_config": {
                "@type": _FILE_LOG, "path": self.plan.access_log(self.name),
                "log_format": {"json_format": {**_ACCESS_LOG_FORMAT, "listener": stat_prefix}}}}],
        }
        if self.tracing:
            config["tracing"] = {"random_sampling": {"value": 100}, "provider": {
                "name": "envoy.tracers.opentelemetry",
                "typed_config": {"@type": _OTEL, "service_name": self.name, "http_service": {
                    "http_uri": {"uri": self.plan.sink.url + "/v1/traces", "cluster": TRACE_SINK_CLUSTER,
                                 "timeout": "1s"}}}}}
        return {"name": "envoy.filters.network.http_connection_manager", "typed_config": config}

    def bootstrap(self, cluster: str, admin: Endpoint, listeners: list[dict[str, Any]],
                  clusters: list[dict[str, Any]]) -> dict[str, Any]:
        config: dict[str, Any] = {
            "node": {"id": self.name, "cluster": cluster},
            "admin": {"address": socket_address(admin)},
            "static_resources": {"listeners": listeners, "clusters": list(clusters)},
        }
        if self.tracing:
            config["static_resources"]["clusters"].append(static_cluster(TRACE_SINK_CLUSTER, self.plan.sink))
            config["layered_runtime"] = {"layers": [{"name": "tracing", "static_layer": dict(_TRACING_RUNTIME)}]}
        return config


def _inbound_listener(ctx: _Ctx, mesh: Mesh, w: Workload) -> dict[str, Any]:
    routes = [{"match": {"prefix": "/"}, "route": {"cluster": LOCAL_APP_CLUSTER}}]
    hcm = ctx.hcm("inbound", route_config("inbound", routes))
    endpoint = ctx.plan.inbound(mesh, w)
    tls = w.server_tls
    if tls is None or tls.mode == "DISABLED":
        return envoy_listener("inbound", endpoint, "INBOUND", [{"filters": [hcm]}])
    secure = {"filters": [hcm], "transport_socket": _downstream_tls(ctx.plan, w, tls)}
    if tls.mode == "STRICT":
        return envoy_listener("inbound", endpoint, "INBOUND", [secure])
    if tls.mode == "PERMISSIVE":
        secure["filter_chain_match"] = {"transport_protocol": "tls"}
        listener = envoy_listener("inbound", endpoint, "INBOUND", [secure, {"filters": [hcm]}])
        listener["listener_filters"] = [{"name": "envoy.filters.listener.tls_inspector",
                                         "typed_config": {"@type": _TLS_INSPECTOR}}]
        return listener
    raise TopologyError(f"workload {w.name}: server TLS mode {tls.mode!r} is not STRICT, PERMISSIVE or DISABLED")


def _downstream_tls(plan: LocalPlan, w: Workload, tls: ServerTls) -> dict[str, Any]:
    chain, key = plan.leaf_files(tls.certificate)
    context: dict[str, Any] = {"tls_certificates": [{"certificate_chain": {"filename": chain},
                                                     "private_key": {"filename": key}}]}
    config: dict[str, Any] = {"@type": _DOWNSTREAM_TLS, "common_tls_context": context}
    if tls.client_trust:
        context["validation_context"] = _validation(plan, tls.client_trust, tls.client_sans)
        config["require_client_certificate"] = True
    elif tls.client_sans:
        raise TopologyError(f"workload {w.name}: server TLS checks client SANs but trusts no CA")
    return {"name": "envoy.transport_sockets.tls", "typed_config": config}


def _upstream_tls(mesh: Mesh, plan: LocalPlan, target: Workload, tls: ClientTls) -> dict[str, Any]:
    chain, key = plan.leaf_files(tls.certificate)
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": _UPSTREAM_TLS,
        "sni": mesh.dns(target.host),
        "common_tls_context": {
            "tls_certificates": [{"certificate_chain": {"filename": chain}, "private_key": {"filename": key}}],
            "validation_context": _validation(plan, tls.trust, tls.sans),
        },
    }}


def _validation(plan: LocalPlan, trust: tuple[str, ...], sans: tuple[str, ...]) -> dict[str, Any]:
    validation: dict[str, Any] = {"trusted_ca": {"filename": plan.trust_file(trust)}}
    if sans:
        validation["match_typed_subject_alt_names"] = [
            {"san_type": "DNS", "matcher": {"exact": san}} for san in sans]
    return validation


def _service_routes(mesh: Mesh, service: str, within_prefix: str) -> list[dict[str, Any]]:
    """Envoy routes for calls to `service`, restricted to paths under `within_prefix`.

    A service served by one workload is one route; a routed service becomes the router's routes
    in priority order (App Mesh: lower number first, unprioritised last, then model order).
    The Host header is rewritten to the service's DNS name, as a mesh client would send it.
    """
    svc = mesh.service(service)
    host = f"{mesh.dns(svc.name)}:{svc.port}"
    if svc.workload:
        return [{"match": {"prefix": within_prefix},
                 "route": {"cluster": svc.workload, "host_rewrite_literal": host}}]
    assert svc.router is not None  # validate(): a service without a workload has a router
    router = mesh.router(svc.router)
    ordered = sorted(enumerate(router.routes),
                     key=lambda ir: (ir[1].priority is None, ir[1].priority or 0, ir[0]))
    routes = []
    for _, route in ordered:
        prefix = _narrower_prefix(within_prefix, route.prefix)
        if prefix is not None:
            routes.append(_router_route(route, prefix, host))
    return routes


def _router_route(route: Route, prefix: str, host: str) -> dict[str, Any]:
    match: dict[str, Any] = {"prefix": prefix}
    if route.headers:
        match["headers"] = [{"name": h.name, "string_match": {"exact": h.exact}} for h in route.headers]
    action: dict[str, Any] = {
        "weighted_clusters": {"clusters": [{"name": t.workload, "weight": t.weight} for t in route.targets]},
        "timeout": _duration(route.timeout_ms),
        "host_rewrite_literal": host,
    }
    if route.retries:
        action["retry_policy"] = _retry_policy(route.name, route.retries)
    return {"name": route.name, "match": match, "route": action}


def _retry_policy(route: str, retries: RetryPolicy) -> dict[str, Any]:
    conditions: dict[str, None] = {}
    for event in (*retries.http_events, *retries.tcp_events):
        if event not in _RETRY_ON:
            raise TopologyError(f"route {route}: retry event {event!r} is not one of {', '.join(_RETRY_ON)}")
        conditions.update(dict.fromkeys(_RETRY_ON[event]))
    return {"retry_on": ",".join(conditions), "num_retries": retries.max_retries,
            "per_try_timeout": _duration(retries.per_retry_timeout_ms)}


def _narrower_prefix(a: str, b: str) -> str | None:
    """The paths matched by both prefixes, as one prefix (or None when they are disjoint)."""
    if b.startswith(a):
        return b
    if a.startswith(b):
        return a
    return None


def route_config(name: str, routes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "virtual_hosts": [{"name": name, "domains": ["*"], "routes": routes}]}


def envoy_listener(name: str, endpoint: Endpoint, direction: str, chains: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "address": socket_address(endpoint), "traffic_direction": direction,
            "filter_chains": chains}


def _workload_cluster(mesh: Mesh, target: Workload, plan: LocalPlan, tls: ClientTls | None) -> dict[str, Any]:
    cluster = static_cluster(target.name, plan.inbound(mesh, target))
    if tls is not None and tls.enforce:
        cluster["transport_socket"] = _upstream_tls(mesh, plan, target, tls)
    return cluster


def static_cluster(name: str, endpoint: Endpoint) -> dict[str, Any]:
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": name, "endpoints": [
            {"lb_endpoints": [{"endpoint": {"address": socket_address(endpoint)}}]}]},
    }


def socket_address(endpoint: Endpoint) -> dict[str, Any]:
    return {"socket_address": {"address": endpoint.host, "port_value": endpoint.port}}


def _duration(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}s"
