"""Turn rendered manifests into Pulumi resources: the cluster's explicit provider, a parent, and
`depends_on` from the keys each manifest declares.

Why one function: every App Mesh component applies objects the same way, and a dependency that
names an object not created yet is a bug in the ordering, reported here with both keys instead of
surfacing as a race in a real cluster.
"""

from __future__ import annotations

from typing import Iterable, Mapping, MutableMapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from celestials.render.appmesh import ACTIVE_CONDITIONS, with_annotations
from celestials.render.kubernetes_workloads import Manifest, ObjectKey

#: Pulumi's own annotation: `pulumi up` waits until the App Mesh API reports the object active,
#: so a red preview/up means the mesh really is not there (pulumi-kubernetes >= 4.18).
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"

Registry = MutableMapping[ObjectKey, pulumi.Resource]


def wait_for(kind: str) -> dict[str, str]:
    condition = ACTIVE_CONDITIONS.get(kind)
    return {WAIT_FOR_ANNOTATION: f"condition={condition}"} if condition else {}


def resource_name(prefix: str, key: ObjectKey) -> str:
    parts = [prefix, key.kind.lower()] + ([key.namespace] if key.namespace else []) + [key.name]
    return "-".join(parts)


def _create(name: str, obj: dict, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    api_version, kind, meta = obj["apiVersion"], obj["kind"], obj["metadata"]
    if (api_version, kind) == ("v1", "Namespace"):
        return k8s.core.v1.Namespace(name, metadata=meta, opts=opts)
    if (api_version, kind) == ("v1", "ServiceAccount"):
        return k8s.core.v1.ServiceAccount(
            name, metadata=meta, automount_service_account_token=obj.get("automountServiceAccountToken"), opts=opts)
    if (api_version, kind) == ("v1", "Service"):
        return k8s.core.v1.Service(name, metadata=meta, spec=obj["spec"], opts=opts)
    if (api_version, kind) == ("apps/v1", "Deployment"):
        return k8s.apps.v1.Deployment(name, metadata=meta, spec=obj["spec"], opts=opts)
    if "/" in api_version and api_version.split("/")[0].endswith("k8s.aws"):
        return k8s.apiextensions.CustomResource(name, api_version=api_version, kind=kind, metadata=meta,
                                                spec=obj.get("spec"), opts=opts)
    raise ValueError(f"no way to apply {api_version} {kind} {meta.get('name')}: add it to components/appmesh/apply.py")


def apply_manifests(prefix: str, manifests: Iterable[Manifest], registry: Registry, *,
                    parent: pulumi.Resource, provider: k8s.Provider,
                    depends_on_by_kind: Mapping[str, Sequence[pulumi.Resource]] | None = None,
                    ) -> dict[ObjectKey, pulumi.CustomResource]:
    """Create each manifest in order, after the resources its keys name (looked up in `registry`,
    which this call extends) and, by kind, after `depends_on_by_kind[kind]` (e.g. every App Mesh
    object after the controller's Helm release)."""
    by_kind = depends_on_by_kind or {}
    created: dict[ObjectKey, pulumi.CustomResource] = {}
    for manifest in manifests:
        key = manifest.key
        if key in registry:
            raise ValueError(f"{key} is applied twice")
        missing = [str(k) for k in manifest.depends_on if k not in registry]
        if missing:
            raise ValueError(f"{key} must come after {', '.join(missing)}, which no earlier manifest creates")
        annotations = wait_for(key.kind)
        if annotations:
            manifest = with_annotations(manifest, annotations)
        opts = pulumi.ResourceOptions(parent=parent, provider=provider,
                                      depends_on=[*by_kind.get(key.kind, ()), *(registry[k] for k in manifest.depends_on)])
        resource = _create(resource_name(prefix, key), dict(manifest.obj), opts)
        registry[key] = created[key] = resource
    return created
