"""Opaque inputs (Pulumi Outputs at deploy time) are placed, never read; inputs that cannot
work are refused with a message naming what is wrong."""

from __future__ import annotations

import pytest

from celestials.render.istio import IstioInputs, render_istio_mesh
from celestials.render.kubernetes_workloads import IRSA_ROLE_ANNOTATION, RenderError
from celestials.topology import build_topology, colorapp, productcatalog
from celestials.topology.model import Workload
from tests.istio.rendering import inputs_for, settings_for
from tests.kubernetes.test_workloads import Opaque


def _mesh(settings, namespace=productcatalog.NAMESPACE):
    return build_topology(settings).mesh_in(namespace)


def _by_key(manifests):
    return {str(m.key): m.obj for m in manifests}


def test_opaque_inputs_are_placed_as_they_are():
    settings = settings_for()
    mesh = _mesh(settings)
    images = {w.image: Opaque(f"image {w.image}") for w in mesh.workloads}
    role, table = Opaque("role arn"), Opaque("table name")
    extra = Opaque("tls digest")
    inputs = IstioInputs(images=images, workload_roles={"prodcatalog": role}, dynamodb_table=table,
                         otlp_endpoint="http://collector:4318", pod_annotations={"prodcatalog": {"digest": extra}})
    objs = _by_key(render_istio_mesh(mesh, settings, inputs))
    sa = objs["ServiceAccount/prodcatalog-ns/prodcatalog"]
    assert sa["metadata"]["annotations"][IRSA_ROLE_ANNOTATION] is role
    pod = objs["Deployment/prodcatalog-ns/prodcatalog"]["spec"]["template"]
    [container] = pod["spec"]["containers"]
    assert container["image"] is images["prodcatalog"]
    assert [e["value"] for e in container["env"] if e["name"] == "DYNAMODB_TABLE"] == [table]
    assert pod["metadata"]["annotations"]["digest"] is extra
    for w in mesh.workloads:
        [c] = objs[f"Deployment/prodcatalog-ns/{w.name}"]["spec"]["template"]["spec"]["containers"]
        assert c["image"] is images[w.image]


def test_opaque_digest_sits_beside_the_tls_mount_annotations():
    settings = settings_for()
    mesh = _mesh(settings, colorapp.NAMESPACE)
    digest = Opaque("digest")
    inputs = inputs_for(mesh, pod_annotations={"front": {"celestials.io/tls-digest": digest}})
    pod = _by_key(render_istio_mesh(mesh, settings, inputs))["Deployment/mtls/front"]["spec"]["template"]
    annotations = pod["metadata"]["annotations"]
    assert annotations["celestials.io/tls-digest"] is digest
    assert "sidecar.istio.io/userVolume" in annotations


def test_dynamodb_storage_needs_a_role():
    settings = settings_for()
    mesh = _mesh(settings)
    with pytest.raises(RenderError, match="prodcatalog: stores data in dynamodb but has no IAM role"):
        render_istio_mesh(mesh, settings, inputs_for(mesh, workload_roles={}))


def test_sqlite_storage_needs_no_role():
    settings = settings_for(prodcatalogStorage="sqlite", prodcatalogReplicas=1)
    mesh = _mesh(settings)
    objs = _by_key(render_istio_mesh(mesh, settings, inputs_for(mesh, workload_roles={}, dynamodb_table=None)))
    assert "annotations" not in objs["ServiceAccount/prodcatalog-ns/prodcatalog"]["metadata"]


def test_a_role_for_an_unknown_workload_is_refused():
    settings = settings_for()
    mesh = _mesh(settings)
    with pytest.raises(RenderError, match="roles given for workloads it does not have: catalog"):
        render_istio_mesh(mesh, settings, inputs_for(mesh, workload_roles={"prodcatalog": "arn", "catalog": "arn"}))


def test_an_app_named_like_an_injected_container_is_refused():
    settings = settings_for()
    mesh = _mesh(settings)
    w = mesh.workload("proddetail-v1")
    clash = Workload(**{**w.__dict__, "app": "istio-proxy"})
    bad = type(mesh)(**{**mesh.__dict__, "workloads": tuple(clash if x.name == w.name else x for x in mesh.workloads)})
    with pytest.raises(RenderError, match="app name 'istio-proxy' is reserved for the mesh proxy"):
        render_istio_mesh(bad, settings, inputs_for(bad))


def test_same_config_same_objects():
    settings = settings_for()
    mesh = _mesh(settings, colorapp.NAMESPACE)
    first = [(m.obj, m.depends_on) for m in render_istio_mesh(mesh, settings, inputs_for(mesh))]
    second = [(m.obj, m.depends_on) for m in render_istio_mesh(mesh, settings, inputs_for(mesh))]
    assert first == second
