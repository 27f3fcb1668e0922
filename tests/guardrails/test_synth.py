"""The guardrails offline (`make guardrails`): every stack on every mesh backend passes every rule,
and one violation introduced into the real synth — one test per rule — is found, reported against
that resource, by that rule, and by nothing else."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any, Callable

import pytest

from celestials import eks_versions as ev
from celestials.guardrails import ADVISORY_RULES, RESOURCE_RULES, SECRET, STACK_RULES, Resource, advise, check
from synth.guardrails import STACKS, main, resources_of
from synth.harness import BACKEND_SELECTION, quiet, synth_stack
from tests.support.backend_synth import synth

BACKENDS = sorted(BACKEND_SELECTION)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_stack_and_backend_passes_every_rule(stack, backend):
    found = check(resources_of(synth(backend, stack)))
    assert not found, "\n".join(map(str, found))


def _first(resources: list[Resource], typ: str, where: Callable[[Resource], bool] = lambda r: True) -> Resource:
    return next(r for r in resources if r.type == typ and where(r))


def _named(name: str) -> Callable[[Resource], bool]:
    return lambda r: r.props.get("metadata", {}).get("name") == name


def _edit_json(props: dict[str, Any], key: str, edit: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(props[key])
    edit(document)
    props[key] = json.dumps(document)


def _no_aud(doc):
    condition = doc["Statement"][0]["Condition"]["StringEquals"]
    for key in [k for k in condition if k.endswith(":aud")]:
        del condition[key]


#: rule → (backend, the resource to break, how): each breaks exactly that rule on one resource
VIOLATIONS: dict[str, tuple[str, Callable[[list[Resource]], Resource], Callable[[dict[str, Any]], None]]] = {
    "ecr-scan-on-push-immutable-tags": ("istio", lambda rs: _first(rs, "aws:ecr/repository:Repository"),
                                        lambda p: p.update(imageTagMutability="MUTABLE")),
    "eks-endpoint-not-open-in-prod": ("istio", lambda rs: _first(rs, "eks:index:Cluster"),
                                      lambda p: p.update(endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"])),
    "eks-secrets-encrypted-with-kms": ("istio", lambda rs: _first(rs, "eks:index:Cluster"),
                                       lambda p: p.pop("encryptionConfigKeyArn")),
    "nodes-require-imdsv2": ("istio", lambda rs: _first(rs, "aws:ec2/launchTemplate:LaunchTemplate"),
                             lambda p: p["metadataOptions"].update(httpTokens="optional")),
    "iam-no-wildcard-actions": ("istio", lambda rs: _first(rs, "aws:iam/rolePolicy:RolePolicy"),
                                lambda p: _edit_json(p, "policy", lambda d: d["Statement"][0].update(Action="*"))),
    "irsa-trust-pins-sub-and-aud": ("appmesh", lambda rs: _first(
        rs, "aws:iam/role:Role", lambda r: "AssumeRoleWithWebIdentity" in r.props["assumeRolePolicy"]),
        lambda p: _edit_json(p, "assumeRolePolicy", _no_aud)),
    "secret-from-secret-value": ("istio", lambda rs: _first(rs, "kubernetes:core/v1:Secret"),
                                 lambda p: p.update(data={"tls.crt": "LS0tLS1CRUdJTg==", "tls.key": SECRET})),
    "containers-hardened": ("istio", lambda rs: _first(rs, "kubernetes:apps/v1:Deployment", _named("frontend-node")),
                            lambda p: p["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(
                                readOnlyRootFilesystem=False)),
    "load-balancer-only-for-ingress-gateway": ("appmesh", lambda rs: _first(
        rs, "kubernetes:core/v1:Service", _named("prodcatalog")), lambda p: p["spec"].update(type="LoadBalancer")),
    "stack-states-production": ("istio", lambda rs: _first(rs, "aws:ec2/vpc:Vpc"),
                                lambda p: p["tags"].update(production="false")),
    "prod-survives-node-loss": ("istio", lambda rs: _first(
        rs, "kubernetes:policy/v1:PodDisruptionBudget", _named("proddetail-v1")), lambda p: p["spec"]["selector"]
        .update(matchLabels={"app": "nothing"})),
}


def test_every_rule_has_a_violation_test():
    assert set(VIOLATIONS) == {r.name for r in (*RESOURCE_RULES, *STACK_RULES)}


@pytest.mark.parametrize("rule", sorted(VIOLATIONS))
def test_one_violation_fails_naming_the_resource_and_the_rule(rule):
    backend, pick, breaks = VIOLATIONS[rule]
    resources = [Resource(r.urn, r.type, r.name, copy.deepcopy(dict(r.props)))
                 for r in resources_of(synth(backend, "prod"))]
    target = pick(resources)
    breaks(target.props)  # type: ignore[arg-type]
    found = check(resources)
    assert found, f"{rule}: breaking {target.name} went unnoticed"
    assert {v.rule for v in found} == {rule}, "\n".join(map(str, found))
    if rule == "prod-survives-node-loss":  # the budget no longer guards proddetail-v1's Deployment
        assert {v.urn.rsplit("::", 1)[-1] for v in found} == {
            r.name for r in resources if r.type == "kubernetes:apps/v1:Deployment" and "proddetail-v1" in r.name}
        assert all("PodDisruptionBudget" in v.message for v in found)
    else:
        assert {v.urn for v in found} == {target.urn}
        assert all(target.name in v.message and v.rule in str(v) for v in found)


def _as(stack: str, name: str, backend: str = "istio") -> list[Resource]:
    """The guardrails' view of stack `stack`'s file deployed as a stack called `name`."""
    with quiet():
        result = synth_stack(stack, BACKEND_SELECTION[backend], as_stack=name)
    return [Resource(r.urn, r.type, r.name, copy.deepcopy(dict(r.props))) for r in resources_of(result)]


@pytest.mark.parametrize("name", ["production", "prod-eu"])
def test_a_production_stack_is_held_to_the_production_rules_whatever_its_name(name):
    resources = _as("prod", name)
    assert resources[0].urn.startswith(f"urn:pulumi:{name}::")
    assert check(resources) == []
    deployment = _first(resources, "kubernetes:apps/v1:Deployment", _named("frontend-node"))
    deployment.props["spec"]["replicas"] = 1
    _first(resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
           lambda r: r.props["spec"]["scaleTargetRef"]["name"] == "frontend-node").props["spec"]["minReplicas"] = 1
    cluster = _first(resources, "eks:index:Cluster")
    cluster.props.update(endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"])
    found = check(resources)
    assert {(v.rule, v.urn) for v in found} == {("prod-survives-node-loss", deployment.urn),
                                                 ("eks-endpoint-not-open-in-prod", cluster.urn)}, found


def test_a_stack_called_prod_that_is_not_production_is_held_to_dev_rules():
    """dev's file (one replica of most things, a public endpoint) as a stack called prod."""
    resources = _as("dev", "prod")
    assert resources[0].urn.startswith("urn:pulumi:prod::")
    assert any(r.type == "kubernetes:apps/v1:Deployment" and r.props["spec"].get("replicas") == 1 for r in resources)
    assert check(resources) == []


def test_the_command_reports_and_fails(capsys, monkeypatch):
    assert main(["--stack", "dev", "--backend", "istio"]) == 0
    assert "dev / istio: 0 violation(s)" in capsys.readouterr().out
    monkeypatch.setattr("synth.guardrails.check", lambda resources: [
        *check(resources), *check([Resource("urn:pulumi:dev::celestials::x::lb", "kubernetes:core/v1:Service", "lb",
                                            {"spec": {"type": "LoadBalancer"}})])])
    assert main(["--stack", "dev", "--backend", "istio"]) == 1
    assert "[load-balancer-only-for-ingress-gateway] kubernetes:core/v1:Service lb" in capsys.readouterr().out


def test_the_command_checks_a_make_synth_output(tmp_path, capsys):
    from synth.__main__ import write
    write(synth("istio", "prod"), tmp_path / "prod")
    assert main(["--resources", str(tmp_path / "prod" / "resources.json")]) == 0
    assert "0 violation(s)" in capsys.readouterr().out
    assert main(["--resources", str(tmp_path / "absent.json")]) == 1
    assert "run make synth first" in capsys.readouterr().err


def _cluster(resources: list[Resource]) -> Resource:
    return _first(resources, "eks:index:Cluster")


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_advisory_rule_flags_the_cluster_alone_and_only_in_its_window(stack, backend):
    resources = resources_of(synth(backend, stack))
    cluster = _cluster(resources)
    std = ev.release(cluster.props["version"]).standard_support_ends
    assert advise(resources, std - timedelta(days=ev.STANDARD_END_WARNING_DAYS)) == []
    for day in (std - timedelta(days=ev.STANDARD_END_WARNING_DAYS - 1), std + timedelta(days=1)):
        found = advise(resources, day)
        assert [(v.rule, v.urn) for v in found] == [("eks-version-support", cluster.urn)], day
        assert cluster.name in found[0].message
    assert [r.name for r in ADVISORY_RULES] == ["eks-version-support"]


def test_the_command_prints_advisories_without_failing(capsys, monkeypatch):
    cluster = _cluster(resources_of(synth("istio", "dev")))
    std = ev.release(cluster.props["version"]).standard_support_ends
    day = std + timedelta(days=1)
    monkeypatch.setenv("CELESTIALS_TODAY", str(day))
    assert main(["--stack", "dev", "--backend", "istio"]) == 0
    out = capsys.readouterr().out
    assert f"dev / istio: 0 violation(s)\n  1 advisory (as of {day}, not failing):\n    [eks-version-support]" in out
    monkeypatch.setenv("CELESTIALS_TODAY", str(std - timedelta(days=ev.STANDARD_END_WARNING_DAYS)))
    assert main(["--stack", "dev", "--backend", "istio"]) == 0
    assert "advisory" not in capsys.readouterr().out
