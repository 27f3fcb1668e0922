"""Zero-trust L3/L4 traffic rules of a mesh's namespace as Kubernetes NetworkPolicies
(networking.k8s.io/v1), rendered from the model's edges (`celestials.topology.edges`), the one
statement of who may call whom. Enforced on EKS by the VPC CNI's network policy agent (enabled
on the cluster's `vpc-cni` add-on, `components.cluster`).

What a namespace gets:
* `default-deny`: every pod isolated for ingress and egress, nothing allowed.
* `mesh-baseline` (every pod): egress to the cluster DNS (CoreDNS pods in kube-system, UDP and
  TCP 53) and to the destinations every pod of this backend needs (`shared_egress`: the trace
  collector's OTLP ports, the mesh control plane, what the backend's proxies call).
* `allow-<workload>` per workload, and per gateway: ingress from its callers' pods on the ports
  its pods are called on (`inbound_ports`, the backend's: with a proxy in front of the app that
  is where the callers' proxies connect), egress to its callees' pods on theirs, plus the
  workload's own destinations (a workload that stores in the cloud reaches the cloud API); the
  gateway's ingress is from anywhere on its pod ports (it faces the internet-facing load
  balancer, whose traffic arrives from any address).

Each edge is allowed on both sides (the callee's ingress and the caller's egress), so either
side alone already holds the model. Peers are pod labels in the mesh's namespace (the pod
template labels the workload renderer sets, and the backend's gateway labels); nothing is
allowed by namespace alone inside the mesh.

What NetworkPolicy cannot name: AWS endpoints. A destination on the cloud API is "TCP 443 to any
address outside the VPC" (`cloud_api`): AWS's public endpoints are reached through the NAT
gateways, and excluding the VPC's range keeps that rule from opening 443 to any pod or node.

Not covered by these rules, by design of Kubernetes NetworkPolicy: the kubelet's probes (a pod
cannot block its own node; the VPC CNI's agent allows the node's address for exactly this) and
hostNetwork pods.

Backend-neutral: the backend passes its ports, labels and destinations in (`TrafficRulesInputs`);
nothing here knows a mesh product. Pure: model and inputs in, `Manifest`s out.

Ordering: the allows before `default-deny` (on a running namespace the deny never lands before
the allows it needs), and the caller makes its Deployments wait for all of them, so no pod starts
in a namespace without its rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..topology.edges import callees_of, callers_of
from ..topology.model import Mesh
from .kubernetes_workloads import PART_OF, Manifest, ObjectKey, RenderError, namespace_key, needs_own_identity

API_VERSION = "networking.k8s.io/v1"
DEFAULT_DENY = "default-deny"
BASELINE = "mesh-baseline"
#: The label Kubernetes puts on every namespace (1.21+): how a rule names another namespace.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
DNS_NAMESPACE = "kube-system"
#: CoreDNS's pod label on EKS (the `coredns` add-on keeps the kube-dns label).
DNS_POD_LABELS = {"k8s-app": "kube-dns"}
DNS_PORT = 53
HTTPS_PORT = 443


@dataclass(frozen=True)
class PortSpec:
    number: int
    protocol: str = "TCP"

    def render(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "port": self.number}


@dataclass(frozen=True)
class Destination:
    """Somewhere outside the mesh's own pods that pods may send to: pods of another namespace
    (`namespace`, optionally only those with `pod_labels`) or an address range (`cidr` minus
    `except_cidrs`), on `ports`. `why` says what needs it (kept in the policy's annotation)."""

    why: str
    ports: tuple[PortSpec, ...]
    namespace: str | None = None
    pod_labels: Mapping[str, str] | None = None
    cidr: str | None = None
    except_cidrs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.namespace is None) == (self.cidr is None):
            raise RenderError(f"destination {self.why!r}: needs exactly one of a namespace or a CIDR")
        if not self.ports:
            raise RenderError(f"destination {self.why!r}: names no port (a rule without ports opens all of them)")

    def peer(self) -> dict[str, Any]:
        if self.cidr is not None:
            block: dict[str, Any] = {"cidr": self.cidr}
            if self.except_cidrs:
                block["except"] = list(self.except_cidrs)
            return {"ipBlock": block}
        peer: dict[str, Any] = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: self.namespace}}}
        if self.pod_labels:
            peer["podSelector"] = {"matchLabels": dict(self.pod_labels)}
        return peer

    def rule(self) -> dict[str, Any]:
        return {"to": [self.peer()], "ports": [p.render() for p in self.ports]}


def dns() -> Destination:
    return Destination("cluster DNS", (PortSpec(DNS_PORT, "UDP"), PortSpec(DNS_PORT, "TCP")),
                       namespace=DNS_NAMESPACE, pod_labels=DNS_POD_LABELS)


def cloud_api(vpc_cidr: str, why: str) -> Destination:
    """TCP 443 anywhere outside the VPC: AWS's public API endpoints (through the NAT gateways),
    which NetworkPolicy cannot name more narrowly; never a pod or a node of the cluster."""
    return Destination(why, (PortSpec(HTTPS_PORT),), cidr="0.0.0.0/0", except_cidrs=(vpc_cidr,))


def cloud_storage_egress(mesh: Mesh, vpc_cidr: str) -> dict[str, tuple[Destination, ...]]:
    """Workload → the cloud API, for each workload whose model storage is reached with its own
    cloud identity (prodcatalog's DynamoDB table, after STS for its role)."""
    return {w.name: (cloud_api(vpc_cidr, f"the cloud API for its {w.storage.kind} storage"),)
            for w in mesh.workloads if w.storage is not None and needs_own_identity(w)}


def namespace_pods(namespace: str, ports: tuple[int, ...], why: str,
                   pod_labels: Mapping[str, str] | None = None) -> Destination:
    return Destination(why, tuple(PortSpec(p) for p in ports), namespace=namespace, pod_labels=pod_labels)


@dataclass(frozen=True)
class TrafficRulesInputs:
    """What the backend knows and the model does not.

    `inbound_ports`: workload → the pod ports its callers connect to (default: the model port).
    `gateway_labels` / `gateway_ports`: the gateway pods' labels and the pod ports the load
    balancer reaches (required when the mesh has a gateway).
    `shared_egress`: destinations every pod of the namespace needs besides DNS.
    `workload_egress`: workload → destinations of its own (e.g. the cloud API for its table).
    """

    inbound_ports: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    gateway_labels: Mapping[str, str] | None = None
    gateway_ports: tuple[int, ...] = ()
    shared_egress: tuple[Destination, ...] = ()
    workload_egress: Mapping[str, tuple[Destination, ...]] = field(default_factory=dict)


def policy_name(caller_or_callee: str) -> str:
    return f"allow-{caller_or_callee}"


def _policy(mesh: Mesh, name: str, selector: Mapping[str, str], ingress: list[dict[str, Any]] | None,
            egress: list[dict[str, Any]] | None, why: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": {"matchLabels": dict(selector)} if selector else {}}
    types = []
    if ingress is not None:
        types.append("Ingress")
        if ingress:
            spec["ingress"] = ingress
    if egress is not None:
        types.append("Egress")
        if egress:
            spec["egress"] = egress
    spec["policyTypes"] = types
    return {"apiVersion": API_VERSION, "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": mesh.namespace, "labels": dict(PART_OF),
                         "annotations": {"celestials/why": why}},
            "spec": spec}


def _ports(ports: tuple[int, ...]) -> list[dict[str, Any]]:
    return [PortSpec(p).render() for p in sorted(set(ports))]


class _Pods:
    """Labels and inbound ports of every caller and callee of the mesh."""

    def __init__(self, mesh: Mesh, inputs: TrafficRulesInputs):
        unknown = sorted(set(inputs.inbound_ports) - {w.name for w in mesh.workloads})
        if unknown:
            raise RenderError(f"mesh {mesh.name}: inbound ports given for workloads it does not have: {unknown}")
        unknown = sorted(set(inputs.workload_egress) - {w.name for w in mesh.workloads})
        if unknown:
            raise RenderError(f"mesh {mesh.name}: egress given for workloads it does not have: {unknown}")
        self.labels = {w.name: dict(w.labels) for w in mesh.workloads}
        self.ports = {w.name: tuple(inputs.inbound_ports.get(w.name, (w.port,))) for w in mesh.workloads}
        if mesh.gateway:
            if not inputs.gateway_labels or not inputs.gateway_ports:
                raise RenderError(f"mesh {mesh.name}: has gateway {mesh.gateway.name} but no gateway labels "
                                  "and ports were given (TrafficRulesInputs.gateway_labels/gateway_ports)")
            self.labels[mesh.gateway.name] = dict(inputs.gateway_labels)
        for name, ports in self.ports.items():
            if not ports:
                raise RenderError(f"workload {name}: no inbound port given (TrafficRulesInputs.inbound_ports)")

    def peer(self, name: str) -> dict[str, Any]:
        return {"podSelector": {"matchLabels": dict(self.labels[name])}}


def _allow(mesh: Mesh, name: str, pods: _Pods, inputs: TrafficRulesInputs, public_ports: tuple[int, ...] = ()
           ) -> Manifest:
    ingress: list[dict[str, Any]] = []
    callers = callers_of(mesh, name)
    if public_ports:
        ingress.append({"ports": _ports(public_ports)})
    elif callers:
        ingress.append({"from": [pods.peer(c) for c in callers], "ports": _ports(pods.ports[name])})
    egress = [{"to": [pods.peer(callee)], "ports": _ports(pods.ports[callee])} for callee in callees_of(mesh, name)]
    own = inputs.workload_egress.get(name, ())
    egress += [d.rule() for d in own]
    why = (f"{name}: called by {', '.join(callers) or ('anyone (public entrance)' if public_ports else 'nobody')}; "
           f"calls {', '.join(callees_of(mesh, name)) or 'nobody'}"
           + (f"; also {', '.join(d.why for d in own)}" if own else ""))
    return Manifest(_policy(mesh, policy_name(name), pods.labels[name], ingress, egress, why),
                    (namespace_key(mesh.namespace),))


def render_network_policies(mesh: Mesh, inputs: TrafficRulesInputs) -> tuple[Manifest, ...]:
    """The namespace's NetworkPolicies: baseline, one per workload and gateway, then default-deny
    (after all the others)."""
    pods = _Pods(mesh, inputs)
    shared = (dns(), *inputs.shared_egress)
    out = [Manifest(_policy(mesh, BASELINE, {}, None, [d.rule() for d in shared],
                            "every pod: " + ", ".join(d.why for d in shared)),
                    (namespace_key(mesh.namespace),))]
    out += [_allow(mesh, w.name, pods, inputs) for w in mesh.workloads]
    if mesh.gateway:
        out.append(_allow(mesh, mesh.gateway.name, pods, inputs, public_ports=tuple(inputs.gateway_ports)))
    deny = Manifest(_policy(mesh, DEFAULT_DENY, {}, [], [], "deny everything no other policy of the namespace allows"),
                    (namespace_key(mesh.namespace),))
    return (*out, deny.after(*(m.key for m in out)))


def network_policy_keys(manifests: tuple[Manifest, ...]) -> tuple[ObjectKey, ...]:
    return tuple(m.key for m in manifests if m.key.kind == "NetworkPolicy")
