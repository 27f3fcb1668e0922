"""What a deployed mesh does, read back from each backend's rendered objects into one neutral
shape, so one expectation suite (test_expectations.py) holds every backend to the same model.

Each view answers the same questions from its own vocabulary: which namespaces inject proxies,
which host a routed service sends traffic to and with what weight, what the ingress reaches, which
Secret and files each workload's TLS uses, and where the proxies' spans go.
"""

from __future__ import annotations

import posixpath
from typing import Any, Protocol

from celestials.render import appmesh as am
from celestials.render.istio import INJECTION_LABEL
from tests.appmesh.mesh_checks import name, ns, of_kind, pod_labels, selects, sidecar_files, sidecar_secrets
from tests.istio import istio_checks
from tests.meshes.traffic_checks import authorization_edges, network_policy_edges

Obj = dict[str, Any]
#: (namespace, host) → {backend host: weight}
Splits = dict[tuple[str, str], dict[str, int]]


class MeshView(Protocol):
    def injected_namespaces(self, objects: list[Obj]) -> set[str]: ...

    def splits(self, objects: list[Obj]) -> Splits: ...

    def ingress_targets(self, objects: list[Obj]) -> set[tuple[str, str]]: ...

    def tls(self, objects: list[Obj]) -> dict[tuple[str, str], dict[str, Any]]:
        """(namespace, workload) → {"secrets": the Secrets mounted into its proxy, in order,
        "mounted": the file paths its proxy sees, "named": the file paths its TLS policies name,
        "files": the file names those are, "client_trust": trust file for the servers it calls (or
        None), "server_trust": trust file for the clients it accepts (or None)}."""

    def proxy_span_sinks(self, result) -> set[str]:
        """Where the proxies' spans go: the collector's host, or "x-ray-daemon"."""

    def client_cert_ports(self, result) -> dict[tuple[str, str], set[int]]:
        """(namespace, Deployment) → the pod ports whose inbound traffic must present a client
        certificate the kubelet does not have."""

    def allowed_edges(self, objects: list[Obj], namespaces: set[str], pod_cidr: str) -> dict[str, dict]:
        """Per layer of traffic rules, the calls it lets through: (namespace, caller, callee) → ports
        ("*" as the caller: any source)."""


def _network_policy_layers(objects, namespaces, pod_cidr) -> dict[str, dict]:
    ingress, egress, _ = network_policy_edges(objects, namespaces, pod_cidr)
    return {"NetworkPolicy ingress": ingress, "NetworkPolicy egress": egress}


def _deployment_for(objects: list[Obj], namespace: str, selector: dict) -> str:
    [d] = [d for d in of_kind(objects, "Deployment", namespace) if selects(selector, pod_labels(d))]
    return name(d)


def _base(path: str) -> str:
    return posixpath.basename(path)


class AppMeshView:
    def injected_namespaces(self, objects):
        return {name(n) for n in of_kind(objects, "Namespace")
                if (n["metadata"].get("labels") or {}).get(am.INJECTOR_LABEL) == "enabled"}

    def _host_of_node(self, objects, namespace, node):
        [vn] = [v for v in of_kind(objects, "VirtualNode", namespace) if name(v) == node]
        return vn["spec"]["serviceDiscovery"]["dns"]["hostname"].split(".")[0]

    def splits(self, objects):
        out: Splits = {}
        for vs in of_kind(objects, "VirtualService"):
            provider = vs["spec"]["provider"]
            if "virtualRouter" not in provider:
                continue
            namespace = ns(vs)
            [router] = [r for r in of_kind(objects, "VirtualRouter", namespace)
                        if name(r) == provider["virtualRouter"]["virtualRouterRef"]["name"]]
            weights: dict[str, int] = {}
            for route in router["spec"]["routes"]:
                for t in route["httpRoute"]["action"]["weightedTargets"]:
                    host = self._host_of_node(objects, namespace, t["virtualNodeRef"]["name"])
                    weights[host] = weights.get(host, 0) + t["weight"]
            out[(namespace, name(vs))] = weights
        return out

    def ingress_targets(self, objects):
        return {(ns(gr), gr["spec"]["httpRoute"]["action"]["target"]["virtualService"]["virtualServiceRef"]["name"])
                for gr in of_kind(objects, "GatewayRoute")}

    def tls(self, objects):
        out = {}
        for vn in of_kind(objects, "VirtualNode"):
            namespace = ns(vn)
            workload = _deployment_for(objects, namespace, vn["spec"]["podSelector"])
            [d] = [d for d in of_kind(objects, "Deployment", namespace) if name(d) == workload]
            secrets = sidecar_secrets(d["spec"]["template"])
            listener_tls = vn["spec"]["listeners"][0].get("tls")
            client_tls = ((vn["spec"].get("backendDefaults") or {}).get("clientPolicy") or {}).get("tls")
            if not secrets and not listener_tls and not client_tls:
                continue
            named = set()
            for tls in (listener_tls, client_tls):
                if tls:
                    named |= {tls["certificate"]["file"]["certificateChain"], tls["certificate"]["file"]["privateKey"],
                              tls["validation"]["trust"]["file"]["certificateChain"]}
            out[(namespace, workload)] = {
                "secrets": secrets, "mounted": sidecar_files(d["spec"]["template"]), "named": named,
                "files": {_base(p) for p in named},
                "client_trust": _base(client_tls["validation"]["trust"]["file"]["certificateChain"]) if client_tls else None,
                "server_trust": _base(listener_tls["validation"]["trust"]["file"]["certificateChain"]) if listener_tls else None}
        return out

    def proxy_span_sinks(self, result):
        [release] = [r for r in result.by_type("kubernetes:helm.sh/v3:Release")
                     if r["inputs"]["chart"] == "appmesh-controller"]
        tracing = release["inputs"]["values"]["tracing"]
        return {"x-ray-daemon"} if tracing["enabled"] and tracing["provider"] == "x-ray" else set()

    def allowed_edges(self, objects, namespaces, pod_cidr):
        return _network_policy_layers(objects, namespaces, pod_cidr)


    def client_cert_ports(self, result):
        out: dict = {}
        for vn in of_kind(result.manifests, "VirtualNode"):
            strict = {li["portMapping"]["port"] for li in vn["spec"]["listeners"]
                      if (li.get("tls") or {}).get("mode") == "STRICT"}
            if strict:
                out[(ns(vn), _deployment_for(result.manifests, ns(vn), vn["spec"]["podSelector"]))] = strict
        return out


class IstioView:
    def injected_namespaces(self, objects):
        return {name(n) for n in of_kind(objects, "Namespace")
                if (n["metadata"].get("labels") or {}).get(INJECTION_LABEL) == "enabled"}

    def _mesh_routes(self, objects):
        return [r for r in of_kind(objects, "HTTPRoute") if all(p.get("kind") == "Service" for p in r["spec"]["parentRefs"])]

    def splits(self, objects):
        out: Splits = {}
        for route in self._mesh_routes(objects):
            weights: dict[str, int] = {}
            for rule in route["spec"]["rules"]:
                for ref in rule["backendRefs"]:
                    weights[ref["name"]] = weights.get(ref["name"], 0) + ref.get("weight", 1)
            for parent in route["spec"]["parentRefs"]:
                out[(ns(route), parent["name"])] = weights
        return out

    def ingress_targets(self, objects):
        return {(ns(r), ref["name"]) for r in of_kind(objects, "HTTPRoute")
                if any(p.get("kind") == "Gateway" for p in r["spec"]["parentRefs"])
                for rule in r["spec"]["rules"] for ref in rule["backendRefs"]}

    def tls(self, objects):
        out: dict = {}
        for d in of_kind(objects, "Deployment"):
            pod = d["spec"]["template"]
            secrets = istio_checks.mounted_secrets(pod)
            labels = pod_labels(d)
            drs = [r for r in of_kind(objects, "DestinationRule", ns(d))
                   if selects(r["spec"].get("workloadSelector") or {"matchLabels": {"_": "none"}}, labels)]
            sidecars = [s for s in of_kind(objects, "Sidecar", ns(d))
                        if selects({"matchLabels": s["spec"]["workloadSelector"]["labels"]}, labels)]
            server = [li["tls"] for s in sidecars for li in s["spec"].get("ingress", []) if "tls" in li]
            if not secrets and not drs and not server:
                continue
            client = [r["spec"]["trafficPolicy"]["tls"] for r in drs]
            named = {t[k] for t in client for k in ("clientCertificate", "privateKey", "caCertificates")}
            named |= {t[k] for t in server for k in ("serverCertificate", "privateKey", "caCertificates")}
            client_trusts = {_base(t["caCertificates"]) for t in client}
            assert len(client_trusts) <= 1, f"{name(d)}: DestinationRules disagree on trust {client_trusts}"
            out[(ns(d), name(d))] = {
                "secrets": secrets, "mounted": istio_checks.sidecar_files(pod), "named": named,
                "files": {_base(p) for p in named},
                "client_trust": client_trusts.pop() if client_trusts else None,
                "server_trust": _base(server[0]["caCertificates"]) if server else None}
        return out

    def proxy_span_sinks(self, result):
        [istiod] = [r for r in result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "istiod"]
        providers = {p["name"]: p for p in istiod["inputs"]["values"]["meshConfig"].get("extensionProviders", [])}
        telemetry = [t for t in of_kind(result.manifests, "Telemetry") if ns(t) == "istio-system"
                     and "selector" not in t["spec"]]
        sinks = set()
        for t in telemetry:
            for tracing in t["spec"].get("tracing", []):
                for p in tracing.get("providers", []):
                    if tracing.get("randomSamplingPercentage") == 100 and "opentelemetry" in providers.get(p["name"], {}):
                        otel = providers[p["name"]]["opentelemetry"]
                        sinks.add(f"{otel['service']}:{otel['port']}")
        return sinks

    def allowed_edges(self, objects, namespaces, pod_cidr):
        return {**_network_policy_layers(objects, namespaces, pod_cidr),
                "AuthorizationPolicy": authorization_edges(objects, namespaces)}


    def client_cert_ports(self, result):
        """The demo's own mTLS ports (Sidecar ingress TLS MUTUAL). Istio's automatic mTLS on the
        other ports never meets the kubelet: the injector rewrites HTTP probes to its agent
        (`sidecarInjectorWebhook.rewriteAppHTTPProbe`, on unless the istiod values turn it off,
        which the expectation suite checks)."""
        out: dict = {}
        for sc in of_kind(result.manifests, "Sidecar"):
            mutual = {li["port"]["number"] for li in sc["spec"].get("ingress", [])
                      if (li.get("tls") or {}).get("mode") == "MUTUAL"}
            if mutual:
                selector = {"matchLabels": sc["spec"]["workloadSelector"]["labels"]}
                out[(ns(sc), _deployment_for(result.manifests, ns(sc), selector))] = mutual
        [istiod] = [r for r in result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "istiod"]
        rewrite = ((istiod["inputs"]["values"].get("sidecarInjectorWebhook") or {}).get("rewriteAppHTTPProbe", True))
        assert rewrite is not False, "istiod values turn off probe rewriting: STRICT mTLS ports would meet the kubelet"
        return out


VIEWS: dict[str, MeshView] = {"appmesh": AppMeshView(), "istio": IstioView()}
