"""The Kubernetes Gateway API standard channel (celestials.artifacts.GATEWAY_API), applied object
by object from files whose bytes are pinned by sha256.

Why objects and not the release URL: a URL handed to the provider is fetched on every preview with
no status or content check, so an empty or moved body would plan the deletion of every CRD and, with
them, every Gateway and HTTPRoute. Here the files are read and verified before any resource is
registered (`load_gateway_api`, called by the backend's refusals), and each object becomes one
typed resource: the preview shows exactly which CRD changes on a bundle upgrade.

Why the safe-upgrades ValidatingAdmissionPolicy is installed (it is part of the standard channel
since v1.5, `failurePolicy: Fail`): it refuses, cluster-wide, an experimental-channel Gateway API
CRD applied over these and any bundle older than v1.5. Both would silently change the schema under
our Gateways and HTTPRoutes (another tool or add-on installing its own copy), which is the fight
over an object we want refused loudly. It matches only CRDs of the `gateway.networking.k8s.io`
group, so it cannot block Istio's or anyone else's CRDs, and it allows our own upgrades within the
standard channel. Uninstalling it (to run experimental CRDs on purpose) is a change to this module.

Names: each object's resource is `<name>:<object name>`, as `kubernetes:yaml/v2:ConfigFile` named
its children (pulumi-kubernetes provider/pkg/provider/yaml/v2/yaml.go), and carries an alias to that
ConfigFile as its old parent: a stack that applied the bundle from the release URL keeps its CRDs
(and so its routes) instead of deleting and re-creating them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pulumi
import pulumi_kubernetes as k8s
import yaml

from celestials.artifacts import GATEWAY_API, GatewayApiBundle
from celestials.upstream_files import Fetch, https_fetch, read_pinned


@dataclass(frozen=True)
class GatewayApiObjects:
    bundle: GatewayApiBundle
    #: every object of the bundle's files, in file order
    objects: tuple[dict[str, Any], ...]


_Make = Callable[[str, dict[str, Any], pulumi.ResourceOptions], pulumi.CustomResource]
#: (apiVersion, kind) → its typed resource; a bundle bringing another kind is refused (`load_gateway_api`).
_KINDS: dict[tuple[str, str], _Make] = {
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): lambda name, obj, opts:
        k8s.apiextensions.v1.CustomResourceDefinition(name, metadata=obj["metadata"], spec=obj["spec"], opts=opts),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"): lambda name, obj, opts:
        k8s.admissionregistration.v1.ValidatingAdmissionPolicy(name, metadata=obj["metadata"], spec=obj["spec"],
                                                               opts=opts),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"): lambda name, obj, opts:
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(name, metadata=obj["metadata"],
                                                                      spec=obj["spec"], opts=opts),
}


class GatewayApiBundleError(ValueError):
    """The bundle's files hold something this module does not know how to apply."""


def load_gateway_api(bundle: GatewayApiBundle = GATEWAY_API, *, environ: Mapping[str, str] | None = None,
                     fetch: Fetch = https_fetch) -> GatewayApiObjects:
    """Read and verify the bundle's files (celestials.upstream_files) and parse their objects."""
    texts = read_pinned(bundle.files, {f.name: bundle.url(f) for f in bundle.files},
                        f"gateway-api/{bundle.tag}", environ=environ, fetch=fetch)
    objects: list[dict[str, Any]] = []
    for f in bundle.files:
        for doc in yaml.safe_load_all(texts[f.name]):
            if not doc:
                continue
            if (doc.get("apiVersion"), doc.get("kind")) not in _KINDS:
                raise GatewayApiBundleError(
                    f"{f.name} of Gateway API {bundle.tag} holds {doc.get('apiVersion')} {doc.get('kind')} "
                    f"{doc.get('metadata', {}).get('name')}, which components/istio/gateway_api_crds.py does not apply")
            objects.append(doc)
    return GatewayApiObjects(bundle, tuple(objects))


def config_file_urn(parent_urn: str, name: str) -> str:
    """The URN a `kubernetes:yaml/v2:ConfigFile` named `name` had as a child of `parent_urn`."""
    prefix, _, parent_name = parent_urn.rpartition("::")
    del parent_name
    return f"{prefix}$kubernetes:yaml/v2:ConfigFile::{name}"


def apply_gateway_api(name: str, bundle: GatewayApiObjects, opts: pulumi.ResourceOptions,
                      owner: pulumi.Resource) -> list[pulumi.CustomResource]:
    """One typed resource per object, children of `opts.parent`; `owner` (that parent) had them
    under a ConfigFile of the same `name`, which each resource names as its old parent."""
    old_parent = owner.urn.apply(lambda urn: config_file_urn(urn, name))
    aliases = [pulumi.Alias(parent=old_parent)]
    return [_KINDS[(obj["apiVersion"], obj["kind"])](
                f"{name}:{obj['metadata']['name']}", obj, pulumi.ResourceOptions.merge(
                    opts, pulumi.ResourceOptions(aliases=aliases)))
            for obj in bundle.objects]
