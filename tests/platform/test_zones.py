"""Availability zones (issue 13.10): unsupported zone IDs are skipped or refused; explicit IDs win."""

import pytest

from celestials.settings import SettingsError, parse_settings
from celestials.zones import choose_zones
from synth.harness import quiet, synth_stack

NAMES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
IDS = ["use1-az1", "use1-az2", "use1-az3", "use1-az4"]


def test_automatic_choice_skips_zones_eks_refuses():
    assert choose_zones(NAMES, IDS, 3) == ["us-east-1a", "us-east-1b", "us-east-1d"]
    # accounts shuffle names: what is skipped is the ID, wherever its name sorts
    assert choose_zones(NAMES, ["use1-az3", "use1-az1", "use1-az2", "use1-az4"], 2) == ["us-east-1b", "us-east-1c"]
    with pytest.raises(ValueError, match="only 3 zones EKS supports"):
        choose_zones(NAMES, IDS, 4)


def test_explicit_ids_are_used_in_order_and_must_exist():
    assert choose_zones(NAMES, IDS, 2, ("use1-az4", "use1-az1")) == ["us-east-1d", "us-east-1a"]
    with pytest.raises(ValueError, match="availabilityZoneIds: use1-az9 not available"):
        choose_zones(NAMES, IDS, 2, ("use1-az1", "use1-az9"))


def test_settings_refuse_unsupported_zone_ids_by_name():
    with pytest.raises(SettingsError, match=r"availabilityZoneIds.*use1-az3 cannot hold EKS cluster subnets"):
        parse_settings({"availabilityZoneIds": '["use1-az1", "use1-az3"]'}, "dev")
    for bad in ('["usw2-az1"]', '["usw2-az1", "usw2-az1"]', '["us-west-2a", "us-west-2b"]', "usw2-az1"):
        with pytest.raises(SettingsError, match="availabilityZoneIds"):
            parse_settings({"availabilityZoneIds": bad}, "dev")
    s = parse_settings({"availabilityZoneIds": ["usw2-az3", "usw2-az1", "usw2-az4"]}, "dev")
    assert s.availability_zones == 3 and s.availability_zone_ids == ("usw2-az3", "usw2-az1", "usw2-az4")
    with pytest.raises(SettingsError, match="availabilityZones.*number of availabilityZoneIds"):
        parse_settings({"availabilityZoneIds": ["usw2-az1", "usw2-az2"], "availabilityZones": 3}, "dev")


def _subnet_zones(overrides):
    with quiet():
        r = synth_stack("dev", overrides)
    return [r.get("aws:ec2/subnet:Subnet", f"network-private-{i}")["inputs"]["availabilityZone"]
            for i in range(len(r.by_type("aws:ec2/subnet:Subnet")) // 2)]


def test_program_places_subnets_in_supported_or_named_zones():
    assert _subnet_zones({"aws:region": "us-east-1", "availabilityZones": "3", "natGateways": "1"}) == [
        "us-east-1a", "us-east-1b", "us-east-1d"]
    assert _subnet_zones({"availabilityZoneIds": '["usw2-az2", "usw2-az4"]'}) == ["us-west-2b", "us-west-2d"]
