"""Turn rendered manifests into Pulumi resources: the cluster's explicit provider, a parent, and
`depends_on` from the keys each manifest declares.

Why one function for every backend: all of them apply objects the same way, and a dependency that
names an object not created yet is a bug in the ordering, reported here with both keys instead of
surfacing as a race in a real cluster. Built-in kinds get their typed resources (so Pulumi awaits
them as it knows how: Deployments rolled out, Services with their load balancer); every other
kind is a `CustomResource`, whose CRD the caller makes a dependency of (`depends_on_by_kind`).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, MutableMapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials.render.kubernetes_workloads import Manifest, ObjectKey, with_annotations

Registry = MutableMapping[ObjectKey, pulumi.Resource]
#: kind → annotations Pulumi reads while applying it (e.g. `pulumi.com/waitFor`)
AwaitAnnotations = Callable[[str], Mapping[str, str]]

#: Pulumi's own annotation: `pulumi up` waits until the condition holds (pulumi-kubernetes >= 4.18).
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"


def wait_for_condition(conditions: Mapping[str, str]) -> AwaitAnnotations:
    """Await each kind in `conditions` until its status reports that condition True."""
    return lambda kind: {WAIT_FOR_ANNOTATION: f"condition={conditions[kind]}"} if kind in conditions else {}


def resource_name(prefix: str, key: ObjectKey) -> str:
    parts = [prefix, key.kind.lower()] + ([key.namespace] if key.namespace else []) + [key.name]
    return "-".join(parts)


_BUILT_IN: dict[tuple[str, str], Callable[[str, dict[str, Any], pulumi.ResourceOptions], pulumi.CustomResource]] = {
    ("v1", "Namespace"): lambda name, obj, opts: k8s.core.v1.Namespace(name, metadata=obj["metadata"], opts=opts),
    ("v1", "ServiceAccount"): lambda name, obj, opts: k8s.core.v1.ServiceAccount(
        name, metadata=obj["metadata"], automount_service_account_token=obj.get("automountServiceAccountToken"),
        opts=opts),
    ("v1", "Service"): lambda name, obj, opts: k8s.core.v1.Service(
        name, metadata=obj["metadata"], spec=obj["spec"], opts=opts),
    ("apps/v1", "Deployment"): lambda name, obj, opts: k8s.apps.v1.Deployment(
        name, metadata=obj["metadata"], spec=obj["spec"], opts=opts),
    ("policy/v1", "PodDisruptionBudget"): lambda name, obj, opts: k8s.policy.v1.PodDisruptionBudget(
        name, metadata=obj["metadata"], spec=obj["spec"], opts=opts),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): lambda name, obj, opts: k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name, metadata=obj["metadata"], spec=obj["spec"], opts=opts),
    ("networking.k8s.io/v1", "NetworkPolicy"): lambda name, obj, opts: k8s.networking.v1.NetworkPolicy(
        name, metadata=obj["metadata"], spec=obj["spec"], opts=opts),
}


#: API groups served by Kubernetes itself: their kinds are not custom resources.
_BUILT_IN_GROUPS = frozenset({"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io",
                              "rbac.authorization.k8s.io", "storage.k8s.io", "apiextensions.k8s.io",
                              "admissionregistration.k8s.io", "coordination.k8s.io", "discovery.k8s.io"})


def _create(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    api_version, kind = obj["apiVersion"], obj["kind"]
    make = _BUILT_IN.get((api_version, kind))
    if make is not None:
        return make(name, obj, opts)
    group = api_version.rpartition("/")[0]
    if group in _BUILT_IN_GROUPS:
        raise ValueError(f"no way to apply {api_version} {kind} {obj['metadata'].get('name')}: a built-in kind "
                         "needs its typed resource in components/kubernetes_apply.py")
    return k8s.apiextensions.CustomResource(name, api_version=api_version, kind=kind, metadata=obj["metadata"],
                                            spec=obj.get("spec"), opts=opts)


def apply_manifests(prefix: str, manifests: Iterable[Manifest], registry: Registry, *,
                    parent: pulumi.Resource, provider: k8s.Provider,
                    depends_on_by_kind: Mapping[str, Sequence[pulumi.Resource]] | None = None,
                    await_annotations: AwaitAnnotations | None = None,
                    ) -> dict[ObjectKey, pulumi.CustomResource]:
    """Create each manifest in order, after the resources its keys name (looked up in `registry`,
    which this call extends) and, by kind, after `depends_on_by_kind[kind]` (e.g. every mesh
    object after the release that installs its CRDs)."""
    by_kind = depends_on_by_kind or {}
    created: dict[ObjectKey, pulumi.CustomResource] = {}
    for manifest in manifests:
        key = manifest.key
        if key in registry:
            raise ValueError(f"{key} is applied twice")
        missing = [str(k) for k in manifest.depends_on if k not in registry]
        if missing:
            raise ValueError(f"{key} must come after {', '.join(missing)}, which no earlier manifest creates")
        annotations = await_annotations(key.kind) if await_annotations else {}
        if annotations:
            manifest = with_annotations(manifest, annotations)
        opts = pulumi.ResourceOptions(parent=parent, provider=provider,
                                      depends_on=[*by_kind.get(key.kind, ()), *(registry[k] for k in manifest.depends_on)])
        resource = _create(resource_name(prefix, key), dict(manifest.obj), opts)
        registry[key] = created[key] = resource
    return created
