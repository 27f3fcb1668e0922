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
