"""A mesh backend evaluated offline, the way __main__.py wires it (registry, trace collector,
identity, backend), with stand-ins only for what other components produce (the cluster's provider
and OIDC values, image references, the product table and prodcatalog's role), so these tests do
not depend on those components. `meshBackend` in the config picks the backend (default: App Mesh,
acknowledged)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from celestials.images import IMAGES
from celestials.settings import parse_settings
from celestials.topology import build_topology
from components import mesh_backends
from components.mesh_backend import MeshBackendArgs, MeshIdentityArgs
from components.trace_collector import TracingCollector, TracingCollectorArgs
from synth.harness import SynthResult, evaluate, quiet

ACCOUNT = "123456789012"
OIDC_URL = "https://oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF"
OIDC_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF"
PRODCATALOG_ROLE = f"arn:aws:iam::{ACCOUNT}:role/prodcatalog"
TABLE = "celestials-dev-products"
PROVIDER_NAME = "cluster-k8s"


def image_ref(key: str) -> str:
    return f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com/celestials/{key}@sha256:{'0' * 64}"


@dataclass
class Evaluated:
    result: SynthResult
    settings: Any

    @property
    def manifests(self) -> list[dict]:
        return self.result.manifests


def backend_program(config: dict[str, Any], refs_as_one_output: bool = False):
    defaults = {"meshBackend": "appmesh", "appMeshEndOfSupportAcknowledged": True}
    settings = parse_settings({**defaults, **config}, "dev")
    topology = build_topology(settings)

    def program():
        backend_plugin = mesh_backends.select(settings)
        provider = k8s.Provider(PROVIDER_NAME, kubeconfig=pulumi.Output.secret("apiVersion: v1\nkind: Config\n"))
        collector = TracingCollector("tracing", TracingCollectorArgs(
            k8s_provider=provider, oidc_provider_arn=OIDC_ARN, oidc_provider_url=OIDC_URL,
            region=settings.region, node_architecture=settings.node_architecture)) if settings.tracing else None
        identity = backend_plugin.create_identity("mesh-identity", MeshIdentityArgs(settings, topology, OIDC_ARN, OIDC_URL))
        refs = {key: pulumi.Output.from_input(image_ref(key)) for key in IMAGES}
        if refs_as_one_output:  # how components.images.Images exposes them
            refs = pulumi.Output.all(**refs)
        roles = {"prodcatalog-ns": {"prodcatalog": pulumi.Output.from_input(PRODCATALOG_ROLE)}}
        backend = backend_plugin.create("mesh", MeshBackendArgs(
            settings=settings, topology=topology, k8s_provider=provider, oidc_provider_arn=OIDC_ARN,
            oidc_provider_url=OIDC_URL, image_refs=refs, identity=identity, workload_roles=roles,
            dynamodb_table=pulumi.Output.from_input(TABLE), collector=collector))
        pulumi.export("ingressUrl", backend.ingress_url)
        pulumi.export("meshNames", backend.mesh_names)
    return settings, program


def evaluate_backend(refs_as_one_output: bool = False, **config: Any) -> Evaluated:
    settings, program = backend_program(config, refs_as_one_output)
    with quiet():
        return Evaluated(evaluate(program, stack="dev", config={"aws:region": settings.region}), settings)
