"""Every key of a stack's config is accounted for: ours, a provider's own, or refused with the
nearest known key (the check the program, the synth and the rehearsal share)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from celestials.settings import SettingsError, aws_regions, parse_settings
from celestials.stack_config import PROVIDER_KEYS, REQUIRED_KEYS, MissingConfigError, settings_from_config

#: what every stack's config states (REQUIRED_KEYS)
STATED = {"aws:region": "us-west-2", "celestials:production": "false"}


@pytest.mark.parametrize("key,value,message", [
    ("celestial:canaryWeight", 10,
     "invalid stack config celestial:canaryWeight = 10: unknown namespace 'celestial' (did you mean celestials:canaryWeight?)"),
    ("canaryWeight", 10,
     "invalid stack config canaryWeight = 10: a stack config key needs its namespace (did you mean celestials:canaryWeight?)"),
    ("aws:regoin", "eu-west-1",
     "invalid stack config aws:regoin = 'eu-west-1': not a config key of the aws provider (did you mean aws:region?)"),
    ("celestials:canaryWieght", 10,
     "invalid stack config celestials:canaryWieght = 10: unknown key (did you mean canaryWeight?)"),
    ("kubernetes:context", "kind", "invalid stack config kubernetes:context = 'kind': unknown namespace 'kubernetes'"),
])
def test_a_key_nobody_reads_is_refused_with_the_nearest_known_key(key, value, message):
    with pytest.raises(SettingsError) as err:
        settings_from_config({**STATED, key: value}, "dev")
    assert str(err.value).startswith(message), str(err.value)


def test_a_region_the_provider_does_not_know_is_refused_under_its_own_key():
    with pytest.raises(SettingsError) as err:
        settings_from_config({**STATED, "aws:region": "xx-nowhere-9"}, "dev")
    assert str(err.value).startswith("invalid stack config aws:region = 'xx-nowhere-9': an AWS region")
    with pytest.raises(SettingsError, match=r"^invalid stack config aws:region = 'eu-wset-1': .*did you mean eu-west-1\?"):
        parse_settings({}, "dev", region="eu-wset-1")


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-5", "us-gov-west-1", "cn-north-1"])
def test_real_regions_are_accepted(region):
    assert settings_from_config({**STATED, "aws:region": region}, "dev").region == region


def test_the_aws_providers_own_keys_and_ours_are_accepted():
    config = {**STATED, "aws:region": "eu-west-1", "aws:profile": "sandbox", "aws:allowedAccountIds": '["123456789012"]',
              "aws:defaultTags": {"tags": {"team": "platform"}}, "pulumi:disable-default-providers": ["kubernetes"],
              "celestials:canaryWeight": "20"}
    settings = settings_from_config(config, "dev")
    assert (settings.region, settings.canary_weight) == ("eu-west-1", 20)


def test_a_secret_value_stays_secret_in_the_error():
    with pytest.raises(SettingsError) as err:
        settings_from_config({**STATED, "aws:secretKeyy": "AKIA-very-secret"}, "dev", secret_keys={"aws:secretKeyy"})
    assert "very-secret" not in str(err.value) and "'[secret]'" in str(err.value)
    with pytest.raises(SettingsError) as err:
        settings_from_config({**STATED, "celestial:token": {"secure": "v1:abc"}}, "dev")
    assert "v1:abc" not in str(err.value)


def test_every_listed_aws_key_is_one_the_provider_reads():
    import importlib.util

    source = Path(importlib.util.find_spec("pulumi_aws").origin).parent / "config" / "vars.py"
    provider_keys = set(re.findall(r"__config__\.get\w*\('(\w+)'\)", source.read_text()))
    assert provider_keys, "could not read pulumi_aws's config keys"
    assert set(PROVIDER_KEYS["aws"]) <= provider_keys, set(PROVIDER_KEYS["aws"]) - provider_keys
    assert provider_keys - set(PROVIDER_KEYS["aws"]) == {"skipRegionValidation"}


def test_the_region_list_is_the_providers():
    assert "us-west-2" in aws_regions() and "xx-nowhere-9" not in aws_regions()
    assert len(aws_regions()) >= 30


@pytest.mark.parametrize("key, value, allowed", [
    ("aws:defaultTags", "foo", "a mapping"),
    ("aws:defaultTags", '["team"]', "a mapping"),
    ("aws:profile", "", "a non-empty string"),
    ("aws:maxRetries", "three", "an integer"),
    ("aws:skipMetadataApiCheck", "yes", "true or false"),
    ("aws:allowedAccountIds", "[123456789012]", "a list of strings"),
    ("aws:assumeRoles", '{"roleArn": "arn:aws:iam::123456789012:role/deploy"}', "a list of mappings"),
])
def test_a_provider_key_with_a_value_of_the_wrong_kind_is_refused(key, value, allowed):
    with pytest.raises(SettingsError) as err:
        settings_from_config({**STATED, key: value}, "dev")
    assert err.value.key == key and err.value.allowed.startswith(allowed), str(err.value)


@pytest.mark.parametrize("key, value", [
    ("aws:defaultTags", '{"tags": {"team": "platform"}}'),
    ("aws:profile", "deploy"),
    ("aws:maxRetries", "5"),
    ("aws:skipMetadataApiCheck", "true"),
    ("aws:allowedAccountIds", '["123456789012"]'),
    ("aws:assumeRoles", '[{"roleArn": "arn:aws:iam::123456789012:role/deploy"}]'),
])
def test_a_provider_key_with_a_value_of_its_kind_is_accepted(key, value):
    settings_from_config({**STATED, key: value}, "dev")


def test_a_secret_provider_value_of_the_wrong_kind_is_refused_without_showing_it():
    with pytest.raises(SettingsError) as err:
        settings_from_config({**STATED, "aws:maxRetries": "hunter2"}, "dev",
                             secret_keys={"aws:maxRetries"})
    assert "hunter2" not in str(err.value) and "[secret]" in str(err.value)


@pytest.mark.parametrize("key", sorted(REQUIRED_KEYS))
def test_a_key_every_stack_must_state_is_refused_when_missing_naming_it_and_the_fix(key):
    with pytest.raises(MissingConfigError) as err:
        settings_from_config({k: v for k, v in STATED.items() if k != key}, "dev")
    assert err.value.key == key
    assert str(err.value).startswith(f"missing stack config {key}: every stack states ")
    assert f"pulumi config set {key} " in str(err.value)


def test_the_region_is_never_a_default_and_production_is_never_the_name():
    with pytest.raises(MissingConfigError, match="AWS_REGION"):
        settings_from_config({"celestials:production": "true"}, "prod")
    with pytest.raises(MissingConfigError, match="the stack's name plays no part"):
        settings_from_config({"aws:region": "us-west-2"}, "prod")
    assert settings_from_config(STATED, "prod").production is False
