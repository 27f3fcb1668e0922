"""Zero-trust L7 traffic rules of a mesh on Istio: AuthorizationPolicies (security.istio.io/v1)
rendered from the model's edges (`celestials.topology.edges`), so an undeclared call is refused by
the callee's sidecar even when the network would let it through.

* `allow-nothing` (namespace-wide, `spec: {}`): an ALLOW policy with no rules, Istio's documented
  allow-nothing pattern. Once an ALLOW policy applies to a workload, only requests matching one
  of its ALLOW policies pass, so every workload of the namespace denies by default.
* `allow-<workload>` per workload with callers: ALLOW `from.source.principals` = the callers'
  SPIFFE identities (`cluster.local/ns/<ns>/sa/<service account>`; every workload runs as its own
  ServiceAccount named after it, the gateway as its own, `ingress-gw`), `to.operation.ports` =
  the ports its callers reach it on. A workload nobody calls (front) gets only allow-nothing.

Where Istio sees no principal, and what we allow instead (each is tested):
* The two-CA mTLS demo on 8443 (blue, green): the demo's TLS is not Istio's mTLS
  (`PeerAuthentication` DISABLE on that port), so the request carries no Istio identity: front's
  certificate has a DNS SAN, not a SPIFFE URI, and `source.namespaces`/`source.ipBlocks` need
  mTLS or give nothing better. The sidecar's own ingress listener already authenticates the
  caller there: `Sidecar.ingress[].tls` is MUTUAL, trusts only CA1 and accepts only the client
  SANs of the model (front's DNS name), i.e. exactly the declared callers. So the rule for such
  a workload is "port 8443, any source": the authentication is the demo's TLS, the authorization
  is that it admits only the model's callers, and the NetworkPolicy admits only their pods. Its
  app port stays closed (no rule for it; STRICT Istio mTLS there too).
* The gateway's own inbound: from the internet-facing NLB, plaintext, no principal. Its rule is
  "the gateway's public port, any source"; nothing else reaches the gateway pods.
* Red is called by front with the demo's TLS while red's sidecar expects Istio mTLS, so that call
  fails at the handshake (as under App Mesh); red's policy still names front's identity, the
  declared caller.
* Kubelet probes: the injector rewrites them to the sidecar agent (port 15020), which Envoy's
  inbound authorization does not see; the gateway's readiness port (15021) is Envoy's static
  health listener, outside AuthorizationPolicy as well.

Pure: model and the backend's facts in, `Manifest`s out.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..topology.edges import callers_of
from ..topology.model import Mesh
from .kubernetes_workloads import PART_OF, Manifest, RenderError, namespace_key

API_VERSION = "security.istio.io/v1"
ALLOW_NOTHING = "allow-nothing"
TRUST_DOMAIN = "cluster.local"


def principal(namespace: str, service_account: str) -> str:
    """The SPIFFE identity of a service account, as AuthorizationPolicy's `principals` spell it."""
    return f"{TRUST_DOMAIN}/ns/{namespace}/sa/{service_account}"


def authz_policy_name(workload: str) -> str:
    return f"allow-{workload}"


def _meta(mesh: Mesh, name: str, why: str) -> dict[str, Any]:
    return {"name": name, "namespace": mesh.namespace, "labels": dict(PART_OF), "annotations": {"celestials/why": why}}


def _ports(ports: tuple[int, ...]) -> list[str]:
    return [str(p) for p in sorted(set(ports))]


def render_authorization_policies(mesh: Mesh, *, inbound_ports: Mapping[str, tuple[int, ...]],
                                  unauthenticated_ports: Mapping[str, tuple[int, ...]],
                                  gateway_labels: Mapping[str, str] | None = None,
                                  gateway_ports: tuple[int, ...] = ()) -> tuple[Manifest, ...]:
    """Per-workload ALLOW policies, the gateway's, then `allow-nothing` (after them, so on a running
    mesh nothing is denied before its allow exists).

    `inbound_ports`: workload → pod ports its callers reach through Istio mTLS.
    `unauthenticated_ports`: workload → pod ports where Istio sees no principal but the sidecar's
    own TLS admits only the model's callers (the demo's 8443); allowed from any source.
    Every workload runs as a ServiceAccount named after it; the gateway as one named after it."""
    ns = (namespace_key(mesh.namespace),)
    if mesh.gateway and not (gateway_labels and gateway_ports):
        raise RenderError(f"mesh {mesh.name}: has gateway {mesh.gateway.name} but no gateway labels and ports "
                          "were given for its authorization policy")
    out: list[Manifest] = []
    for w in mesh.workloads:
        callers = callers_of(mesh, w.name)
        if not callers:
            continue
        rules = []
        mtls_ports = tuple(inbound_ports.get(w.name, (w.port,)))
        open_ports = tuple(unauthenticated_ports.get(w.name, ()))
        why = f"{w.name}: called by {', '.join(callers)}"
        if open_ports:
            rules.append({"to": [{"operation": {"ports": _ports(open_ports)}}]})
            why += f" (on {', '.join(_ports(open_ports))} authenticated by the sidecar's own mutual TLS)"
        if mtls_ports:
            rules.append({"from": [{"source": {"principals": [principal(mesh.namespace, c) for c in callers]}}],
                          "to": [{"operation": {"ports": _ports(mtls_ports)}}]})
        spec = {"selector": {"matchLabels": dict(w.labels)}, "action": "ALLOW", "rules": rules}
        out.append(Manifest({"apiVersion": API_VERSION, "kind": "AuthorizationPolicy",
                             "metadata": _meta(mesh, authz_policy_name(w.name), why), "spec": spec}, ns))
    if mesh.gateway:
        spec = {"selector": {"matchLabels": dict(gateway_labels or {})}, "action": "ALLOW",
                "rules": [{"to": [{"operation": {"ports": _ports(gateway_ports)}}]}]}
        out.append(Manifest({"apiVersion": API_VERSION, "kind": "AuthorizationPolicy",
                             "metadata": _meta(mesh, authz_policy_name(mesh.gateway.name),
                                               f"{mesh.gateway.name}: public entrance, from the load balancer"),
                             "spec": spec}, ns))
    deny = Manifest({"apiVersion": API_VERSION, "kind": "AuthorizationPolicy",
                     "metadata": _meta(mesh, ALLOW_NOTHING, "deny every request no other policy allows"),
                     "spec": {}}, ns)
    return (*out, deny.after(*(m.key for m in out)))
