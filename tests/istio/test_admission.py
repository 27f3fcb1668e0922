"""Every Istio object of the whole program's synth (every stack, every mesh backend) passes istiod's
validating webhook as tests/istio/admission.py reads it from istio/istio release-1.31; and each
rule family refuses one injected violation of a real rendered object with istiod's own message."""

from __future__ import annotations

import copy

import pytest

from components import mesh_backends
from tests.appmesh.mesh_checks import name
from tests.istio import admission
from tests.istio.admission import ENVOY_FILTER_WARNING, admission_problems, admission_warnings
from tests.support.backend_synth import synth

STACKS = ("dev", "prod")
BACKENDS = sorted(mesh_backends.BACKENDS)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stack", STACKS)
def test_the_whole_program_passes_istiods_webhook(backend, stack):
    objects = synth(backend, stack).manifests
    istio = [o for o in objects if o["apiVersion"].split("/")[0] in admission.ISTIO_GROUPS]
    if backend == "istio":
        assert {o["kind"] for o in istio} == set(admission.VALIDATORS)
    else:
        assert istio == [], f"{backend} renders Istio objects"
    assert admission_problems(objects) == []
    # the only warning: the one istiod gives every EnvoyFilter
    filters = [o for o in istio if o["kind"] == "EnvoyFilter"]
    assert admission_warnings(objects) == [f"EnvoyFilter mtls/{name(f)}: {ENVOY_FILTER_WARNING}" for f in filters]


@pytest.mark.parametrize("overrides", [{"mtlsTrust": "ca1+ca2"}, {"canaryWeight": "0"}, {"tracing": "false"}])
def test_other_settings_pass_too(overrides):
    assert admission_problems(synth("istio", "dev", **overrides).manifests) == []


def _sidecar_tls(o):
    return o["spec"]["ingress"][0]["tls"]


def _dr_tls(o):
    return o["spec"]["trafficPolicy"]["tls"]


def _patch(o):
    return o["spec"]["configPatches"][0]


def _san_matchers(o):
    context = _patch(o)["patch"]["value"]["transport_socket"]["typed_config"]["common_tls_context"]
    return context["combined_validation_context"]["default_validation_context"]["match_typed_subject_alt_names"]


FRONT_SAN = "front.mtls.svc.cluster.local"
SIDECAR, DR, PA, AP, TEL, EF = ("Sidecar", "blue"), ("DestinationRule", "front-to-color-blue"), \
    ("PeerAuthentication", "blue"), ("AuthorizationPolicy", "allow-red"), ("Telemetry", "mesh-default"), \
    ("EnvoyFilter", "blue-client-sans")
AP_PREFIX = "invalid policy allow-red.mtls: "

#: (object, mutation, istiod's messages for it). Keyed by the rule (family: function).
BREAKS = {
    # ValidateSidecar: the ingress TLS fields istiod refuses on a sidecar
    "Sidecar subjectAltNames": (SIDECAR, lambda o: _sidecar_tls(o).update(subjectAltNames=[FRONT_SAN]),
                                ["sidecar: subjectAltNames is not supported in ingress tls"]),
    "Sidecar credentialName": (SIDECAR, lambda o: _sidecar_tls(o).update(credentialName="colorapp-blue-tls"), [
        "sidecar: credentialName is not currently supported",
        "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates "
        "should be specified"]),
    "Sidecar credentialNames": (SIDECAR, lambda o: _sidecar_tls(o).update(credentialNames=["a"]), [
        "sidecar: credentialNames is not currently supported",
        "only one of credential_name, credential_names, server_certificate/private_key, tls_certificates "
        "should be specified"]),
    "Sidecar httpsRedirect": (SIDECAR, lambda o: _sidecar_tls(o).update(httpsRedirect=True),
                              ["sidecar: httpsRedirect is not supported"]),
    "Sidecar ISTIO_MUTUAL": (SIDECAR, lambda o: _sidecar_tls(o).update(mode="ISTIO_MUTUAL"), [
        "configuration is invalid: cannot set mode to ISTIO_MUTUAL in sidecar ingress tls",
        "ISTIO_MUTUAL TLS cannot have associated server certificate",
        "ISTIO_MUTUAL TLS cannot have associated private key",
        "ISTIO_MUTUAL TLS cannot have associated CA bundle"]),
    "Sidecar TLS on a plain port": (SIDECAR, lambda o: o["spec"]["ingress"][0]["port"].update(protocol="HTTP"),
                                    ["server cannot have TLS settings for non HTTPS/TLS ports"]),
    # validateTLSOptions
    "Sidecar MUTUAL without trust": (SIDECAR, lambda o: _sidecar_tls(o).pop("caCertificates"),
                                     ["MUTUAL TLS requires a client CA bundle"]),
    "Sidecar without key": (SIDECAR, lambda o: _sidecar_tls(o).pop("privateKey"),
                            ["MUTUAL TLS requires a private key"]),
    "Sidecar CRL with SIMPLE": (SIDECAR, lambda o: _sidecar_tls(o).update(mode="SIMPLE", caCrl="/x.pem"),
                                ["CRL is not supported with SIMPLE TLS"]),
    # validateSidecarIngressPortAndBind, ports, defaultEndpoint, selector
    "Sidecar port name": (SIDECAR, lambda o: o["spec"]["ingress"][0]["port"].update(name="demo_tls"),
                          ["invalid port name: demo_tls"]),
    "Sidecar protocol": (SIDECAR, lambda o: o["spec"]["ingress"][0]["port"].update(protocol="QUIC"), [
        "unsupported protocol: QUIC", "server cannot have TLS settings for non HTTPS/TLS ports"]),
    "Sidecar port range": (SIDECAR, lambda o: o["spec"]["ingress"][0]["port"].update(number=70000),
                           ["port number 70000 must be in the range 1..65535"]),
    "Sidecar targetPort": (SIDECAR, lambda o: o["spec"]["ingress"][0]["port"].update(targetPort=8080),
                           ["targetPort has no impact on Sidecars"]),
    "Sidecar duplicate port": (SIDECAR, lambda o: o["spec"]["ingress"].append(copy.deepcopy(o["spec"]["ingress"][0])),
                               ["sidecar: ports on IP bound listeners must be unique"]),
    "Sidecar bind": (SIDECAR, lambda o: o["spec"]["ingress"][0].update(bind="blue.local"),
                     ["blue.local is not a valid IP"]),
    "Sidecar defaultEndpoint host": (SIDECAR, lambda o: o["spec"]["ingress"][0].update(defaultEndpoint="10.0.0.1:8080"), [
        "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,"
        "unix://filepath or unset"]),
    "Sidecar defaultEndpoint port": (SIDECAR, lambda o: o["spec"]["ingress"][0].update(defaultEndpoint="0.0.0.0:http"),
                                     ["sidecar: defaultEndpoint port (http) is not a number"]),
    "Sidecar selector wildcard": (SIDECAR, lambda o: o["spec"]["workloadSelector"]["labels"].update(app="col*"),
                                  ['wildcard is not supported in selector: "app=col*"']),
    "Sidecar empty": (SIDECAR, lambda o: o["spec"].pop("ingress"), ["sidecar: empty configuration provided"]),
    # ValidateDestinationRule: host, exportTo, trafficPolicy, agent.ValidateTLS, selector
    "DestinationRule host": (DR, lambda o: o["spec"].update(host="color_blue.mtls.svc.cluster.local"),
                             ["domain name 'color_blue.mtls.svc.cluster.local' invalid (label 'color_blue' invalid)"]),
    "DestinationRule numeric TLD": (DR, lambda o: o["spec"].update(host="color-blue.10"),
                                    ["domain name '10' invalid (top level domain '10' cannot be all-numeric)"]),
    "DestinationRule exportTo beyond": (DR, lambda o: o["spec"].update(exportTo=["prodcatalog-ns"]),
                                        ["destination rule with workload selector cannot have exportTo beyond current "
                                         "namespace"]),
    "DestinationRule exportTo duplicate": (DR, lambda o: o["spec"].update(exportTo=["mtls", "."]),
                                           ["duplicate entries in exportTo: . and current namespace mtls"]),
    "DestinationRule exportTo none": (DR, lambda o: o["spec"].update(exportTo=["~"]), [
        "exportTo ~ (none) is not allowed for Istio configuration objects"]),
    "DestinationRule MUTUAL without cert": (DR, lambda o: _dr_tls(o).pop("clientCertificate"),
                                            ["client certificate required for mutual tls"]),
    "DestinationRule credentialName and files": (DR, lambda o: _dr_tls(o).update(credentialName="front-ca1-tls"), [
        "cannot specify client certificates or CA certificate or CA CRL If credentialName is set"]),
    "DestinationRule insecureSkipVerify": (DR, lambda o: _dr_tls(o).update(insecureSkipVerify=True), [
        "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true"]),
    "DestinationRule empty trafficPolicy": (DR, lambda o: o["spec"].update(trafficPolicy={}),
                                            ["traffic policy must have at least one field"]),
    "DestinationRule selector key": (DR, lambda o: o["spec"]["workloadSelector"]["matchLabels"].update({"": "x"}),
                                     ['empty key is not supported in selector: "=x"']),
    # ValidatePeerAuthentication
    "PeerAuthentication port level without selector": (PA, lambda o: o["spec"].pop("selector"), [
        "mesh/namespace peer authentication cannot have port level mTLS"]),
    "PeerAuthentication empty port level": (PA, lambda o: o["spec"].update(portLevelMtls={}), [
        "port level mTLS, if defined, must have at least one element"]),
    "PeerAuthentication port range": (PA, lambda o: o["spec"].update(portLevelMtls={"0": {"mode": "DISABLE"}}),
                                      ["port must be in range 1..65535"]),
    # ValidateAuthorizationPolicy
    "AuthorizationPolicy DENY without rules": (AP, lambda o: (o["spec"].update(action="DENY"), o["spec"].pop("rules")), [
        AP_PREFIX + "DENY action without `rules` is meaningless as it will never be triggered, add an empty rule "
        "`{}` if you want it be triggered for every request"]),
    "AuthorizationPolicy provider with ALLOW": (AP, lambda o: o["spec"].update(provider={"name": "ext-authz"}), [
        AP_PREFIX + "`provider` must not be with non CUSTOM action, found ALLOW"]),
    "AuthorizationPolicy CUSTOM without provider": (AP, lambda o: o["spec"].update(action="CUSTOM"), [
        AP_PREFIX + "`provider.name` must not be empty"]),
    "AuthorizationPolicy empty from": (AP, lambda o: o["spec"]["rules"][0].update({"from": []}), [
        AP_PREFIX + "`from` must not be empty, found at rule 0"]),
    "AuthorizationPolicy empty source": (AP, lambda o: o["spec"]["rules"][0]["from"][0].update(source={}), [
        AP_PREFIX + "`from.source` must not be empty, found at rule 0"]),
    "AuthorizationPolicy empty principal": (AP, lambda o: o["spec"]["rules"][0]["from"][0]["source"].update(principals=[""]),
                                            [AP_PREFIX + "empty value not allowed, found in Principals"]),
    "AuthorizationPolicy serviceAccounts with principals": (
        AP, lambda o: o["spec"]["rules"][0]["from"][0]["source"].update(serviceAccounts=["front"]),
        [AP_PREFIX + "cannot set serviceAccounts with namespaces or principals, found at rule 0"]),
    "AuthorizationPolicy bad port": (AP, lambda o: o["spec"]["rules"][0]["to"][0]["operation"].update(ports=["http"]),
                                     [AP_PREFIX + "bad port (http)"]),
    "AuthorizationPolicy empty operation": (AP, lambda o: o["spec"]["rules"][0]["to"][0].update(operation={}), [
        AP_PREFIX + "`to.operation` must not be empty, found at rule 0"]),
    "AuthorizationPolicy selector and targetRefs": (
        AP, lambda o: o["spec"].update(targetRefs=[{"kind": "Service", "group": "", "name": "color-red"}]),
        [AP_PREFIX + "only one of targetRefs or workloadSelector can be set"]),
    # ValidateTelemetry
    "Telemetry provider name": (TEL, lambda o: o["spec"]["tracing"][0]["providers"][0].update(name=""),
                                ["providers.name may not be empty"]),
    "Telemetry sampling": (TEL, lambda o: o["spec"]["tracing"][0].update(randomSamplingPercentage=101),
                           ["randomSamplingPercentage must be in range [0.0, 100.0]"]),
    "Telemetry targetRef": (TEL, lambda o: o["spec"].update(targetRefs=[{"kind": "Pod", "name": "x"}]),
                            ["targetRef must be to one of [core/Service networking.istio.io/ServiceEntry "
                             "gateway.networking.k8s.io/Gateway gateway.networking.k8s.io/GatewayClass] but was /Pod"]),
    # ValidateEnvoyFilter (and the stricter patch-value check)
    "EnvoyFilter applyTo": (EF, lambda o: _patch(o).pop("applyTo"), ["Envoy filter: missing applyTo"]),
    "EnvoyFilter operation": (EF, lambda o: _patch(o)["patch"].pop("operation"), ["Envoy filter: missing patch operation"]),
    "EnvoyFilter value": (EF, lambda o: _patch(o)["patch"].pop("value"),
                          ["Envoy filter: missing patch value for non-remove operation"]),
    "EnvoyFilter proxyVersion": (EF, lambda o: _patch(o)["match"].update(proxy={"proxyVersion": "^1\\.31("}),
                                 ["Envoy filter: invalid regex for proxy version, [missing ), unterminated subpattern "
                                  "at position 6]"]),
    "EnvoyFilter selector": (EF, lambda o: o["spec"]["workloadSelector"]["labels"].update(app="*"),
                             ['wildcard is not supported in selector: "app=*"']),
    "EnvoyFilter misspelt field": (EF, lambda o: _san_matchers(o)[0].update(sanType=_san_matchers(o)[0].pop("san_type")) or
                                   _san_matchers(o)[0].update(matchers=_san_matchers(o)[0].pop("matcher")), [
        "value.transport_socket.typed_config.common_tls_context.combined_validation_context.default_validation_context"
        ".match_typed_subject_alt_names[0]: unknown field 'matchers' in "
        "envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher"]),
    "EnvoyFilter SAN type": (EF, lambda o: _san_matchers(o)[0].update(san_type="DNS_NAME"), [
        "value.transport_socket.typed_config.common_tls_context.combined_validation_context.default_validation_context"
        ".match_typed_subject_alt_names[0].san_type: invalid value 'DNS_NAME' for enum "
        "(one of SAN_TYPE_UNSPECIFIED, EMAIL, DNS, URI, IP_ADDRESS, OTHER_NAME)"]),
    "EnvoyFilter type url": (EF, lambda o: _patch(o)["patch"]["value"]["transport_socket"]["typed_config"].update(
        {"@type": "type.googleapis.com/envoy.api.v2.auth.DownstreamTlsContext"}), [
        "value.transport_socket.typed_config: referenced type unknown: "
        "'type.googleapis.com/envoy.api.v2.auth.DownstreamTlsContext'"]),
    # validateMetadata
    "metadata always-reject": (DR, lambda o: o["metadata"].setdefault("annotations", {}).update(
        {"internal.istio.io/webhook-always-reject": "x"}),
        ['"internal.istio.io/webhook-always-reject" annotation found, rejecting']),
    "metadata dry-run outside AuthorizationPolicy": (SIDECAR, lambda o: o["metadata"].setdefault("annotations", {}).update(
        {"istio.io/dry-run": "true"}), ["mtls/blue has unsupported annotation istio.io/dry-run, please remove the annotation"]),
    "metadata dry-run value": (AP, lambda o: o["metadata"].setdefault("annotations", {}).update(
        {"istio.io/dry-run": "yes"}), ['mtls/allow-red has annotation istio.io/dry-run with invalid value (yes): '
                                      'strconv.ParseBool: parsing "yes": invalid syntax']),
    # a field this checker has no rules for is refused, not passed
    "unjudged field": (SIDECAR, lambda o: o["spec"].update(outboundTrafficPolicy={"mode": "REGISTRY_ONLY"}), [
        "fields not judged by tests/istio/admission.py: spec.outboundTrafficPolicy.mode"]),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_one_violation_is_refused_with_istiods_message(case):
    (kind, obj_name), mutate, messages = BREAKS[case]
    objects = copy.deepcopy(synth("istio", "dev").manifests)
    [target] = [o for o in objects if o["kind"] == kind and name(o) == obj_name
                and o["metadata"].get("namespace") in ("mtls", "istio-system")]
    mutate(target)
    label = f"{kind} {target['metadata']['namespace']}/{obj_name}"
    assert admission_problems(objects) == [f"{label}: {m}" for m in messages]


def test_the_tellers_sidecar_as_istio_notes_first_had_it_is_refused():
    """The mapping first rendered front's SAN in blue's Sidecar ingress TLS: istiod refuses that."""
    objects = copy.deepcopy(synth("istio", "dev").manifests)
    for o in objects:
        if o["kind"] == "Sidecar":
            _sidecar_tls(o)["subjectAltNames"] = [FRONT_SAN]
    assert admission_problems(objects) == [
        f"Sidecar mtls/{c}: sidecar: subjectAltNames is not supported in ingress tls" for c in ("blue", "green")]


def test_a_kind_without_rules_here_is_refused():
    objects = copy.deepcopy(synth("istio", "dev").manifests)
    objects.append({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                    "metadata": {"name": "x", "namespace": "mtls"}, "spec": {"hosts": ["x.example"]}})
    assert admission_problems(objects) == ["ServiceEntry mtls/x: ServiceEntry is not judged by tests/istio/admission.py"]
