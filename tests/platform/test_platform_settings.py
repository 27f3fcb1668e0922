"""The settings keys the platform components added (celestials:clusterAdmins)."""

import pytest

from celestials.settings import SettingsError, parse_settings

ARN = "arn:aws:iam::123456789012:role/platform-admins"


def test_cluster_admins_accept_role_and_user_arns_from_cli_or_yaml():
    assert parse_settings({"clusterAdmins": f'["{ARN}"]'}, "dev").cluster_admins == (ARN,)
    user = "arn:aws:iam::123456789012:user/alice"
    assert parse_settings({"celestials:clusterAdmins": [ARN, user]}, "dev").cluster_admins == (ARN, user)
    assert parse_settings({}, "dev").cluster_admins == ()


@pytest.mark.parametrize("raw", ["not json", '["root"]', f'"{ARN}"', [ARN, ARN],
                                 ["arn:aws:iam::123456789012:group/admins"]])
def test_cluster_admins_refuse_anything_else(raw):
    with pytest.raises(SettingsError, match="clusterAdmins"):
        parse_settings({"clusterAdmins": raw}, "dev")


# --- control-plane logs and ECR endpoints (issue 13.11) ---------------------------------------
def test_dev_logs_only_what_a_developer_reads_and_production_logs_everything():
    assert parse_settings({}, "dev").log_types == ("api", "authenticator")
    assert "audit" not in parse_settings({}, "dev").log_types
    production = {"production": True, "nodeCount": 2, "endpointPublicAccess": False, "requestPathReplicas": 2,
                  "natGateways": 2}
    assert parse_settings(production, "eu").log_types == (
        "api", "audit", "authenticator", "controllerManager", "scheduler")
    assert parse_settings({**production, "production": False}, "prod").log_types == ("api", "authenticator")
    chosen = parse_settings({"controlPlaneLogTypes": '["scheduler", "api"]'}, "dev")
    assert chosen.log_types == ("api", "scheduler")
    assert parse_settings({"controlPlaneLogTypes": []}, "dev").log_types == ()


@pytest.mark.parametrize("raw", ["api", '["api", "api"]', ["kubelet"], "not json", [1]])
def test_log_types_refuse_anything_else(raw):
    with pytest.raises(SettingsError, match="controlPlaneLogTypes.*distinct values from api, audit"):
        parse_settings({"controlPlaneLogTypes": raw}, "dev")


def test_ecr_endpoints_is_a_switch():
    assert parse_settings({}, "dev").ecr_endpoints is False
    assert parse_settings({"ecrEndpoints": "true"}, "dev").ecr_endpoints is True
    with pytest.raises(SettingsError, match="ecrEndpoints"):
        parse_settings({"ecrEndpoints": "sometimes"}, "dev")


# --- viewers and CI deploy roles (issue 13.2) --------------------------------------------------
VIEWER = "arn:aws:iam::123456789012:role/github-preview"
DEPLOY = "arn:aws:iam::123456789012:role/github-deploy"


def test_viewers_and_ci_deploy_roles_parse():
    s = parse_settings({"clusterViewers": f'["{VIEWER}"]', "ciDeployRoles": [DEPLOY]}, "dev")
    assert s.cluster_viewers == (VIEWER,) and s.ci_deploy_roles == (DEPLOY,)


def test_ci_deploy_roles_are_roles():
    with pytest.raises(SettingsError, match="ciDeployRoles.*list of IAM role ARNs"):
        parse_settings({"ciDeployRoles": ["arn:aws:iam::123456789012:user/alice"]}, "dev")


def test_one_principal_one_access_entry():
    with pytest.raises(SettingsError, match="clusterViewers.*not already in ciDeployRoles"):
        parse_settings({"ciDeployRoles": [DEPLOY], "clusterViewers": [DEPLOY]}, "dev")
