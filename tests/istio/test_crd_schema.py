"""Every Istio object validates against the Istio 1.30 CRDs and every Gateway API object against
the v1.5.1 standard-channel CRDs (served versions, unknown fields refused), for the settings
that change what is rendered."""

from __future__ import annotations

import pytest

from tests.appmesh.mesh_checks import broken
from tests.istio.istio_checks import GATEWAY_API_GROUP, ISTIO_GROUPS, crd_problems, custom_objects, group_of
from tests.istio.rendering import objects, render_all

EXPECTED_KINDS = {("gateway.networking.k8s.io/v1", "Gateway"), ("gateway.networking.k8s.io/v1", "HTTPRoute"),
                  ("networking.istio.io/v1", "DestinationRule"), ("networking.istio.io/v1", "Sidecar"),
                  ("networking.istio.io/v1alpha3", "EnvoyFilter"),
                  ("security.istio.io/v1", "PeerAuthentication"), ("security.istio.io/v1", "AuthorizationPolicy"),
                  ("telemetry.istio.io/v1", "Telemetry")}


def test_every_custom_kind_has_a_served_crd(istio_validators, rendered):
    kinds = {(o["apiVersion"], o["kind"]) for o in custom_objects(rendered)}
    assert kinds == EXPECTED_KINDS
    assert kinds <= set(istio_validators)


def test_every_custom_object_validates(istio_validators, rendered):
    custom = custom_objects(rendered)
    # 1 Telemetry; 1 Gateway + 4 HTTPRoutes; 3 DestinationRules, 2 Sidecars, 2 EnvoyFilters,
    # 2 PeerAuthentications; AuthorizationPolicies: 4 workloads + the gateway + allow-nothing,
    # 3 tellers + allow-nothing
    assert len(custom) == 25
    assert {group_of(o) for o in custom} <= {*ISTIO_GROUPS, GATEWAY_API_GROUP}
    assert crd_problems(custom, istio_validators) == []


@pytest.mark.parametrize("config", [{"canaryWeight": 0}, {"canaryWeight": 100}, {"mtlsTrust": "ca1+ca2"},
                                    {"tracing": False}, {"prodcatalogStorage": "sqlite", "prodcatalogReplicas": 1}])
def test_objects_validate_for_other_settings(istio_validators, config):
    assert crd_problems(objects(render_all(**config)), istio_validators) == []


@pytest.mark.parametrize("kind,obj,mutate,expected", [
    # misspelled fields: the API server would prune them and the setting would silently vanish
    ("DestinationRule", "front-to-color-blue",
     lambda o: o["spec"]["trafficPolicy"]["tls"].update(subjectAltName=["x"]), "subjectAltName"),
    ("Sidecar", "blue", lambda o: o["spec"]["ingress"][0]["tls"].update(serverCert="/x.pem"), "serverCert"),
    ("HTTPRoute", "proddetail-router", lambda o: o["spec"]["rules"][0]["backendRefs"][0].update(weigth=1), "weigth"),
    ("Gateway", "ingress-gw", lambda o: o["spec"].update(gatewayClass="istio"), "gatewayClass"),
    ("Telemetry", "mesh-default", lambda o: o["spec"]["tracing"][0].update(samplingPercentage=100),
     "samplingPercentage"),
    ("AuthorizationPolicy", "allow-prodcatalog",
     lambda o: o["spec"]["rules"][0]["from"][0]["source"].update(principal=["x"]), "principal"),
    # wrong values and types
    ("AuthorizationPolicy", "allow-blue", lambda o: o["spec"].update(action="PERMIT"), "action"),
    ("PeerAuthentication", "blue", lambda o: o["spec"]["portLevelMtls"]["8443"].update(mode="OFF"), "mode"),
    ("HTTPRoute", "proddetail-router", lambda o: o["spec"]["rules"][0]["backendRefs"][0].update(weight=1000001),
     "weight"),
    ("HTTPRoute", "color-router", lambda o: o["spec"]["rules"][0]["timeouts"].update(request="5 seconds"), "request"),
    # a version the CRDs do not serve
    ("Sidecar", "green", lambda o: o.update(apiVersion="networking.istio.io/v2"), "no served CRD"),
])
def test_the_schema_check_catches_a_broken_object(istio_validators, rendered, kind, obj, mutate, expected):
    problems = crd_problems(broken(rendered, kind, obj, mutate), istio_validators)
    assert problems and any(expected in p for p in problems), problems
