"""Mesh-wide tracing on Istio: one Telemetry in Istio's root namespace selecting the
OpenTelemetry provider at 100 %, and the provider entry for istiod's meshConfig."""

from __future__ import annotations

from celestials.render.istio import render_mesh_wide, tracing_extension_provider
from celestials.render.istio_tracing import ISTIO_NAMESPACE, TRACING_PROVIDER
from tests.istio.istio_checks import crd_problems


def test_tracing_on_selects_the_provider_for_every_request(istio_validators):
    [telemetry] = render_mesh_wide(True)
    obj = telemetry.obj
    assert (obj["kind"], obj["metadata"]["namespace"]) == ("Telemetry", ISTIO_NAMESPACE)
    assert "selector" not in obj["spec"]  # root namespace + no selector = the whole mesh
    assert obj["spec"]["tracing"] == [{"providers": [{"name": TRACING_PROVIDER}], "randomSamplingPercentage": 100}]
    assert crd_problems([obj], istio_validators) == []


def test_the_provider_name_is_shared_with_the_extension_provider():
    provider = tracing_extension_provider("otel-collector.observability.svc.cluster.local", 4317)
    assert provider == {"name": TRACING_PROVIDER, "opentelemetry": {
        "service": "otel-collector.observability.svc.cluster.local", "port": 4317}}
    [telemetry] = render_mesh_wide(True, provider_name="custom")
    assert telemetry.obj["spec"]["tracing"][0]["providers"] == [{"name": "custom"}]


def test_tracing_off_renders_nothing():
    assert render_mesh_wide(False) == ()
