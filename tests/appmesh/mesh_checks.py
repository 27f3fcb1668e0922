"""Checks of a rendered App Mesh deployment, over plain Kubernetes objects (from the renderer or
from a synth run), each returning the list of problems found (empty = holds).

Why functions returning problems: the same checks run on the renderer's output, on the backend
evaluated under Pulumi mocks and on the whole program's synth, and the negative tests break one
object on purpose to prove each check can fail.
"""

from __future__ import annotations

import copy
import fnmatch
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import yaml

from celestials.render.appmesh import (API_VERSION, GATEWAY_LABEL, INJECTOR_LABEL, MESH_LABEL, SECRET_MOUNTS_ANNOTATION,
                                       VOLUME_MOUNTS_ANNOTATION)
from tests.support.tls_mounts import mounted_paths, volume_secrets
from tools.reference import REFERENCE as SHARED_REFERENCE

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = SHARED_REFERENCE / "appmesh"
CRDS = REFERENCE / "crds.yaml"

Obj = dict[str, Any]


def name(obj: Obj) -> str:
    return obj["metadata"]["name"]


def ns(obj: Obj) -> str | None:
    return obj["metadata"].get("namespace")


def of_kind(objects: Iterable[Obj], kind: str, namespace: str | None = None) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind and (namespace is None or ns(o) == namespace)]


def appmesh_objects(objects: Iterable[Obj]) -> list[Obj]:
    return [o for o in objects if o.get("apiVersion") == API_VERSION]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    match = selector.get("matchLabels") or {}
    if selector.get("matchExpressions"):
        raise NotImplementedError("matchExpressions are not used by this project's renderers")
    return all(labels.get(k) == v for k, v in match.items())


def pod_labels(deployment: Obj) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"].get("labels") or {}


# --- CRD schema ----------------------------------------------------------------------------------
def _strict(schema: Any) -> Any:
    """The CRD schema with unknown fields refused: the API server would silently prune them, which
    turns a misspelled field into a setting that quietly does nothing."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        # Only structural object nodes: a `oneOf`/`anyOf` branch lists some properties to constrain
        # them, not to close the object (Gateway API's address branches do exactly that).
        if out.get("type") == "object" and "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def load_crd_validators(path: Path = CRDS) -> dict[str, Any]:
    """kind → jsonschema validator for the served v1beta2 version of each App Mesh CRD."""
    import jsonschema

    validators = {}
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        kind = doc["spec"]["names"]["kind"]
        for version in doc["spec"]["versions"]:
            if f"{doc['spec']['group']}/{version['name']}" == API_VERSION and version.get("served"):
                schema = _strict(version["schema"]["openAPIV3Schema"])
                schema["properties"]["metadata"] = {"type": "object"}
                validators[kind] = jsonschema.Draft7Validator(schema)
    return validators


def crd_problems(objects: Iterable[Obj], validators: dict[str, Any]) -> list[str]:
    problems = []
    for obj in appmesh_objects(objects):
        validator = validators.get(obj["kind"])
        if validator is None:
            problems.append(f"{obj['kind']} {name(obj)}: no served {API_VERSION} CRD for this kind")
            continue
        problems += schema_problems(obj, validator)
    return problems


def schema_problems(obj: Obj, validator: Any) -> list[str]:
    """The object's schema errors, each naming the object and the path of the offending field."""
    problems = []
    for err in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in err.absolute_path) or "(root)"
        problems.append(f"{obj['kind']} {ns(obj)}/{name(obj)} at {where}: {err.message}")
    return problems


# --- TLS files -----------------------------------------------------------------------------------
def tls_file_paths(spec: Obj) -> list[str]:
    """Every file a VirtualNode spec's TLS names (listener and client policy: certificate chain,
    key, trust), i.e. what its sidecar must find mounted."""
    paths = []
    for listener in spec["listeners"]:
        if "tls" in listener:
            paths += [*listener["tls"]["certificate"]["file"].values(),
                      listener["tls"]["validation"]["trust"]["file"]["certificateChain"]]
    client = spec.get("backendDefaults", {}).get("clientPolicy", {}).get("tls")
    if client:
        paths += [*client["certificate"]["file"].values(), client["validation"]["trust"]["file"]["certificateChain"]]
    return paths


def _annotation_pairs(value: str | None) -> list[tuple[str, str]]:
    """`a:/x, b:/y` (the injector's format for secretMounts and volumeMounts) as pairs."""
    pairs = [segment.split(":") for segment in (value or "").split(",") if segment.strip()]
    return [(a.strip(), b.strip()) for a, b in pairs]


def sidecar_volumes(pod_template: Obj) -> list[tuple[Obj, str]]:
    """(volume, mount path) for everything the App Mesh injector mounts into the Envoy container:
    a Secret per `secretMounts` entry, a volume of the pod per `volumeMounts` entry."""
    annotations = pod_template["metadata"].get("annotations") or {}
    pod_volumes = {v["name"]: v for v in pod_template["spec"].get("volumes", [])}
    out = [({"secret": {"secretName": secret}}, path)
           for secret, path in _annotation_pairs(annotations.get(SECRET_MOUNTS_ANNOTATION))]
    for volume, path in _annotation_pairs(annotations.get(VOLUME_MOUNTS_ANNOTATION)):
        if volume not in pod_volumes:
            raise KeyError(f"{VOLUME_MOUNTS_ANNOTATION} names volume {volume!r}, which the pod does not have")
        out.append((pod_volumes[volume], path))
    return out


def sidecar_secrets(pod_template: Obj) -> list[str]:
    return [secret for volume, _ in sidecar_volumes(pod_template) for secret in volume_secrets(volume)]


def sidecar_files(pod_template: Obj) -> set[str]:
    """Every file path the Envoy sidecar sees through what the injector mounts."""
    return {p for volume, path in sidecar_volumes(pod_template) for p in mounted_paths(volume, path.rstrip("/"))}


# --- mesh semantics ------------------------------------------------------------------------------
def meshed_namespaces(objects: list[Obj]) -> list[str]:
    return sorted({ns(o) for o in appmesh_objects(objects) if ns(o)})


def namespace_problems(objects: list[Obj]) -> list[str]:
    """Every namespace holding App Mesh objects is labelled into exactly one Mesh, with the
    injector on, and into its VirtualGateway's selector when it has one."""
    problems = []
    namespaces = {name(o): o for o in of_kind(objects, "Namespace")}
    meshes = of_kind(objects, "Mesh")
    for namespace in meshed_namespaces(objects):
        if namespace not in namespaces:
            problems.append(f"namespace {namespace}: holds App Mesh objects but is not created here")
            continue
        labels = namespaces[namespace]["metadata"].get("labels") or {}
        owners = [name(m) for m in meshes if selects(m["spec"].get("namespaceSelector") or {}, labels)]
        if len(owners) != 1:
            problems.append(f"namespace {namespace}: selected by meshes {owners}, expected exactly one")
        elif labels.get(MESH_LABEL) != owners[0]:
            problems.append(f"namespace {namespace}: label {MESH_LABEL}={labels.get(MESH_LABEL)!r}, mesh is {owners[0]}")
        if labels.get(INJECTOR_LABEL) != "enabled":
            problems.append(f"namespace {namespace}: label {INJECTOR_LABEL} is not 'enabled'")
        for vg in of_kind(objects, "VirtualGateway", namespace):
            if not selects(vg["spec"].get("namespaceSelector") or {}, labels):
                problems.append(f"namespace {namespace}: not selected by its VirtualGateway {name(vg)} "
                                f"(label {GATEWAY_LABEL}={labels.get(GATEWAY_LABEL)!r})")
    return problems


def selection_problems(objects: list[Obj]) -> list[str]:
    """Each VirtualNode selects the pods of exactly one Deployment in its namespace, and every pod
    in a meshed namespace is selected by exactly one VirtualNode or VirtualGateway (the webhook
    rejects the others)."""
    problems = []
    for namespace in meshed_namespaces(objects):
        deployments = of_kind(objects, "Deployment", namespace)
        selectors = [(o["kind"], name(o), o["spec"].get("podSelector") or {})
                     for o in of_kind(objects, "VirtualNode", namespace) + of_kind(objects, "VirtualGateway", namespace)]
        for kind, vn, selector in selectors:
            if not (selector.get("matchLabels") or selector.get("matchExpressions")):
                problems.append(f"{kind} {namespace}/{vn}: empty pod selector")
            matched = [name(d) for d in deployments if selects(selector, pod_labels(d))]
            if len(matched) != 1:
                problems.append(f"{kind} {namespace}/{vn}: selects the pods of {matched}, expected exactly one workload")
        for d in deployments:
            by = [f"{kind} {vn}" for kind, vn, selector in selectors if selects(selector, pod_labels(d))]
            if len(by) != 1:
                problems.append(f"Deployment {namespace}/{name(d)}: its pods are selected by {by}, expected exactly one")
    return problems


def reference_problems(objects: list[Obj]) -> list[str]:
    """Backends, providers, route targets and gateway routes name objects that exist."""
    problems = []
    for namespace in meshed_namespaces(objects):
        names = defaultdict(set)
        for o in appmesh_objects(objects):
            if ns(o) == namespace:
                names[o["kind"]].add(name(o))
        for vn in of_kind(objects, "VirtualNode", namespace):
            for backend in vn["spec"].get("backends") or []:
                ref = backend["virtualService"].get("virtualServiceRef", {}).get("name")
                if ref not in names["VirtualService"]:
                    problems.append(f"VirtualNode {namespace}/{name(vn)}: backend {ref!r} is not a declared VirtualService")
        for vs in of_kind(objects, "VirtualService", namespace):
            provider = vs["spec"].get("provider") or {}
            if "virtualNode" in provider:
                ref, kind = provider["virtualNode"]["virtualNodeRef"]["name"], "VirtualNode"
            elif "virtualRouter" in provider:
                ref, kind = provider["virtualRouter"]["virtualRouterRef"]["name"], "VirtualRouter"
            else:
                problems.append(f"VirtualService {namespace}/{name(vs)}: no provider")
                continue
            if ref not in names[kind]:
                problems.append(f"VirtualService {namespace}/{name(vs)}: provider {kind} {ref!r} does not exist")
        for vr in of_kind(objects, "VirtualRouter", namespace):
            for route in vr["spec"]["routes"]:
                for target in route["httpRoute"]["action"]["weightedTargets"]:
                    if target["virtualNodeRef"]["name"] not in names["VirtualNode"]:
                        problems.append(f"VirtualRouter {namespace}/{name(vr)} route {route['name']}: target "
                                        f"{target['virtualNodeRef']['name']!r} does not exist")
        for gr in of_kind(objects, "GatewayRoute", namespace):
            ref = gr["spec"]["httpRoute"]["action"]["target"]["virtualService"]["virtualServiceRef"]["name"]
            if ref not in names["VirtualService"]:
                problems.append(f"GatewayRoute {namespace}/{name(gr)}: target {ref!r} is not a declared VirtualService")
    return problems


def dns_problems(objects: list[Obj]) -> list[str]:
    """Each VirtualService's awsName is its Kubernetes Service's DNS name, and each VirtualNode's
    DNS hostname is a Service that routes to the node's own pods on its listener port."""
    problems = []
    for namespace in meshed_namespaces(objects):
        services = {name(s): s for s in of_kind(objects, "Service", namespace)}
        deployments = of_kind(objects, "Deployment", namespace)
        for vs in of_kind(objects, "VirtualService", namespace):
            expected = f"{name(vs)}.{namespace}.svc.cluster.local"
            if vs["spec"].get("awsName") != expected:
                problems.append(f"VirtualService {namespace}/{name(vs)}: awsName {vs['spec'].get('awsName')!r}, "
                                f"expected the Service DNS name {expected}")
            if name(vs) not in services:
                problems.append(f"VirtualService {namespace}/{name(vs)}: no Kubernetes Service {name(vs)} resolves its name")
        for vn in of_kind(objects, "VirtualNode", namespace):
            host = vn["spec"]["serviceDiscovery"]["dns"]["hostname"]
            svc_name, _, domain = host.partition(".")
            if domain != f"{namespace}.svc.cluster.local" or svc_name not in services:
                problems.append(f"VirtualNode {namespace}/{name(vn)}: DNS hostname {host} is not a Service of {namespace}")
                continue
            svc = services[svc_name]
            own = [d for d in deployments if selects(vn["spec"]["podSelector"], pod_labels(d))]
            selector = svc["spec"].get("selector") or {}
            if not own or not selector or not all(selects({"matchLabels": selector}, pod_labels(d)) for d in own):
                problems.append(f"VirtualNode {namespace}/{name(vn)}: Service {svc_name} does not select its pods")
            port = vn["spec"]["listeners"][0]["portMapping"]["port"]
            if port not in [p.get("targetPort") for p in svc["spec"]["ports"]]:
                problems.append(f"VirtualNode {namespace}/{name(vn)}: Service {svc_name} does not target port {port}")
            for d in own:
                ports = [p["containerPort"] for c in d["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
                if port not in ports:
                    problems.append(f"VirtualNode {namespace}/{name(vn)}: Deployment {name(d)} exposes {ports}, not {port}")
    return problems


def all_semantic_problems(objects: list[Obj]) -> list[str]:
    return (namespace_problems(objects) + selection_problems(objects) + reference_problems(objects)
            + dns_problems(objects))


# --- dependency edges (synth results) ------------------------------------------------------------
def dependency_problems(result) -> list[str]:
    """Each App Mesh object waits for the controller release; each meshed workload for its
    VirtualNode (or VirtualGateway) and its namespace; every Kubernetes object uses an explicit
    provider."""
    problems = []
    resources = result.resources
    releases = [r for r in resources if r["type"] == "kubernetes:helm.sh/v3:Release"
                and r["inputs"].get("chart") == "appmesh-controller"]
    if len(releases) != 1:
        return [f"expected one appmesh-controller release, found {len(releases)}"]
    release = releases[0]["urn"]
    k8s_objects = [r for r in resources if r["custom"] and r["type"].startswith("kubernetes:")
                   and not r["type"].startswith("pulumi:providers")]
    by_key = {}
    for r in k8s_objects:
        meta = r["inputs"].get("metadata") or {}
        by_key[(r["inputs"].get("kind"), meta.get("namespace"), meta.get("name"))] = r
        if not r["provider"] or "pulumi:providers:kubernetes" not in r["provider"]:
            problems.append(f"{r['urn']}: no explicit Kubernetes provider")
    for r in k8s_objects:
        inputs = r["inputs"]
        if inputs.get("apiVersion") == API_VERSION and not result.depends_on(r["urn"], release):
            problems.append(f"{inputs['kind']} {inputs['metadata']['name']}: does not wait for the controller release")
    objects = result.manifests
    for namespace in meshed_namespaces(objects):
        ns_res = by_key.get(("Namespace", None, namespace))
        for d in of_kind(objects, "Deployment", namespace):
            urn = by_key[("Deployment", namespace, name(d))]["urn"]
            if ns_res is None or not result.depends_on(urn, ns_res["urn"]):
                problems.append(f"Deployment {namespace}/{name(d)}: does not wait for its namespace")
            owners = [o for o in of_kind(objects, "VirtualNode", namespace) + of_kind(objects, "VirtualGateway", namespace)
                      if selects(o["spec"]["podSelector"], pod_labels(d))]
            for owner in owners:
                owner_urn = by_key[(owner["kind"], namespace, name(owner))]["urn"]
                if not result.depends_on(urn, owner_urn):
                    problems.append(f"Deployment {namespace}/{name(d)}: does not wait for {owner['kind']} {name(owner)}")
    return problems


# --- IAM -----------------------------------------------------------------------------------------
def policy_documents(result) -> list[tuple[str, dict]]:
    """(resource name, document) of every IAM policy the run registers (inline and managed)."""
    import json

    docs = []
    for r in result.resources:
        if r["type"] in ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy"):
            policy = r["inputs"].get("policy")
            docs.append((r["name"], json.loads(policy) if isinstance(policy, str) else policy))
    return docs


def wildcard_action_problems(named_docs: Iterable[tuple[str, dict]]) -> list[str]:
    problems = []
    for label, doc in named_docs:
        for statement in doc["Statement"]:
            actions = statement.get("Action", [])
            for action in [actions] if isinstance(actions, str) else actions:
                if "*" in action or "?" in action:
                    problems.append(f"{label}: wildcard action {action!r}")
            if "NotAction" in statement:
                problems.append(f"{label}: NotAction grants everything else")
    return problems


def scoped_to(patterns: list[str], arn: str) -> bool:
    return any(fnmatch.fnmatchcase(arn, p) for p in patterns)


def broken(objects: list[Obj], kind: str, obj_name: str, mutate) -> list[Obj]:
    """A deep copy of `objects` with one object changed by `mutate(obj)` (for negative tests)."""
    out = copy.deepcopy(objects)
    for o in out:
        if o["kind"] == kind and name(o) == obj_name:
            mutate(o)
            return out
    raise KeyError(f"no {kind} {obj_name}")

