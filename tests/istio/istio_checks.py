"""Checks of a rendered Istio deployment over plain Kubernetes objects, each returning the list of
problems found (empty = holds), so the negative tests can break one object and watch a check fail.

The schema check reuses the App Mesh tests' strict-schema builder (`_strict`: unknown fields
refused, since the API server would silently prune them) on the upstream Istio 1.30 and Gateway
API v1.5.1 standard-channel CRDs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from celestials.artifacts import GATEWAY_API, ISTIO
from celestials.render.istio import INJECTION_LABEL
from celestials.render.kubernetes_workloads import Manifest, ObjectKey, key_of
from tests.appmesh.mesh_checks import _strict, name, ns, of_kind, pod_labels, schema_problems, selects
from tests.support.tls_mounts import MountError, mounted_paths, volume_secrets
from tools.reference import REFERENCE

ISTIO_CRDS = REFERENCE / f"istio-{ISTIO.minor}" / "crd-all.gen.yaml"
GATEWAY_API_CRDS = REFERENCE / f"gateway-api-{GATEWAY_API.tag}" / "standard-crds.yaml"
ISTIO_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io")
GATEWAY_API_GROUP = "gateway.networking.k8s.io"

Obj = dict[str, Any]


def group_of(obj: Obj) -> str:
    api_version = obj["apiVersion"]
    return api_version.split("/")[0] if "/" in api_version else ""


def custom_objects(objects: Iterable[Obj]) -> list[Obj]:
    return [o for o in objects if group_of(o) in (*ISTIO_GROUPS, GATEWAY_API_GROUP)]


# --- CRD schema ----------------------------------------------------------------------------------
def load_validators(*paths: Path) -> dict[tuple[str, str], Any]:
    """(apiVersion, kind) → strict jsonschema validator, for every served version of every CRD."""
    import jsonschema

    validators = {}
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            kind, group = doc["spec"]["names"]["kind"], doc["spec"]["group"]
            for version in doc["spec"]["versions"]:
                if not version.get("served"):
                    continue
                schema = _strict(version["schema"]["openAPIV3Schema"])
                schema["properties"]["metadata"] = {"type": "object"}
                # Istio's generated schemas describe only spec/status; every object has these two.
                for field in ("apiVersion", "kind"):
                    schema["properties"].setdefault(field, {"type": "string"})
                validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft7Validator(schema)
    return validators


def crd_problems(objects: Iterable[Obj], validators: dict[tuple[str, str], Any]) -> list[str]:
    problems = []
    for obj in custom_objects(objects):
        validator = validators.get((obj["apiVersion"], obj["kind"]))
        if validator is None:
            problems.append(f"{obj['kind']} {name(obj)}: no served CRD for {obj['apiVersion']}")
            continue
        problems += schema_problems(obj, validator)
    return problems


# --- routing -------------------------------------------------------------------------------------
def _service_ports(objects: list[Obj], namespace: str) -> dict[str, set[int]]:
    return {name(s): {p["port"] for p in s["spec"]["ports"]} for s in of_kind(objects, "Service", namespace)}


def _ref_problem(route: Obj, what: str, ref: Obj, services: dict[str, set[int]]) -> str | None:
    if ref.get("group", "") != "" or ref.get("kind", "Service") != "Service":
        return f"HTTPRoute {ns(route)}/{name(route)}: {what} {ref} is not a core Service"
    if ref["name"] not in services:
        return f"HTTPRoute {ns(route)}/{name(route)}: {what} Service {ref['name']!r} is not rendered"
    if ref.get("port") not in services[ref["name"]]:
        return f"HTTPRoute {ns(route)}/{name(route)}: {what} Service {ref['name']} has no port {ref.get('port')}"
    return None


def route_reference_problems(objects: list[Obj]) -> list[str]:
    """Every HTTPRoute backendRef, and every Service parentRef, names a Service of the same
    namespace on a port that Service has; Gateway parents exist there too."""
    problems = []
    for route in of_kind(objects, "HTTPRoute"):
        services = _service_ports(objects, ns(route))
        gateways = {name(g) for g in of_kind(objects, "Gateway", ns(route))}
        for parent in route["spec"]["parentRefs"]:
            if parent.get("kind") == "Gateway":
                if parent["name"] not in gateways:
                    problems.append(f"HTTPRoute {ns(route)}/{name(route)}: parent Gateway {parent['name']!r} is not rendered")
                continue
            problems.append(_ref_problem(route, "parentRef", parent, services))
        for rule in route["spec"]["rules"]:
            for backend in rule["backendRefs"]:
                problems.append(_ref_problem(route, "backendRef", backend, services))
    return [p for p in problems if p]


def injection_problems(objects: list[Obj]) -> list[str]:
    """Every Deployment lives in a rendered namespace labelled for sidecar injection."""
    labels = {name(n): n["metadata"].get("labels") or {} for n in of_kind(objects, "Namespace")}
    problems = []
    for d in of_kind(objects, "Deployment"):
        if labels.get(ns(d), {}).get(INJECTION_LABEL) != "enabled":
            problems.append(f"Deployment {ns(d)}/{name(d)}: namespace {ns(d)} is not labelled {INJECTION_LABEL}=enabled")
    return problems


def service_selection_problems(objects: list[Obj]) -> list[str]:
    """Each route backend Service selects the pods of at least one Deployment (else it has no endpoints)."""
    problems = []
    for route in of_kind(objects, "HTTPRoute"):
        services = {name(s): s for s in of_kind(objects, "Service", ns(route))}
        deployments = of_kind(objects, "Deployment", ns(route))
        for rule in route["spec"]["rules"]:
            for backend in rule["backendRefs"]:
                selector = (services.get(backend["name"]) or {}).get("spec", {}).get("selector")
                if not selector or not any(selects({"matchLabels": selector}, pod_labels(d)) for d in deployments):
                    problems.append(f"HTTPRoute {ns(route)}/{name(route)}: backend {backend['name']} selects no pods")
    return problems


# --- ordering ------------------------------------------------------------------------------------
def order_problems(manifests: Iterable[Manifest], external: Iterable[ObjectKey] = ()) -> list[str]:
    """The list is a valid creation order: every dependency is rendered earlier or is one of the
    `external` keys (objects other components create); everything namespaced waits for its namespace."""
    problems, seen = [], set()
    allowed = set(external)
    for m in manifests:
        for dep in m.depends_on:
            if dep not in seen and dep not in allowed:
                problems.append(f"{m.key}: depends on {dep}, which is not created before it")
        namespace = m.key.namespace
        if namespace and ObjectKey("Namespace", None, namespace) not in m.depends_on:
            problems.append(f"{m.key}: does not wait for its namespace")
        seen.add(m.key)
    return problems


def deployment_order_problems(manifests: list[Manifest]) -> list[str]:
    """Each Deployment waits for its ServiceAccount and for the TLS Secret its sidecar mounts."""
    problems = []
    for m in manifests:
        if m.key.kind != "Deployment":
            continue
        pod = m.obj["spec"]["template"]
        sa = ObjectKey("ServiceAccount", m.key.namespace, pod["spec"]["serviceAccountName"])
        if sa not in m.depends_on:
            problems.append(f"{m.key}: does not wait for {sa}")
        for secret in mounted_secrets(pod):
            key = ObjectKey("Secret", m.key.namespace, secret)
            if key not in m.depends_on:
                problems.append(f"{m.key}: does not wait for {key}")
    return problems


# --- TLS files -----------------------------------------------------------------------------------
def user_volumes(pod_template: Obj) -> tuple[dict, dict]:
    """(userVolume, userVolumeMount) the injector reads from the pod annotations (parsed JSON)."""
    import json

    annotations = pod_template["metadata"].get("annotations") or {}
    return (json.loads(annotations.get("sidecar.istio.io/userVolume", "{}")),
            json.loads(annotations.get("sidecar.istio.io/userVolumeMount", "{}")))


def mounted_secrets(pod_template: Obj) -> list[str]:
    """Every Secret the pod's user volumes read (a `secret` volume's, a `projected` one's sources)."""
    volumes, _ = user_volumes(pod_template)
    return [secret for v in volumes.values() for secret in volume_secrets(v)]


def sidecar_files(pod_template: Obj) -> set[str]:
    """Every file path istio-proxy sees through the pod's user volumes, where they are mounted."""
    volumes, mounts = user_volumes(pod_template)
    return {path for vol, m in mounts.items() if vol in volumes
            for path in mounted_paths(volumes[vol], m["mountPath"].rstrip("/"))}


def tls_paths(obj: Obj) -> list[str]:
    """Every file a DestinationRule's or Sidecar's TLS names."""
    if obj["kind"] == "DestinationRule":
        tls = obj["spec"]["trafficPolicy"]["tls"]
        return [tls[k] for k in ("clientCertificate", "privateKey", "caCertificates")]
    return [listener["tls"][k] for listener in obj["spec"].get("ingress", []) if "tls" in listener
            for k in ("serverCertificate", "privateKey", "caCertificates")]


def _labels_match(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def client_san_patches(objects: list[Obj], namespace: str, labels: dict, port: int) -> list[str] | None:
    """The DNS SANs the EnvoyFilters selecting these pod labels require of a client certificate
    on the inbound TLS filter chain of `port` (their MERGE into the TLS socket's default
    validation context), or None when no EnvoyFilter patches that chain."""
    sans: list[str] | None = None
    for f in of_kind(objects, "EnvoyFilter", namespace):
        if not _labels_match(f["spec"].get("workloadSelector", {}).get("labels", {}), labels):
            continue
        for cp in f["spec"]["configPatches"]:
            listener = cp.get("match", {}).get("listener", {})
            if (cp["applyTo"], cp["match"].get("context"), listener.get("portNumber"),
                    listener.get("filterChain", {}).get("transportProtocol"), cp["patch"]["operation"]) != \
                    ("FILTER_CHAIN", "SIDECAR_INBOUND", port, "tls", "MERGE"):
                continue
            context = cp["patch"]["value"]["transport_socket"]["typed_config"]["common_tls_context"]
            validation = context["combined_validation_context"]["default_validation_context"]
            sans = (sans or []) + [m["matcher"]["exact"] for m in validation["match_typed_subject_alt_names"]
                                   if m["san_type"] == "DNS"]
    return sans


def deployments_selected(objects: list[Obj], obj: Obj) -> list[Obj]:
    spec = obj["spec"]
    if obj["kind"] == "Sidecar":
        selector = {"matchLabels": spec["workloadSelector"]["labels"]}
    elif obj["kind"] == "DestinationRule":
        selector = spec["workloadSelector"]
    else:
        selector = spec["selector"]
    return [d for d in of_kind(objects, "Deployment", ns(obj)) if selects(selector, pod_labels(d))]


def tls_file_problems(objects: list[Obj], mounted_in: list[Obj] | None = None) -> list[str]:
    """Each file a TLS policy names is a file of a Secret mounted into istio-proxy of exactly the
    pods the policy selects, under that mount's path. `mounted_in`: the objects whose Deployments
    say what is mounted (default: `objects`), e.g. those of another config, to check that the
    running pods of one state have every file the policies of another name."""
    problems = []
    pods = objects if mounted_in is None else mounted_in
    for obj in of_kind(objects, "DestinationRule") + of_kind(objects, "Sidecar"):
        paths = tls_paths(obj)
        if not paths:
            continue
        selected = deployments_selected(pods, obj)
        if len(selected) != 1:
            problems.append(f"{obj['kind']} {name(obj)}: selects {[name(d) for d in selected]}, expected one workload")
            continue
        try:
            files = sidecar_files(selected[0]["spec"]["template"])
        except MountError as e:
            problems.append(f"{name(selected[0])}: {e}")
            continue
        for path in paths:
            if path not in files:
                problems.append(f"{obj['kind']} {name(obj)}: {path} is not a file of a Secret mounted into "
                                f"{name(selected[0])}'s sidecar")
    return problems


def by_key(manifests: Iterable[Manifest]) -> dict[ObjectKey, Manifest]:
    return {m.key: m for m in manifests}


def keys_of(objects: Iterable[Obj]) -> set[ObjectKey]:
    return {key_of(o) for o in objects}
