"""Renders every mesh of the topology with the Istio backend, with plain stand-ins for the opaque
inputs (the purity tests use trap objects instead)."""

from __future__ import annotations

from celestials.render.istio import IstioInputs, render_istio_mesh, render_mesh_wide
from celestials.render.kubernetes_workloads import Manifest, ObjectKey
from celestials.settings import Settings, parse_settings
from celestials.topology import build_topology, colorapp
from celestials.topology.model import Mesh

ROLES = {"prodcatalog": "arn:aws:iam::123456789012:role/prodcatalog"}
OTLP = "http://otel-collector.observability.svc.cluster.local:4318"
#: Objects created outside the renderer that its manifests may wait for.
EXTERNAL = frozenset(ObjectKey("Secret", colorapp.NAMESPACE, s.name) for s in colorapp.TLS_SECRETS)


def settings_for(**config) -> Settings:
    return parse_settings({"appMeshEndOfSupportAcknowledged": True, **config}, "dev")


def inputs_for(mesh: Mesh, **overrides) -> IstioInputs:
    base = dict(images={w.image: f"registry.example/{w.image}@sha256:{'0' * 64}" for w in mesh.workloads},
                workload_roles={k: v for k, v in ROLES.items() if k in {w.name for w in mesh.workloads}},
                otlp_endpoint=OTLP, dynamodb_table="celestials-products")
    return IstioInputs(**{**base, **overrides})


def render_all(**config) -> list[Manifest]:
    settings = settings_for(**config)
    out: list[Manifest] = list(render_mesh_wide(settings.tracing))
    for mesh in build_topology(settings).meshes:
        out += render_istio_mesh(mesh, settings, inputs_for(mesh))
    return out


def objects(manifests) -> list[dict]:
    return [m.obj for m in manifests]
