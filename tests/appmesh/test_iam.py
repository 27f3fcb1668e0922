"""IAM of the App Mesh backend: no wildcard actions; proxies may stream only their own namespace's
nodes and write traces; the controller's policy matches the upstream one."""

from __future__ import annotations

import fnmatch
import json

import pytest

from celestials.render import appmesh_iam, iam
from celestials.render.appmesh import ENVOY_SERVICE_ACCOUNT
from celestials.render.kubernetes_workloads import IRSA_ROLE_ANNOTATION
from tests.appmesh.mesh_checks import REFERENCE, of_kind, policy_documents, wildcard_action_problems
from tests.appmesh.program import ACCOUNT, PRODCATALOG_ROLE, evaluate_backend
from tools.reference import SKIP_HINT


def test_no_policy_grants_a_wildcard_action(backend):
    docs = policy_documents(backend.result)
    assert len(docs) == 4  # controller, collector, proxies of prodcatalog-ns and of mtls
    assert wildcard_action_problems(docs) == []


def test_the_wildcard_check_catches_the_tutorials_grants():
    tutorial = iam.document({"Effect": "Allow", "Action": ["appmesh:*", "xray:*"], "Resource": "*"})
    assert len(wildcard_action_problems([("tutorial", tutorial)])) == 2


def _proxy_policies(result) -> dict[str, dict]:
    return {name: doc for name, doc in policy_documents(result) if name.endswith("-proxies")}


def test_proxies_stream_only_their_own_namespaces_nodes(backend):
    policies = _proxy_policies(backend.result)
    assert set(policies) == {"mesh-identity-prodcatalog-ns-proxies", "mesh-identity-mtls-proxies"}
    mesh_of = {"prodcatalog-ns": "prodcatalog-mesh", "mtls": "mtls-mesh"}
    nodes = [(o["kind"], o["metadata"]["namespace"], o["spec"]["awsName"]) for o in backend.manifests
             if o["kind"] in ("VirtualNode", "VirtualGateway")]
    assert len(nodes) == 9
    for name, doc in policies.items():
        ns = name.removeprefix("mesh-identity-").removesuffix("-proxies")
        [stream] = [s for s in doc["Statement"] if s["Action"] == ["appmesh:StreamAggregatedResources"]]
        for kind, node_ns, aws_name in nodes:
            path = {"VirtualNode": "virtualNode", "VirtualGateway": "virtualGateway"}[kind]
            arn = f"arn:aws:appmesh:us-west-2:{ACCOUNT}:mesh/{mesh_of[node_ns]}/{path}/{aws_name}"
            allowed = any(fnmatch.fnmatchcase(arn, p) for p in stream["Resource"])
            assert allowed == (node_ns == ns), (name, arn)


@pytest.mark.parametrize("tracing,expected", [
    (True, {"appmesh:StreamAggregatedResources", *iam.XRAY_WRITE_ACTIONS}),
    (False, {"appmesh:StreamAggregatedResources"}),
])
def test_proxies_get_exactly_what_envoy_and_the_xray_daemon_need(tracing, expected):
    for doc in _proxy_policies(evaluate_backend(tracing=tracing).result).values():
        assert set(iam.actions_of(doc)) == expected


def test_xray_writes_are_writes_only():
    assert all(a.startswith(("xray:Put", "xray:GetSampling")) for a in iam.XRAY_WRITE_ACTIONS)


def test_every_meshed_namespace_has_an_irsa_identity_for_its_proxies(backend):
    accounts = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in of_kind(backend.manifests, "ServiceAccount")}
    for ns in ("prodcatalog-ns", "mtls"):
        sa = accounts[(ns, ENVOY_SERVICE_ACCOUNT)]
        assert sa["metadata"]["annotations"][IRSA_ROLE_ANNOTATION].startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    assert accounts[("prodcatalog-ns", "prodcatalog")]["metadata"]["annotations"] == {IRSA_ROLE_ANNOTATION: PRODCATALOG_ROLE}
    trusts = [json.loads(r["inputs"]["assumeRolePolicy"]) for r in backend.result.by_type("aws:iam/role:Role")]
    subjects = {v for t in trusts for cond in t["Statement"][0]["Condition"].values() for k, v in cond.items()
                if k.endswith(":sub")}
    assert subjects == {"system:serviceaccount:prodcatalog-ns:envoy-proxies", "system:serviceaccount:mtls:envoy-proxies",
                        "system:serviceaccount:appmesh-system:appmesh-controller",
                        "system:serviceaccount:observability:otel-collector"}


def test_prodcatalog_runs_as_its_own_service_account(backend):
    [deployment] = [d for d in of_kind(backend.manifests, "Deployment", "prodcatalog-ns")
                    if d["metadata"]["name"] == "prodcatalog"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "prodcatalog"


def test_proxy_policy_is_attached_to_the_proxy_roles(backend):
    attachments = backend.result.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert len(attachments) == 2
    assert {a["name"] for a in attachments} == {"mesh-identity-prodcatalog-ns-managed-0", "mesh-identity-mtls-managed-0"}


def test_controller_policy_matches_the_upstream_file():
    path = REFERENCE / "controller-iam-policy.json"
    if not path.exists():
        pytest.skip(f"{path} is absent ({SKIP_HINT})")
    upstream = json.loads(path.read_text())
    ours = appmesh_iam.controller_policy()

    def shape(doc):
        return sorted((tuple(sorted(s["Action"])), json.dumps(s["Resource"]), json.dumps(s.get("Condition"), sort_keys=True))
                      for s in doc["Statement"])

    assert shape(ours) == shape(upstream)


def test_proxy_policy_is_narrower_than_the_tutorials():
    path = REFERENCE / "envoy-iam-policy.json"
    if not path.exists():
        pytest.skip(f"{path} is absent ({SKIP_HINT})")
    tutorial = json.loads(path.read_text())
    ours = appmesh_iam.envoy_policy("aws", "us-west-2", ACCOUNT, "prodcatalog-mesh", "prodcatalog-ns", tracing=False)
    assert set(iam.actions_of(ours)) < set(iam.actions_of(tutorial))
    assert all(s["Resource"] != "*" for s in ours["Statement"])
    assert any(s["Resource"] == "*" for s in tutorial["Statement"])


def test_arn_account_refuses_what_is_not_an_arn():
    assert appmesh_iam.arn_account(f"arn:aws-cn:iam::{ACCOUNT}:oidc-provider/x") == ("aws-cn", ACCOUNT)
    with pytest.raises(ValueError, match="not an ARN"):
        appmesh_iam.arn_account("oidc.eks.us-west-2.amazonaws.com/id/X")
