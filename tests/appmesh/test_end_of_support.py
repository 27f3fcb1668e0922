"""App Mesh reached end of support on 2026-09-30: without an explicit acknowledgement the stack
fails before anything is registered, with a message that says so and how to proceed."""

from __future__ import annotations

import pytest

from celestials.settings import parse_settings
from components import mesh_backend
from components.appmesh.end_of_support import AppMeshEndOfSupportError
from synth.harness import evaluate, quiet
from tests.appmesh.program import backend_program


def test_unacknowledged_appmesh_is_refused_with_the_status_and_the_ways_forward():
    settings = parse_settings({}, "staging")
    with pytest.raises(AppMeshEndOfSupportError) as err:
        mesh_backend.check_backend(settings)
    message = str(err.value)
    assert "end of support on 2026-09-30" in message
    assert "pulumi config set celestials:appMeshEndOfSupportAcknowledged true --stack staging" in message
    assert "Amazon VPC Lattice" in message
    assert "second mesh backend" in message and "celestials:meshBackend" in message


def test_acknowledged_appmesh_passes():
    mesh_backend.check_backend(parse_settings({"appMeshEndOfSupportAcknowledged": "true"}, "dev"))


def test_the_refusal_comes_before_any_resource_is_registered():
    _, program = backend_program({"appMeshEndOfSupportAcknowledged": False})
    with pytest.raises(AppMeshEndOfSupportError) as err, quiet():
        evaluate(program)
    assert err.value.synth_registrations == []


def test_the_backend_component_refuses_on_its_own_too():
    """Even wired without check_backend(), the component refuses before it registers itself."""
    from components.appmesh.backend import AppMeshBackend

    settings = parse_settings({}, "dev")

    def program():
        AppMeshBackend("mesh", mesh_backend.MeshBackendArgs(
            settings=settings, topology=None, k8s_provider=None, oidc_provider_arn="", oidc_provider_url="",
            image_refs={}, identity=None))

    with pytest.raises(AppMeshEndOfSupportError) as err, quiet():
        evaluate(program)
    assert err.value.synth_registrations == []


def test_an_unknown_backend_is_a_clear_error():
    from dataclasses import replace

    settings = replace(parse_settings({}, "dev"), mesh_backend="istio")
    with pytest.raises(mesh_backend.MeshBackendError, match="'istio' is not one of appmesh"):
        mesh_backend.check_backend(settings)


def test_settings_the_renderers_refuse_fail_before_any_resource_too():
    _, program = backend_program({"prodcatalogStorage": "sqlite", "prodcatalogReplicas": 2})
    with pytest.raises(ValueError, match="sqlite keeps products in one pod's file") as err, quiet():
        evaluate(program)
    assert err.value.synth_registrations == []
