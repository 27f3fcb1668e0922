"""Stack config validation: every bad value fails with its key, the value and what is allowed."""

import pytest

from celestials.eks_versions import known_versions
from celestials.settings import CONFIG_KEYS, Settings, SettingsError, parse_settings

GOOD = [
    ({}, "dev", {}),
    ({"canaryWeight": "0"}, "dev", {"canary_weight": 0}),
    ({"canaryWeight": 100}, "dev", {"canary_weight": 100}),
    ({"celestials:canaryWeight": "10"}, "dev", {"canary_weight": 10}),
    ({"vpcCidr": "10.20.0.0/16"}, "dev", {"vpc_cidr": "10.20.0.0/16"}),
    ({"eksVersion": "1.36"}, "dev", {"eks_version": "1.36"}),
    ({"eksVersion": 1.35}, "dev", {"eks_version": "1.35"}),
    ({"eksVersion": "1.34"}, "dev", {"eks_version": "1.34"}),
    ({}, "dev", {"eks_support_type": "STANDARD"}),
    ({"eksSupportType": "EXTENDED"}, "dev", {"eks_support_type": "EXTENDED"}),
    ({"instanceType": "m7i.2xlarge"}, "dev", {"instance_type": "m7i.2xlarge"}),
    ({"instanceType": "t3.large"}, "dev", {"instance_type": "t3.large"}),
    ({"mtlsTrust": "ca1+ca2"}, "dev", {"mtls_trust": "ca1+ca2"}),
    ({"endpointPublicAccess": "false"}, "dev", {"endpoint_public_access": False}),
    ({"endpointPublicAccessCidrs": '["52.95.110.0/24", "18.246.0.7/32"]'}, "dev",
     {"endpoint_public_access_cidrs": ("52.95.110.0/24", "18.246.0.7/32")}),
    ({"production": "true", "nodeCount": "2", "nodeMaxCount": "4", "endpointPublicAccessCidrs": ["52.95.110.0/24"],
      "requestPathReplicas": "2", "natGateways": "2"}, "prod-eu",
     {"production": True, "node_count": 2, "request_path_replicas": 2}),
    ({"nodeCount": "1", "requestPathReplicas": "1"}, "prod", {"production": False, "node_count": 1}),
    ({"sshKeyName": "my-key"}, "dev", {"ssh_key_name": "my-key"}),
    ({"availabilityZones": "3", "natGateways": "3"}, "dev", {"nat_gateways": 3}),
    ({"endpointPrivateAccessCidrs": "[]"}, "dev", {"endpoint_private_access_cidrs": ()}),   # the default, written
]

BAD = [
    ({"canaryWieght": "50"}, "dev", "canaryWieght", "unknown key"),
    ({"canaryWeight": "101"}, "dev", "canaryWeight", "integer from 0 to 100"),
    ({"canaryWeight": "-1"}, "dev", "canaryWeight", "integer from 0 to 100"),
    ({"canaryWeight": "12.5"}, "dev", "canaryWeight", "integer"),
    ({"canaryWeight": "fifty"}, "dev", "canaryWeight", "integer"),
    ({"canaryWeight": True}, "dev", "canaryWeight", "integer"),
    ({"vpcCidr": "10.0.0.0/33"}, "dev", "vpcCidr", "CIDR"),
    ({"vpcCidr": "10.0.0.1/16"}, "dev", "vpcCidr", "CIDR"),
    ({"vpcCidr": "not-a-cidr"}, "dev", "vpcCidr", "CIDR"),
    ({"vpcCidr": "8.8.0.0/16"}, "dev", "vpcCidr", "private"),
    ({"vpcCidr": "10.0.0.0/24"}, "dev", "vpcCidr", "/16 to /20"),
    ({"vpcCidr": "169.254.0.0/16"}, "dev", "vpcCidr", "RFC 1918"),    # link-local: private, not RFC 1918
    ({"vpcCidr": "198.18.0.0/16"}, "dev", "vpcCidr", "RFC 1918"),     # benchmarking: likewise
    ({"nodeCount": "0"}, "dev", "nodeCount", "integer from 1"),
    ({"production": "true", "nodeCount": "1"}, "production", "nodeCount", "at least 2 in production"),
    ({"production": "yes"}, "dev", "production", "true or false"),
    ({"nodeCount": "3", "nodeMaxCount": "2"}, "dev", "nodeCount",
     "at most nodeMaxCount (2); also raise nodeMaxCount to at least 3, or lower nodeCount to at most 2"),
    ({"nodeCount": "3"}, "dev", "nodeCount", "at most nodeMaxCount (2); also raise nodeMaxCount to at least 3"),
    ({"meshBackend": "Linkerd 2"}, "dev", "meshBackend", "the name of a mesh backend"),
    ({"eksVersion": "1.29"}, "dev", "eksVersion",
     f"one of {', '.join(known_versions())} (the EKS versions in celestials/eks_versions.py"),
    ({"eksVersion": "latest"}, "dev", "eksVersion", "one of"),
    ({"eksSupportType": "standard"}, "dev", "eksSupportType", "STANDARD (when standard support"),
    ({"eksSupportType": "NONE"}, "dev", "eksSupportType", "or EXTENDED (it stays on its version"),
    ({"instanceType": "m5large"}, "dev", "instanceType", "EC2 instance type"),
    ({"instanceType": "M5.LARGE"}, "dev", "instanceType", "EC2 instance type"),
    ({"instanceType": "m5.huge"}, "dev", "instanceType", "EC2 instance type"),
    ({"mtlsTrust": "ca2"}, "dev", "mtlsTrust", "one of ca1, ca1+ca2"),
    ({"endpointPublicAccess": "yes"}, "dev", "endpointPublicAccess", "true or false"),
    ({"endpointPublicAccessCidrs": "[]"}, "dev", "endpointPublicAccessCidrs", "non-empty list"),
    ({"endpointPublicAccessCidrs": '["1.2.3.4"]'}, "dev", "endpointPublicAccessCidrs", "CIDR"),
    ({"endpointPublicAccessCidrs": '["203.0.113.0/24"]'}, "dev", "endpointPublicAccessCidrs", "documentation"),
    ({"endpointPublicAccessCidrs": '["52.95.110.0/24", "198.51.100.0/24"]'}, "dev", "endpointPublicAccessCidrs",
     "198.51.100.0/24 is documentation"),
    ({"endpointPublicAccessCidrs": '["10.1.0.0/16"]'}, "dev", "endpointPublicAccessCidrs", "private"),
    ({"endpointPublicAccessCidrs": '["240.0.0.0/4"]'}, "dev", "endpointPublicAccessCidrs", "reserved"),
    ({"endpointPrivateAccessCidrs": '["52.95.110.0/24"]'}, "dev", "endpointPrivateAccessCidrs", "RFC 1918"),
    ({"production": "true", "nodeCount": "2", "endpointPublicAccessCidrs": '["0.0.0.0/0"]', "requestPathReplicas": "2",
      "natGateways": "2"}, "prod-eu", "endpointPublicAccessCidrs", "not 0.0.0.0/0"),
    ({"natGateways": "3"}, "dev", "natGateways", "at most availabilityZones"),
    ({"availabilityZones": "1"}, "dev", "availabilityZones", "integer from 2"),
    ({"tlsKeyAlgorithm": "dsa-1024"}, "dev", "tlsKeyAlgorithm", "one of rsa-2048"),
    ({"tlsValidityDays": "30", "tlsRotationWindowDays": "30"}, "dev", "tlsRotationWindowDays",
     "fewer than tlsValidityDays (30)"),
    ({"sshKeyName": "bad key!"}, "dev", "sshKeyName", "EC2 key pair"),
    ({"prodcatalogStorage": "postgres"}, "dev", "prodcatalogStorage", "one of dynamodb, sqlite"),
    ({"burstableCpuCredits": "unlimted"}, "dev", "burstableCpuCredits", "one of standard, unlimited"),
    ({"burstableCpuCredits": True}, "dev", "burstableCpuCredits", "one of standard, unlimited"),
]


@pytest.mark.parametrize("raw,stack,expected", GOOD)
def test_good_config_parses(raw, stack, expected):
    settings = parse_settings(raw, stack)
    for name, value in expected.items():
        assert getattr(settings, name) == value


@pytest.mark.parametrize("raw,stack,key,allowed", BAD)
def test_bad_config_names_key_value_and_allowed(raw, stack, key, allowed):
    with pytest.raises(SettingsError) as err:
        parse_settings(raw, stack)
    message = str(err.value)
    assert err.value.key == key
    assert f"celestials:{key}" in message
    assert allowed in message
    bad_value = raw.get(key, raw.get(f"celestials:{key}"))
    assert repr(bad_value) in message or str(bad_value) in message


def test_bad_region_is_named():
    with pytest.raises(SettingsError, match="aws:region"):
        parse_settings({}, "dev", region="mars-1")


def test_settings_are_frozen():
    settings = parse_settings({}, "dev")
    with pytest.raises(AttributeError):
        settings.canary_weight = 3  # type: ignore[misc]


@pytest.mark.parametrize("raw,credits", [
    ({"instanceType": "t4g.medium", "nodeArchitecture": "arm64"}, "standard"),        # the default
    ({"instanceType": "t3.large", "burstableCpuCredits": "unlimited"}, "unlimited"),
    ({"instanceType": "t3a.large", "burstableCpuCredits": "standard"}, "standard"),
    ({"instanceType": "t2.medium"}, "standard"),
    ({"instanceType": "m6i.xlarge", "burstableCpuCredits": "unlimited"}, None),     # no credits to specify
    ({"instanceType": "m7g.xlarge", "nodeArchitecture": "arm64"}, None),
])
def test_only_burstable_nodes_get_a_credit_specification(raw, credits):
    assert parse_settings(raw, "dev").cpu_credits == credits


def test_canary_split_is_one_value():
    assert parse_settings({"canaryWeight": "10"}, "dev").proddetail_weights == {"v1": 90, "v2": 10}


def test_every_key_is_documented_in_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [k for k in CONFIG_KEYS if f"celestials:{k}" not in readme]
    assert not missing, f"config keys missing from the README config table: {missing}"


def test_defaults_are_a_valid_dev_stack():
    assert parse_settings({}, "dev") == Settings(stack="dev")


@pytest.mark.parametrize("key", ["requestPathReplicas", "prodcatalogReplicas"])
def test_production_runs_the_request_path_on_two_replicas_at_least(key):
    base = {"endpointPublicAccess": "false", "nodeCount": 3, "nodeMaxCount": 3, "requestPathReplicas": 2,
            "prodcatalogReplicas": 2, "natGateways": 2}
    with pytest.raises(SettingsError, match="at least 2 in production") as err:
        parse_settings({**base, "production": "true", key: 1}, "dev")
    assert err.value.key == key
    assert parse_settings({**base, "production": "false", key: 1}, "prod").request_path_replicas >= 1


def test_autoscaler_max_defaults_to_twice_the_largest_minimum_in_production_and_to_none_elsewhere():
    base = {"production": "true", "endpointPublicAccess": "false", "nodeCount": 3, "nodeMaxCount": 3,
            "requestPathReplicas": 2, "prodcatalogReplicas": 3, "natGateways": 2}
    assert parse_settings(base, "eu").autoscale_max == 6
    assert parse_settings({**base, "autoscaleMaxReplicas": "4"}, "eu").autoscale_max == 4
    assert parse_settings({}, "dev").autoscale_max is None
    assert parse_settings({}, "prod").autoscale_max is None
    assert parse_settings({"autoscaleMaxReplicas": 3}, "dev").autoscale_max == 3


def test_an_autoscaler_max_below_a_minimum_is_refused_naming_both():
    with pytest.raises(SettingsError, match=r"max\(requestPathReplicas, prodcatalogReplicas\) = 3") as err:
        parse_settings({"production": "true", "endpointPublicAccess": "false", "nodeCount": 3, "nodeMaxCount": 3,
                        "requestPathReplicas": 2, "prodcatalogReplicas": 3, "autoscaleMaxReplicas": "2",
                        "natGateways": 2}, "eu")
    assert err.value.key == "autoscaleMaxReplicas"
    with pytest.raises(SettingsError, match="autoscaleMaxReplicas"):
        parse_settings({"autoscaleMaxReplicas": 0}, "dev")


@pytest.mark.parametrize("cidrs", ['["52.95.110.0/24"]', '["0.0.0.0/0"]'])
def test_public_cidrs_without_a_public_endpoint_are_refused_naming_both_keys(cidrs):
    with pytest.raises(SettingsError) as err:
        parse_settings({"endpointPublicAccess": "false", "endpointPublicAccessCidrs": cidrs}, "dev")
    assert err.value.key == "endpointPublicAccessCidrs" and err.value.value == cidrs
    assert "endpointPublicAccess false" in str(err.value) and "would change nothing" in str(err.value)
    # without the CIDRs, or with the endpoint on, the same stack is fine
    assert parse_settings({"endpointPublicAccess": "false"}, "dev").endpoint_public_access is False
    assert parse_settings({"endpointPublicAccess": "true", "endpointPublicAccessCidrs": cidrs}, "dev")


def test_sqlite_storage_with_more_than_one_prodcatalog_replica_is_refused_naming_both_keys():
    with pytest.raises(SettingsError) as err:
        parse_settings({"prodcatalogStorage": "sqlite"}, "dev")   # prodcatalogReplicas' default is 2
    assert err.value.key == "prodcatalogReplicas" and err.value.value == 2
    assert "1 with prodcatalogStorage sqlite" in str(err.value) and "or prodcatalogStorage dynamodb" in str(err.value)
    with pytest.raises(SettingsError, match="celestials:prodcatalogReplicas = '3': 1 with prodcatalogStorage sqlite"):
        parse_settings({"prodcatalogStorage": "sqlite", "prodcatalogReplicas": "3"}, "dev")
    assert parse_settings({"prodcatalogStorage": "sqlite", "prodcatalogReplicas": "1"}, "dev").prodcatalog_replicas == 1
