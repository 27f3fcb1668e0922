"""Read back, from rendered objects only, which calls the traffic rules allow: an evaluator of
Kubernetes NetworkPolicy (ingress and egress separately) and of Istio AuthorizationPolicy
semantics over the pods the Deployments create. Written from the APIs' documented semantics, not
from the renderers, so a rendered rule that allows more (or less) than the model shows up as an
edge too many (or missing).

Edges are (namespace, caller, callee) with Deployment names; `ANY` as the caller means "any
source" (a rule without peers, an address block, or a workload no ALLOW policy selects).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable

from tests.appmesh.mesh_checks import name, ns, of_kind, pod_labels
from tests.istio.istio_checks import client_san_patches

Obj = dict[str, Any]
Edge3 = tuple[str, str, str]
ANY = "*"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class UnsupportedRule(AssertionError):
    """A rule this evaluator cannot judge (so it must not be waved through)."""


def _match_labels(selector: Obj | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels only: anything else is refused, never guessed) against labels."""
    selector = selector or {}
    if set(selector) - {"matchLabels"}:
        raise UnsupportedRule(f"selector {selector}: only matchLabels is evaluated")
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def pods(objects: list[Obj], namespaces: Iterable[str]) -> dict[tuple[str, str], dict[str, str]]:
    """(namespace, Deployment) → pod labels, for the mesh namespaces."""
    wanted = set(namespaces)
    return {(ns(d), name(d)): pod_labels(d) for d in of_kind(objects, "Deployment") if ns(d) in wanted}


def _ports(rule: Obj, direction: str) -> frozenset:
    ports = rule.get("ports")
    if not ports:
        return frozenset({ANY})
    out = set()
    for p in ports:
        if "endPort" in p or not isinstance(p.get("port"), int):
            raise UnsupportedRule(f"{direction} port {p}: only numeric single ports are evaluated")
        out.add((p.get("protocol", "TCP"), p["port"]))
    return frozenset(out)


def _cidr_reaches_pods(block: Obj, pod_cidr: str) -> bool:
    pod_net = ipaddress.ip_network(pod_cidr)
    net = ipaddress.ip_network(block["cidr"])
    if not net.overlaps(pod_net):
        return False
    return not any(pod_net.subnet_of(ipaddress.ip_network(e)) for e in block.get("except", ())
                   if ipaddress.ip_network(e).version == pod_net.version)


def _peer_pods(peer: Obj, own_ns: str, all_pods, pod_cidr: str) -> tuple[set, set]:
    """(pods of the mesh namespaces a peer matches, peers outside them as descriptors)."""
    if "ipBlock" in peer:
        if set(peer) != {"ipBlock"}:
            raise UnsupportedRule(f"peer {peer}: ipBlock combined with selectors")
        inside = set(all_pods) if _cidr_reaches_pods(peer["ipBlock"], pod_cidr) else set()
        block = peer["ipBlock"]
        return inside, {("cidr", block["cidr"], tuple(block.get("except", ())))}
    if "namespaceSelector" in peer:
        match = (peer["namespaceSelector"].get("matchLabels") or {})
        if set(peer["namespaceSelector"]) - {"matchLabels"} or set(match) != {NAMESPACE_NAME_LABEL}:
            raise UnsupportedRule(f"peer {peer}: only a namespace named by {NAMESPACE_NAME_LABEL} is evaluated")
        namespace = match[NAMESPACE_NAME_LABEL]
    else:
        namespace = own_ns
    selector = peer.get("podSelector")
    inside = {key for key, labels in all_pods.items() if key[0] == namespace and _match_labels(selector, labels)}
    outside = set()
    if namespace not in {k[0] for k in all_pods}:
        outside.add(("namespace", namespace, tuple(sorted((selector or {}).get("matchLabels", {}).items()))))
    return inside, outside


def network_policy_edges(objects: list[Obj], namespaces: Iterable[str], pod_cidr: str):
    """What the NetworkPolicies allow, per side: (ingress edges → ports, egress edges → ports,
    egress outside the mesh pods: (namespace, caller) → {(destination, ports)})."""
    all_pods = pods(objects, namespaces)
    policies = [p for p in of_kind(objects, "NetworkPolicy") if ns(p) in {k[0] for k in all_pods}]
    ingress: dict[Edge3, set] = {}
    egress: dict[Edge3, set] = {}
    outside: dict[tuple[str, str], set] = {}
    for (namespace, pod), labels in all_pods.items():
        selecting = [p for p in policies if ns(p) == namespace and _match_labels(p["spec"]["podSelector"], labels)]
        for direction, field, peers_field in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
            isolating = [p for p in selecting if direction in p["spec"].get("policyTypes", ["Ingress"])]
            rules = [r for p in isolating for r in p["spec"].get(field, [])]
            if not isolating:
                rules = [{}]  # not isolated: everything is allowed
            for rule in rules:
                ports = _ports(rule, direction)
                peers = rule.get(peers_field)
                matched: set = set()
                external: set = set()
                anywhere = not peers  # no peers: every source or destination, in the mesh or not
                for peer in peers or ():
                    inside, out = _peer_pods(peer, namespace, all_pods, pod_cidr)
                    if "ipBlock" in peer and (direction == "Ingress" or inside):
                        anywhere = True  # an address block admits sources (or pods) by address
                    matched |= inside
                    external |= out
                sides = ingress if direction == "Ingress" else egress
                if anywhere:
                    edge = (namespace, ANY, pod) if direction == "Ingress" else (namespace, pod, ANY)
                    sides.setdefault(edge, set()).update(ports)
                    continue
                for other_ns, other in matched:
                    # a pod of another mesh namespace shows as "<namespace>/<name>": never a model edge
                    other = other if other_ns == namespace else f"{other_ns}/{other}"
                    edge = (namespace, other, pod) if direction == "Ingress" else (namespace, pod, other)
                    sides.setdefault(edge, set()).update(ports)
                for ext in external:
                    if direction == "Egress":
                        outside.setdefault((namespace, pod), set()).add((ext, ports))
                    else:  # callers from outside the mesh namespaces are never model edges either
                        sides.setdefault((namespace, f"{ext[0]}:{ext[1]}", pod), set()).update(ports)
    return ingress, egress, outside


# --- Istio AuthorizationPolicy -------------------------------------------------------------------
def _service_accounts(objects: list[Obj], namespaces: Iterable[str]) -> dict[str, tuple[str, str]]:
    """SPIFFE principal (without `spiffe://`) → (namespace, Deployment) running as it."""
    wanted = set(namespaces)
    out = {}
    for d in of_kind(objects, "Deployment"):
        if ns(d) in wanted:
            sa = d["spec"]["template"]["spec"].get("serviceAccountName", "default")
            out[f"cluster.local/ns/{ns(d)}/sa/{sa}"] = (ns(d), name(d))
    return out


def _dns_owners(objects: list[Obj], all_pods) -> dict[str, set[tuple[str, str]]]:
    """`<service>.<ns>.svc.cluster.local` → the Deployments its Service selects."""
    out: dict[str, set] = {}
    for s in of_kind(objects, "Service"):
        selector = s["spec"].get("selector")
        if not selector:
            continue
        out[f"{name(s)}.{ns(s)}.svc.cluster.local"] = {
            k for k, labels in all_pods.items() if k[0] == ns(s) and _match_labels({"matchLabels": selector}, labels)}
    return out


def _tls_callers(objects: list[Obj], namespace: str, labels: dict, port: str, dns_owners) -> set | None:
    """Who the pod's own Sidecar ingress TLS on `port` admits (MUTUAL, by the client SANs the
    pod's EnvoyFilter requires on that chain), or None when that port has no such listener."""
    for sidecar in of_kind(objects, "Sidecar", namespace):
        if not _match_labels({"matchLabels": sidecar["spec"].get("workloadSelector", {}).get("labels", {})}, labels):
            continue
        for listener in sidecar["spec"].get("ingress", []):
            tls = listener.get("tls") or {}
            if str(listener["port"]["number"]) != port or tls.get("mode") != "MUTUAL":
                continue
            sans = client_san_patches(objects, namespace, labels, listener["port"]["number"])
            if sans:
                return {k for san in sans for k in dns_owners.get(san, set())}
    return None


def authorization_edges(objects: list[Obj], namespaces: Iterable[str]) -> dict[Edge3, set]:
    """What Istio's AuthorizationPolicies let through to each pod: edges → ports. A rule without
    `from` counts as its port's TLS-admitted callers when the pod's Sidecar terminates mutual
    TLS there and its EnvoyFilter pins the client SANs, otherwise as ANY."""
    all_pods = pods(objects, namespaces)
    principals = _service_accounts(objects, namespaces)
    dns_owners = _dns_owners(objects, all_pods)
    out: dict[Edge3, set] = {}
    for (namespace, pod), labels in all_pods.items():
        applying = [p for p in of_kind(objects, "AuthorizationPolicy", namespace)
                    if _match_labels(p["spec"].get("selector"), labels)]
        if any(p["spec"].get("action", "ALLOW") != "ALLOW" for p in applying):
            raise UnsupportedRule(f"{namespace}/{pod}: only ALLOW policies are evaluated")
        if not applying:
            out.setdefault((namespace, ANY, pod), set()).add(ANY)
            continue
        for rule in (r for p in applying for r in p["spec"].get("rules", [])):
            if set(rule) - {"from", "to"}:
                raise UnsupportedRule(f"{namespace}/{pod}: rule {rule} has conditions this check does not judge")
            ports = {port for to in rule.get("to", []) for port in to["operation"].get("ports", [])} or {ANY}
            if any(set(to["operation"]) - {"ports"} for to in rule.get("to", [])):
                raise UnsupportedRule(f"{namespace}/{pod}: rule {rule} matches more than ports")
            callers: set = set()
            if not rule.get("from"):
                for port in ports:
                    admitted = _tls_callers(objects, namespace, labels, port, dns_owners)
                    callers |= {k[1] for k in admitted} if admitted is not None else {ANY}
            for source in (f["source"] for f in rule.get("from", [])):
                if set(source) != {"principals"}:
                    raise UnsupportedRule(f"{namespace}/{pod}: source {source}: only principals are evaluated")
                for p in source["principals"]:
                    if p not in principals:
                        callers.add(f"unknown principal {p}")
                    elif principals[p][0] == namespace:
                        callers.add(principals[p][1])
                    else:
                        callers.add("/".join(principals[p]))
            for caller in callers:
                out.setdefault((namespace, caller, pod), set()).update(ports)
    return out


# --- NetworkPolicy shape -------------------------------------------------------------------------
def _closed(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_LABEL_SELECTOR = _closed({"matchLabels": _STRING_MAP, "matchExpressions": {"type": "array", "items": _closed(
    {"key": {"type": "string"}, "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
     "values": {"type": "array", "items": {"type": "string"}}}, ("key", "operator"))}})
_PEER = _closed({"podSelector": _LABEL_SELECTOR, "namespaceSelector": _LABEL_SELECTOR,
                 "ipBlock": _closed({"cidr": {"type": "string"}, "except": {"type": "array", "items": {"type": "string"}}},
                                    ("cidr",))})
_PORT = _closed({"protocol": {"enum": ["TCP", "UDP", "SCTP"]},
                 "port": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"type": "string"}]},
                 "endPort": {"type": "integer"}})
_PORTS = {"type": "array", "items": _PORT}
#: networking.k8s.io/v1 NetworkPolicy as the Kubernetes API reference describes it, closed: a
#: misspelled field would be pruned by the API server and the rule would silently widen.
NETWORK_POLICY_SCHEMA = _closed({
    "apiVersion": {"const": "networking.k8s.io/v1"}, "kind": {"const": "NetworkPolicy"},
    "metadata": _closed({"name": {"type": "string"}, "namespace": {"type": "string"}, "labels": _STRING_MAP,
                         "annotations": _STRING_MAP}, ("name", "namespace")),
    "spec": _closed({"podSelector": _LABEL_SELECTOR,
                     "policyTypes": {"type": "array", "items": {"enum": ["Ingress", "Egress"]}, "uniqueItems": True},
                     "ingress": {"type": "array", "items": _closed({"from": {"type": "array", "items": _PEER},
                                                                    "ports": _PORTS})},
                     "egress": {"type": "array", "items": _closed({"to": {"type": "array", "items": _PEER},
                                                                   "ports": _PORTS})}},
                    ("podSelector",)),
}, ("apiVersion", "kind", "metadata", "spec"))


def schema_field_names(schema: Any = NETWORK_POLICY_SCHEMA) -> set[str]:
    """Every field name the schema allows (to hold it against the Kubernetes SDK's own names)."""
    if isinstance(schema, dict):
        names = set(schema.get("properties", {})) if schema.get("type") == "object" else set()
        return names | {n for v in schema.values() for n in schema_field_names(v)}
    if isinstance(schema, list):
        return {n for v in schema for n in schema_field_names(v)}
    return set()


def network_policy_problems(objects: Iterable[Obj]) -> list[str]:
    import jsonschema

    from tests.appmesh.mesh_checks import schema_problems

    validator = jsonschema.Draft7Validator(NETWORK_POLICY_SCHEMA)
    problems = []
    for obj in of_kind(objects, "NetworkPolicy"):
        problems += schema_problems(obj, validator)
        for peer in (p for r in obj["spec"].get("ingress", []) + obj["spec"].get("egress", [])
                     for p in r.get("from", r.get("to", []))):
            if "ipBlock" in peer and len(peer) > 1:
                problems.append(f"NetworkPolicy {ns(obj)}/{name(obj)}: ipBlock cannot be combined with selectors")
    return problems
