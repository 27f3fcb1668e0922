"""The CRDs' CEL rules (`x-kubernetes-validations`) hold for every Istio, Gateway API and App Mesh
object of the whole program's synth (every stack, every mesh backend), evaluated as the API server
does on create (tests/istio/cel_rules.py); each rule family of each kind the program renders
refuses one violation injected into a real rendered object, with the rule's message."""

from __future__ import annotations

import copy

import pytest

from components import mesh_backends
from tests.appmesh import mesh_checks
from tests.appmesh.mesh_checks import name
from tests.istio import cel_rules, istio_checks
from tests.support.backend_synth import synth
from tools.reference import SKIP_HINT

STACKS = ("dev", "prod")
BACKENDS = sorted(mesh_backends.BACKENDS)
APPMESH_GROUP = "appmesh.k8s.aws"
GROUPS = (*istio_checks.ISTIO_GROUPS, istio_checks.GATEWAY_API_GROUP, APPMESH_GROUP)


@pytest.fixture(scope="module")
def schemas():
    paths = (istio_checks.ISTIO_CRDS, istio_checks.GATEWAY_API_CRDS, mesh_checks.CRDS)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} absent ({SKIP_HINT}): the CEL rules are "
                    "read from the upstream CRDs")
    return cel_rules.load_schemas(*paths)


def _custom(objects):
    return [o for o in objects if o["apiVersion"].split("/")[0] in GROUPS]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stack", STACKS)
def test_the_whole_program_meets_every_cel_rule(schemas, backend, stack):
    objects = synth(backend, stack).manifests
    custom = _custom(objects)
    assert custom
    assert cel_rules.cel_problems(objects, schemas, GROUPS) == []
    evaluated = [o for obj in custom for o in cel_rules.object_outcomes(obj, schemas)]
    if backend == "istio":
        # every Istio and Gateway API kind rendered carries rules, and they ran
        kinds = {obj["kind"] for obj in custom}
        ran = {obj["kind"] for obj in custom if cel_rules.object_outcomes(obj, schemas)}
        assert ran == kinds and len(evaluated) > 200
    else:
        # App Mesh's CRDs carry no CEL rules: nothing to run, and that is checked, not assumed
        assert {o["apiVersion"].split("/")[0] for o in custom} == {APPMESH_GROUP}
        assert all(cel_rules.rules_of(schemas[(o["apiVersion"], o["kind"])]) == [] for o in custom)
        assert evaluated == []


def test_an_object_without_a_served_crd_is_a_problem(schemas):
    objects = copy.deepcopy(synth("istio", "dev").manifests)
    [route] = [o for o in objects if o["kind"] == "HTTPRoute" and name(o) == "color-router"]
    route["apiVersion"] = "gateway.networking.k8s.io/v1alpha9"
    assert cel_rules.cel_problems(objects, schemas, GROUPS) == [
        "HTTPRoute mtls/color-router: no served CRD for gateway.networking.k8s.io/v1alpha9"]


def _listener(o):
    return o["spec"]["listeners"][0]


def _match(o):
    return o["spec"]["rules"][0]["matches"][0]


SIDECAR, DR, PA, AP, TEL, EF = ("Sidecar", "mtls", "blue"), ("DestinationRule", "mtls", "front-to-color-blue"), \
    ("PeerAuthentication", "mtls", "blue"), ("AuthorizationPolicy", "mtls", "allow-red"), \
    ("Telemetry", "istio-system", "mesh-default"), ("EnvoyFilter", "mtls", "blue-client-sans")
GW, ROUTE, COLOR_ROUTE = ("Gateway", "prodcatalog-ns", "ingress-gw"), ("HTTPRoute", "prodcatalog-ns", "ingress-gw"), \
    ("HTTPRoute", "mtls", "color-router")
PATH_RULE = "type one of ['Exact', 'PathPrefix']"

#: case → (object, mutation, where, the rule's message)
BREAKS = {
    "Sidecar selector wildcard": (SIDECAR, lambda o: o["spec"]["workloadSelector"]["labels"].update(app="*"),
                                  ".spec.workloadSelector.labels['app']", "wildcard is not supported in selector"),
    "Sidecar two credential sources": (
        SIDECAR, lambda o: o["spec"]["ingress"][0]["tls"].update(credentialName="a", credentialNames=["b"]),
        ".spec.ingress[0].tls", "only one of credentialName or credentialNames can be set"),
    "DestinationRule empty key": (DR, lambda o: o["spec"]["workloadSelector"]["matchLabels"].update({"": "x"}),
                                  ".spec.workloadSelector.matchLabels", "key must not be empty"),
    "DestinationRule wildcard value": (DR, lambda o: o["spec"]["workloadSelector"]["matchLabels"].update(app="fr*"),
                                       ".spec.workloadSelector.matchLabels['app']", "wildcard not allowed in label value match"),
    "PeerAuthentication port level without selector": (PA, lambda o: o["spec"].pop("selector"), ".spec",
                                                       "portLevelMtls requires selector"),
    "PeerAuthentication port range": (PA, lambda o: o["spec"].update(portLevelMtls={"0": {"mode": "DISABLE"}}),
                                      ".spec.portLevelMtls", "port must be between 1-65535"),
    "AuthorizationPolicy selector and targetRefs": (
        AP, lambda o: o["spec"].update(targetRefs=[{"group": "", "kind": "Service", "name": "color-red"}]),
        ".spec", "only one of targetRefs or selector can be set"),
    "AuthorizationPolicy serviceAccounts with principals": (
        AP, lambda o: o["spec"]["rules"][0]["from"][0]["source"].update(serviceAccounts=["front"]),
        ".spec.rules[0].from[0].source", "Cannot set serviceAccounts with namespaces or principals"),
    "Telemetry selector and targetRefs": (
        TEL, lambda o: o["spec"].update(selector={"matchLabels": {"app": "x"}},
                                        targetRefs=[{"group": "", "kind": "Service", "name": "x"}]),
        ".spec", "only one of targetRefs or selector can be set"),
    "EnvoyFilter selector and targetRefs": (
        EF, lambda o: o["spec"].update(targetRefs=[{"group": "", "kind": "Service", "name": "color-blue"}]),
        ".spec", "only one of targetRefs or workloadSelector can be set"),
    "EnvoyFilter waypoint match outside WAYPOINT": (
        EF, lambda o: o["spec"]["configPatches"][0]["match"].update(waypoint={"filter": {"name": "x"}}),
        ".spec.configPatches[0].match", "only support waypointMatch when context is WAYPOINT"),
    "Gateway listener names": (GW, lambda o: o["spec"]["listeners"].append({**copy.deepcopy(_listener(o)), "port": 8080}),
                               ".spec.listeners", "Listener name must be unique within the Gateway"),
    "Gateway listener port, protocol and hostname": (
        GW, lambda o: o["spec"]["listeners"].append({**copy.deepcopy(_listener(o)), "name": "http-2"}),
        ".spec.listeners", "Combination of port, protocol and hostname must be unique for each listener"),
    "Gateway tls on HTTP": (GW, lambda o: _listener(o).update(
        tls={"mode": "Terminate", "certificateRefs": [{"name": "ingress-cert"}]}), ".spec.listeners",
                            "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"),
    "Gateway address hostname": (GW, lambda o: o["spec"]["addresses"][0].update(value="Ingress_GW.local"),
                                 ".spec.addresses[0]", None),
    "Gateway duplicate address": (GW, lambda o: o["spec"]["addresses"].append(dict(o["spec"]["addresses"][0])),
                                  ".spec.addresses", "Hostname values must be unique"),
    "HTTPRoute path //": (ROUTE, lambda o: _match(o)["path"].update(value="/a//b"), ".spec.rules[0].matches[0].path",
                          f"must not contain '//' when {PATH_RULE}"),
    "HTTPRoute relative path": (ROUTE, lambda o: _match(o)["path"].update(value="a"), ".spec.rules[0].matches[0].path",
                                f"value must be an absolute path and start with '/' when {PATH_RULE}"),
    "HTTPRoute path dot segment": (ROUTE, lambda o: _match(o)["path"].update(value="/a/../b"),
                                   ".spec.rules[0].matches[0].path", f"must not contain '/../' when {PATH_RULE}"),
    "HTTPRoute Service backend without port": (ROUTE, lambda o: o["spec"]["rules"][0]["backendRefs"][0].pop("port"),
                                               ".spec.rules[0].backendRefs[0]", "Must have port for Service reference"),
    "HTTPRoute timeouts": (COLOR_ROUTE, lambda o: o["spec"]["rules"][0]["timeouts"].update(backendRequest="10s"),
                           ".spec.rules[0].timeouts", "backendRequest timeout cannot be longer than request timeout"),
    "HTTPRoute same parent twice": (COLOR_ROUTE, lambda o: o["spec"]["parentRefs"].append(dict(o["spec"]["parentRefs"][0])),
                                    ".spec.parentRefs", None),
    "HTTPRoute redirect with backends": (
        ROUTE, lambda o: o["spec"]["rules"][0].update(filters=[{"type": "RequestRedirect", "requestRedirect": {"port": 81}}]),
        ".spec.rules[0]", "RequestRedirect filter must not be used together with backendRefs"),
}


def _rule_message(schemas, obj, where, message):
    """The message of the rule expected to refuse (looked up in the CRD when only its node is named)."""
    if message is not None:
        return [message]
    schema = schemas[(obj["apiVersion"], obj["kind"])]
    node = cel_rules.with_defaults(copy.deepcopy(obj), schema)
    return [o.rule.message for o in cel_rules.evaluate(node, schema) if o.where == where and not o.ok]


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_one_violation_is_refused_by_its_rule(schemas, case):
    (kind, namespace, obj_name), mutate, where, message = BREAKS[case]
    [target] = [copy.deepcopy(o) for o in synth("istio", "dev").manifests
                if o["kind"] == kind and name(o) == obj_name and o["metadata"]["namespace"] == namespace]
    assert cel_rules.cel_problems([target], schemas, GROUPS) == []
    mutate(target)
    problems = cel_rules.cel_problems([target], schemas, GROUPS)  # the others: the whole-program test
    expected = _rule_message(schemas, target, where, message)
    assert len(expected) >= 1
    assert problems == [f"{kind} {namespace}/{obj_name}: {where}: {m}" for m in expected]


def test_the_unnamed_rules_above_are_the_ones_meant(schemas):
    """Two cases take their message from the CRD (long texts): they are the hostname rule and the
    sectionName rule (the parents name their port, so the "must be unique" one)."""
    objects = copy.deepcopy(synth("istio", "dev").manifests)
    for case, wanted in (("Gateway address hostname", "Hostname value must be empty or contain only valid characters"),
                         ("HTTPRoute same parent twice", "sectionName must be unique when parentRefs includes 2 or more "
                                                         "references to the same parent")):
        (kind, namespace, obj_name), mutate, where, _ = BREAKS[case]
        [target] = [copy.deepcopy(o) for o in objects if o["kind"] == kind and name(o) == obj_name]
        mutate(target)
        messages = _rule_message(schemas, target, where, None)
        assert len(messages) == 1 and messages[0].startswith(wanted), (case, messages)


def test_transition_rules_are_skipped_on_create(schemas):
    """GatewayClass's only rule keeps `controllerName` immutable (it reads `oldSelf`): on a
    create the API server does not run it, and neither does the evaluator."""
    schema = schemas[("gateway.networking.k8s.io/v1", "GatewayClass")]
    [rule] = cel_rules.rules_of(schema)
    assert rule.rule == "self == oldSelf" and rule.transition
    istio_class = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "istio"},
                   "spec": {"controllerName": "istio.io/gateway-controller"}}
    assert cel_rules.object_outcomes(istio_class, schemas) == []


def test_a_rule_that_does_not_evaluate_is_a_problem_not_a_pass(schemas):
    schema = copy.deepcopy(schemas[("security.istio.io/v1", "PeerAuthentication")])
    schema["properties"]["spec"]["x-kubernetes-validations"] = [
        {"rule": "self.mtls.mode.noSuchFunction()", "message": "m1"},
        {"rule": "self.portLevelMtls.size() > 1.5", "message": "m2"},  # int against double: no overload
        {"rule": "'not a bool'", "message": "m3"}]
    [peer] = [o for o in synth("istio", "dev").manifests if o["kind"] == "PeerAuthentication" and name(o) == "blue"]
    problems = cel_rules.cel_problems([peer], {("security.istio.io/v1", "PeerAuthentication"): schema}, GROUPS)
    assert [p.split(": ", 2)[1] for p in problems] == [".spec"] * 3
    assert "does not evaluate" in problems[0] and "noSuchFunction" in problems[0]
    assert "does not evaluate" in problems[1]
    assert "does not evaluate to a bool" in problems[2]


@pytest.mark.parametrize("rule,value,expected", [
    ("isURL(self)", "http://example.com/a", True), ("isURL(self)", "/a/b", True), ("isURL(self)", "a b", False),
    ("url(self).getScheme() == 'https'", "https://x.example/p", True),
    ("url(self).getHostname() == 'x.example'", "https://x.example:8443/p", True),
    ("isIP(self)", "10.0.0.1", True), ("isIP(self)", "fe80::1%eth0", False), ("isIP(self)", "x", False),
    ("self.substring(2) == 'c-d'", "abc-d", True), ("self.split('-').size() == 2", "abc-d", True),
    ("self.indexOf('-') == 3", "abc-d", True), ("self.lowerAscii() == 'ab'", "AB", True),
    ("duration(self) <= duration('10s')", "5s", True), ("duration(self) <= duration('10s')", "1m", False),
])
def test_the_kubernetes_cel_library_functions(rule, value, expected):
    schema = {"type": "string", "x-kubernetes-validations": [{"rule": rule, "message": "m"}]}
    [outcome] = cel_rules.evaluate(value, schema)
    assert outcome.ok is expected and not outcome.detail


@pytest.mark.parametrize("overrides", [{"canaryWeight": "0"}, {"canaryWeight": "100"}, {"mtlsTrust": "ca1+ca2"}])
def test_other_settings_meet_the_rules_too(schemas, overrides):
    assert cel_rules.cel_problems(synth("istio", "dev", **overrides).manifests, schemas, GROUPS) == []
