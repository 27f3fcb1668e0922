"""The model's file-based TLS (the two-CA colorapp demo) on Istio sidecars.

Istio's own mTLS cannot say "front trusts CA1 only": it has one mesh root. So the demo's TLS runs
beside it, on files, with the same semantics as App Mesh's listener TLS and client policy:

* Files: the workload's TLS Secrets (`colorapp.tls_mount`, the Secrets the mTLS component
  issues; for front, those of both trusts) are mounted into `istio-proxy` at `TLS_DIR`, as the
  one volume of `tls_volume`, through the injector's `sidecar.istio.io/userVolume` /
  `userVolumeMount` pod annotations (JSON maps). Istio cannot read a Secret for a sidecar's
  inbound TLS (`credentialName` is gateway-only there), so files it is, on both sides.
* Client side (a workload with `client_tls`, i.e. front): one `DestinationRule` per host its
  backends reach (for `color`: `color-blue`, `color-green`, `color-red`), scoped to the client's
  pods (`workloadSelector`, `exportTo: ["."]`: without the selector every client in the
  namespace, the ingress gateway included, would try files it does not have), with
  `tls.mode: MUTUAL`, the client's certificate chain, key and trust file, the model's SANs and
  the host's DNS name as SNI. This replaces Istio's automatic mTLS for those hosts. `enforce`
  is the only mode: a DestinationRule always originates TLS (so front fails to reach red, which
  has no certificate, exactly as under App Mesh).
* Server side (a workload with `server_tls`: blue, green): a `Sidecar` whose only ingress
  listener terminates TLS MUTUAL on `TLS_INGRESS_PORT` with the workload's chain, key and client
  trust, forwarding plain HTTP to the app's port; and a `PeerAuthentication` that turns Istio's
  own mTLS off on that port only (`portLevelMtls`) and requires it (STRICT) everywhere else.
  Sidecar ingress TLS is experimental: istiod needs `ENABLE_TLS_ON_SIDECAR_INGRESS=true` (set
  with the istiod release).
* The accepted client SANs (front's): istiod's webhook refuses `subjectAltNames` in a Sidecar's
  ingress TLS (`ValidateSidecar`), and an AuthorizationPolicy cannot stand in, because istiod
  turns every `principals` value into a `spiffe://` match while front's demo certificate carries
  a DNS SAN only. So an `EnvoyFilter` (networking.istio.io/v1alpha3, the workload's pods only)
  merges `match_typed_subject_alt_names` (DNS, exact) into the validation context of the TLS
  filter chain istiod builds for that port: the same field istiod itself fills from a
  DestinationRule's `subjectAltNames`, checked by Envoy in the handshake, as App Mesh's listener
  validation did. It matches the inbound TLS chain on that port only (`transportProtocol: tls`),
  and pins no proxy version: an upgrade that changed the chain's shape must fail loudly (Envoy
  refuses a validation context without its trust), not drop the check silently.

Ports (the subtle part):
* The Services keep their port and its name `http` (and `appProtocol: http`): clients'
  sidecars must see HTTP so the router's HTTPRoute (header matches) applies; their
  DestinationRule then wraps that HTTP in the demo's TLS.
* A server-TLS workload's own Services (its host Service, and a model Service it serves
  directly) target `TLS_INGRESS_PORT` instead of the app port: the client sidecar connects to
  the endpoint's target port, and that is where the Sidecar listener terminates TLS. The app
  keeps listening on its port (the listener forwards to `0.0.0.0:<app port>`), so probes, which
  the injector rewrites to go through the sidecar agent on localhost, still reach it.
* The Sidecar ingress port is the target port and the `PeerAuthentication` key is the target
  port (both act on what arrives at the pod), never the Service port.
* A Sidecar that declares `ingress` replaces the inbound listeners Istio would derive from the
  Services: the app port is deliberately not declared, so nothing reaches the app around the
  demo's TLS through a mesh listener; what may still arrive on it directly (pod IP) meets the
  workload-wide STRICT PeerAuthentication, i.e. only Istio-authenticated peers. A routed Service
  that selects these pods together with others (`color`) still targets the app port; meshed
  clients never use its endpoints (its HTTPRoute sends them to the host Services).

The trust switch (`mtlsTrust`) changes only the client's DestinationRules (the trust file they
name): front's sidecar has both trust files mounted in every state, so its pods do not change and
the running ones read the new file as soon as istiod pushes the rules; nothing on the servers.
"""

from __future__ import annotations

import json
from typing import Any

from ..topology import colorapp
from ..topology.model import Mesh, Workload
from .kubernetes_workloads import PART_OF, Manifest, RenderError, namespace_key
from .tls_volume import VOLUME_NAME, tls_volume_source

NETWORKING_API_VERSION = "networking.istio.io/v1"
#: EnvoyFilter is served in v1alpha3 only.
ENVOY_FILTER_API_VERSION = "networking.istio.io/v1alpha3"
SECURITY_API_VERSION = "security.istio.io/v1"
#: Where istio-proxy sees the workload's TLS Secrets (Istio's own choice, not App Mesh's `/certs`).
TLS_DIR = "/etc/istio/tls-certs"
TLS_VOLUME = VOLUME_NAME
USER_VOLUME_ANNOTATION = "sidecar.istio.io/userVolume"
USER_VOLUME_MOUNT_ANNOTATION = "sidecar.istio.io/userVolumeMount"
#: The pod port on which a server-TLS workload's sidecar terminates the demo's TLS.
TLS_INGRESS_PORT = 8443
TLS_PORT_NAME = "demo-tls"
#: The model's (App Mesh vocabulary) server TLS mode → Istio's.
_SERVER_MODES = {"STRICT": "MUTUAL"}
#: What istiod names the TLS transport socket of an inbound filter chain, and its config's type:
#: an EnvoyFilter MERGE patches that socket only when both agree.
TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls"
DOWNSTREAM_TLS_CONTEXT = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def tls_pod_annotations(w: Workload) -> dict[str, str]:
    """Mount the workload's TLS Secrets into istio-proxy at TLS_DIR (none without TLS)."""
    source = tls_volume_source(w)
    if source is None:
        return {}
    return {USER_VOLUME_ANNOTATION: _json({TLS_VOLUME: source}),
            USER_VOLUME_MOUNT_ANNOTATION: _json({TLS_VOLUME: {"mountPath": TLS_DIR, "readOnly": True}})}


def tls_paths(w: Workload) -> dict[str, str]:
    return colorapp.tls_files(w, TLS_DIR)


def _meta(name: str, namespace: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": dict(PART_OF)}


# --- client side -------------------------------------------------------------------------------
def tls_destination_hosts(mesh: Mesh, w: Workload) -> tuple[str, ...]:
    """The Service names the workload's calls actually reach: a backend served by a workload is
    reached by its own name; a routed backend through its targets' host Services."""
    hosts: dict[str, None] = {}
    for backend in w.backends:
        svc = mesh.service(backend)
        if svc.workload:
            hosts.setdefault(svc.name, None)
        else:
            for name in mesh.service_workloads(svc.name):
                hosts.setdefault(mesh.workload(name).host, None)
    return tuple(hosts)


def destination_rule_name(w: Workload, host: str) -> str:
    return f"{w.name}-to-{host}"


def render_client_tls(mesh: Mesh, w: Workload) -> tuple[Manifest, ...]:
    """front's DestinationRules: MUTUAL TLS with its own files towards each backend host."""
    policy = w.client_tls
    if policy is None:
        return ()
    if not policy.enforce:
        raise RenderError(f"workload {w.name}: client TLS with enforce=false (TLS only where the server offers "
                          "it) has no Istio equivalent; a DestinationRule always originates TLS")
    paths = tls_paths(w)
    out = []
    for host in tls_destination_hosts(mesh, w):
        tls = {"mode": "MUTUAL", "clientCertificate": paths["certificate_chain"], "privateKey": paths["private_key"],
               "caCertificates": paths["client_trust"], "subjectAltNames": list(policy.sans), "sni": mesh.dns(host)}
        spec = {"host": mesh.dns(host), "exportTo": ["."],
                "workloadSelector": {"matchLabels": dict(w.labels)},
                "trafficPolicy": {"tls": tls}}
        obj = {"apiVersion": NETWORKING_API_VERSION, "kind": "DestinationRule",
               "metadata": _meta(destination_rule_name(w, host), mesh.namespace), "spec": spec}
        out.append(Manifest(obj, (namespace_key(mesh.namespace),)))
    return tuple(out)


# --- server side -------------------------------------------------------------------------------
def tls_ingress_port(w: Workload) -> int:
    if w.port == TLS_INGRESS_PORT:
        raise RenderError(f"workload {w.name}: its app port {w.port} is the port its sidecar terminates TLS on; "
                          "give the app another port")
    return TLS_INGRESS_PORT


def render_server_tls(mesh: Mesh, w: Workload) -> tuple[Manifest, ...]:
    """blue's/green's Sidecar (TLS MUTUAL on the TLS port → the app), PeerAuthentication and,
    when the model names accepted client SANs, the EnvoyFilter that enforces them."""
    policy = w.server_tls
    if policy is None:
        return ()
    if policy.mode not in _SERVER_MODES:
        raise RenderError(f"workload {w.name}: server TLS mode {policy.mode!r} is not expressible on an Istio "
                          f"sidecar (supported: {', '.join(_SERVER_MODES)})")
    port = tls_ingress_port(w)
    paths = tls_paths(w)
    tls = {"mode": _SERVER_MODES[policy.mode], "serverCertificate": paths["certificate_chain"],
           "privateKey": paths["private_key"], "caCertificates": paths["server_trust"]}
    sidecar = {"apiVersion": NETWORKING_API_VERSION, "kind": "Sidecar", "metadata": _meta(w.name, mesh.namespace),
               "spec": {"workloadSelector": {"labels": dict(w.labels)},
                        "ingress": [{"port": {"number": port, "protocol": "HTTPS", "name": TLS_PORT_NAME},
                                     "defaultEndpoint": f"0.0.0.0:{w.port}", "tls": tls}]}}
    peer = {"apiVersion": SECURITY_API_VERSION, "kind": "PeerAuthentication", "metadata": _meta(w.name, mesh.namespace),
            "spec": {"selector": {"matchLabels": dict(w.labels)}, "mtls": {"mode": "STRICT"},
                     "portLevelMtls": {str(port): {"mode": "DISABLE"}}}}
    ns = (namespace_key(mesh.namespace),)
    out = [Manifest(sidecar, ns), Manifest(peer, ns)]
    if policy.client_sans:
        out.append(Manifest(render_client_san_filter(mesh, w, port, policy.client_sans), ns))
    return tuple(out)


def client_san_filter_name(w: Workload) -> str:
    return f"{w.name}-client-sans"


def client_san_patch(sans: tuple[str, ...]) -> dict[str, Any]:
    """The filter-chain fragment an EnvoyFilter MERGEs: the accepted client SANs in the TLS
    socket's default validation context (the one istiod combines with the trust it serves)."""
    validation = {"match_typed_subject_alt_names": [{"san_type": "DNS", "matcher": {"exact": san}} for san in sans]}
    return {"transport_socket": {"name": TLS_TRANSPORT_SOCKET, "typed_config": {
        "@type": DOWNSTREAM_TLS_CONTEXT,
        "common_tls_context": {"combined_validation_context": {"default_validation_context": validation}}}}}


def render_client_san_filter(mesh: Mesh, w: Workload, port: int, sans: tuple[str, ...]) -> dict[str, Any]:
    """The EnvoyFilter that makes the workload's sidecar accept only client certificates with
    one of `sans` on its demo TLS port (see the module docstring for why not the Sidecar)."""
    patch = {"applyTo": "FILTER_CHAIN",
             "match": {"context": "SIDECAR_INBOUND",
                       "listener": {"portNumber": port, "filterChain": {"transportProtocol": "tls"}}},
             "patch": {"operation": "MERGE", "value": client_san_patch(sans)}}
    return {"apiVersion": ENVOY_FILTER_API_VERSION, "kind": "EnvoyFilter",
            "metadata": _meta(client_san_filter_name(w), mesh.namespace),
            "spec": {"workloadSelector": {"labels": dict(w.labels)}, "configPatches": [patch]}}


def render_tls_policies(mesh: Mesh, w: Workload) -> tuple[Manifest, ...]:
    return (*render_client_tls(mesh, w), *render_server_tls(mesh, w))


def with_tls_target_ports(mesh: Mesh, services: tuple[Manifest, ...]) -> tuple[Manifest, ...]:
    """The rendered Services, with those that select only a server-TLS workload's pods (its host,
    and a model Service it serves directly) targeting that workload's TLS port."""
    ports: dict[str, int] = {}
    for w in mesh.workloads:
        if w.server_tls is not None:
            port = tls_ingress_port(w)
            ports[w.host] = port
            ports.update({s.name: port for s in mesh.services if s.workload == w.name})
    out = []
    for m in services:
        name = m.obj["metadata"]["name"]
        if name not in ports:
            out.append(m)
            continue
        spec = dict(m.obj["spec"])
        spec["ports"] = [{**p, "targetPort": ports[name]} for p in spec["ports"]]
        out.append(Manifest({**m.obj, "spec": spec}, m.depends_on))
    return tuple(out)

