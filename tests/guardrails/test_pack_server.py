"""The pack as the Pulumi CLI starts it (`python -m pulumi.policy <engine> policy`, from any
directory, without our PYTHONPATH): it serves the analyzer protocol, lists every rule as a
mandatory policy and every advisory rule as an advisory one, blocks a violating resource with a
message naming it and the rule, and flags (without blocking) what an advisory rule finds as of the
day it was started on (`CELESTIALS_TODAY`)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from celestials import eks_versions as ev
from celestials.guardrails import ADVISORY_RULES, RESOURCE_RULES, STACK_RULES
from celestials.stacks import identity_tags, resource_tags
from celestials.today import TODAY_ENV

ROOT = Path(__file__).resolve().parents[2]
#: the day the pack runs as of: the first of 1.35's extended support
AS_OF = ev.release("1.35").standard_support_ends + timedelta(days=1)


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory):
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, TODAY_ENV: str(AS_OF)}
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(ROOT / "policy")],
                            cwd=tmp_path_factory.mktemp("elsewhere"), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert port.isdigit(), proc.stderr.read() if proc.poll() is not None else port  # type: ignore[union-attr]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        proc.kill()
        proc.wait()


def _struct(value: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(value)
    return s


def test_the_pack_lists_every_rule_as_mandatory_and_every_advisory_rule_as_advisory(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "celestials-guardrails"
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels == {**{r.name: analyzer_pb2.MANDATORY for r in (*RESOURCE_RULES, *STACK_RULES)},
                      **{r.name: analyzer_pb2.ADVISORY for r in ADVISORY_RULES}}


def test_the_pack_flags_an_eks_version_as_of_its_day_without_blocking(analyzer):
    urn = "urn:pulumi:prod::celestials::celestials:cluster:Cluster$eks:index:Cluster::cluster-eks"
    response = analyzer.Analyze(analyzer_pb2.AnalyzeRequest(
        type="eks:index:Cluster", urn=urn, name="cluster-eks",
        properties=_struct({"version": "1.35", "upgradePolicy": {"supportType": "EXTENDED"},
                            "encryptionConfigKeyArn": "arn:aws:kms:us-west-2:1:key/k", "endpointPublicAccess": False})),
        timeout=30)
    assert [(d.policyName, d.urn, d.enforcementLevel) for d in response.diagnostics] == [
        ("eks-version-support", urn, analyzer_pb2.ADVISORY)]
    assert "cluster-eks" in response.diagnostics[0].message and "1.35 is in extended support" in response.diagnostics[0].message


def test_the_pack_blocks_a_violation_naming_the_resource_and_the_rule(analyzer):
    urn = "urn:pulumi:prod::celestials::celestials:images:Images$aws:ecr/repository:Repository::images-web"
    response = analyzer.Analyze(analyzer_pb2.AnalyzeRequest(
        type="aws:ecr/repository:Repository", urn=urn, name="images-web",
        properties=_struct({"imageScanningConfiguration": {"scanOnPush": True}, "imageTagMutability": "MUTABLE"})),
        timeout=30)
    assert [(d.policyName, d.urn, d.enforcementLevel) for d in response.diagnostics] == [
        ("ecr-scan-on-push-immutable-tags", urn, analyzer_pb2.MANDATORY)]
    assert "images-web" in response.diagnostics[0].message
    fine = analyzer.Analyze(analyzer_pb2.AnalyzeRequest(
        type="aws:ecr/repository:Repository", urn=urn, name="images-web",
        properties=_struct({"imageScanningConfiguration": {"scanOnPush": True}, "imageTagMutability": "IMMUTABLE"})),
        timeout=30)
    assert list(fine.diagnostics) == []


def _analyze_stack(analyzer, stack: str, vpc_tags: dict[str, str]) -> list[tuple[str, str]]:
    """The stack check of a stack called `stack`: a one-replica Deployment and a VPC with these tags."""
    deployment = {"kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"},
                  "spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {}}}}
    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(type="aws:ec2/vpc:Vpc", urn=f"urn:pulumi:{stack}::celestials::aws:ec2/vpc:Vpc::vpc",
                                      name="vpc", properties=_struct({"tags": vpc_tags})),
        analyzer_pb2.AnalyzerResource(type="kubernetes:apps/v1:Deployment", name="web",
                                      urn=f"urn:pulumi:{stack}::celestials::kubernetes:apps/v1:Deployment::web",
                                      properties=_struct(deployment))]), timeout=30)
    return [(d.policyName, d.urn.rsplit("::", 1)[-1]) for d in response.diagnostics]


def test_the_pack_checks_the_stack_as_a_whole(analyzer):
    """Production is what the resources' tag says, not the stack's name."""
    for stack in ("prod", "prod-eu"):
        assert _analyze_stack(analyzer, stack, resource_tags(stack, True)) == [("prod-survives-node-loss", "web")]
        assert _analyze_stack(analyzer, stack, resource_tags(stack, False)) == []
    assert _analyze_stack(analyzer, "prod", identity_tags("prod")) == [("stack-states-production", "vpc")]


def test_the_rules_need_nothing_beyond_the_standard_library():
    """The pack's venv (policy/requirements.txt) has the Pulumi SDKs only: the rules must import
    nothing else (a fresh interpreter, so nothing imported by other tests counts)."""
    probe = ("import sys; before = set(sys.modules); import celestials.guardrails; "
             "print(sorted({m.split('.')[0] for m in set(sys.modules) - before} - set(sys.stdlib_module_names)))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['celestials']"
