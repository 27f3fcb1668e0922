"""Values that each parse alone but are mistakes beside another key or among themselves: each is
refused naming its key, with the rule it breaks."""

import pytest
from pulumi_aws import Region

from celestials.settings import SettingsError, parse_settings
from celestials.zones import ZONE_ID, zone_id_prefix


@pytest.mark.parametrize("key, cidrs", [
    ("endpointPublicAccessCidrs", '["52.95.110.0/24", "52.95.110.0/24"]'),
    ("endpointPrivateAccessCidrs", '["172.31.0.0/16", "192.168.0.0/24", "172.31.0.0/16"]'),
])
def test_a_cidr_written_twice_is_refused(key, cidrs):
    with pytest.raises(SettingsError) as err:
        parse_settings({key: cidrs}, "dev", region="us-west-2")
    assert err.value.key == key and "without duplicates" in err.value.allowed
    assert cidrs.split('"')[1] + " is written more than once" in err.value.allowed


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "10.0.128.0/20", "10.0.0.0/8"])
def test_private_access_from_inside_the_vpc_is_refused(cidr):
    with pytest.raises(SettingsError) as err:
        parse_settings({"endpointPrivateAccessCidrs": f'["{cidr}"]'}, "dev", region="us-west-2")
    assert err.value.key == "endpointPrivateAccessCidrs"
    assert f"{cidr} overlaps it" in err.value.allowed and "10.0.0.0/16" in err.value.allowed


def test_private_access_from_a_peered_network_is_accepted():
    s = parse_settings({"endpointPrivateAccessCidrs": '["172.31.0.0/16"]'}, "dev", region="us-west-2")
    assert s.endpoint_private_access_cidrs == ("172.31.0.0/16",)


def test_zone_ids_of_another_region_are_refused():
    with pytest.raises(SettingsError) as err:
        parse_settings({"availabilityZoneIds": '["use1-az1", "use1-az2"]'}, "dev", region="us-west-2")
    assert err.value.key == "availabilityZoneIds"
    assert "aws:region us-west-2 (usw2-az1" in err.value.allowed and "use1-az1, use1-az2" in err.value.allowed


def test_zone_ids_of_the_stack_region_are_accepted():
    s = parse_settings({"availabilityZoneIds": '["use1-az4", "use1-az6"]'}, "dev", region="us-east-1")
    assert s.availability_zone_ids == ("use1-az4", "use1-az6")


@pytest.mark.parametrize("region, prefix", [
    ("us-west-2", "usw2"), ("eu-west-1", "euw1"), ("ap-northeast-1", "apne1"), ("ap-southeast-2", "apse2"),
    ("ca-central-1", "cac1"), ("sa-east-1", "sae1"), ("us-gov-west-1", "usgw1"), ("cn-northwest-1", "cnnw1"),
])
def test_zone_id_prefixes_follow_the_published_ids(region, prefix):
    assert zone_id_prefix(region) == prefix


def test_every_prefix_claimed_is_distinct_and_a_valid_zone_id():
    prefixes = {r.value: zone_id_prefix(r.value) for r in Region}
    claimed = [p for p in prefixes.values() if p is not None]
    assert len(claimed) == len(set(claimed))
    assert all(ZONE_ID.match(f"{p}-az1") for p in claimed)
    assert prefixes["us-iso-east-1"] is None  # no published pattern: nothing is claimed
