"""App Mesh reached end of support on 2026-09-30: without an explicit acknowledgement the stack
fails before anything is registered, with a message that says so and how to proceed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from celestials.settings import SettingsError, parse_settings
from components import mesh_backends
from components.appmesh.end_of_support import AppMeshEndOfSupportError
from synth.harness import evaluate, quiet
from tests.appmesh import program as program_module
from tests.appmesh.program import backend_program


def test_unacknowledged_appmesh_is_refused_with_the_status_and_the_ways_forward():
    settings = parse_settings({"meshBackend": "appmesh"}, "staging")
    with pytest.raises(AppMeshEndOfSupportError) as err:
        mesh_backends.select(settings)
    message = str(err.value)
    assert "end of support on 2026-09-30" in message
    assert "pulumi config set celestials:appMeshEndOfSupportAcknowledged true --stack staging" in message
    assert "Amazon VPC Lattice" in message
    assert "this project's default mesh backend, istio, renders the same topology model" in message
    assert "pulumi config set celestials:meshBackend istio --stack staging" in message
    assert "plan" not in message


def test_acknowledged_appmesh_passes():
    mesh_backends.select(parse_settings({"meshBackend": "appmesh", "appMeshEndOfSupportAcknowledged": "true"}, "dev"))


def test_the_refusal_comes_before_any_resource_is_registered():
    _, program = backend_program({"appMeshEndOfSupportAcknowledged": False})
    with pytest.raises(AppMeshEndOfSupportError) as err, quiet():
        evaluate(program)
    assert err.value.synth_registrations == []


def test_an_unknown_backend_is_a_clear_error_naming_the_key():
    settings = parse_settings({"meshBackend": "linkerd"}, "dev")
    with pytest.raises(SettingsError, match=r"celestials:meshBackend = 'linkerd': one of .*appmesh") as err:
        mesh_backends.select(settings)
    assert err.value.key == "meshBackend"


def test_settings_the_renderers_refuse_fail_before_any_resource_too(monkeypatch):
    sqlite = {"prodcatalogStorage": "sqlite", "prodcatalogReplicas": 2}
    with pytest.raises(SettingsError, match="1 with prodcatalogStorage sqlite"):
        backend_program(sqlite)  # the settings refuse the pair before there is a program
    # past the settings (built directly), the renderer still refuses it before any resource
    parse = program_module.parse_settings
    monkeypatch.setattr(program_module, "parse_settings",
                        lambda raw, stack: replace(parse({**raw, "prodcatalogReplicas": 1}, stack), prodcatalog_replicas=2))
    _, program = backend_program(sqlite)
    with pytest.raises(ValueError, match="sqlite keeps products in one pod's file") as err, quiet():
        evaluate(program)
    assert err.value.synth_registrations == []
