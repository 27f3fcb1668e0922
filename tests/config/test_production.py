"""Production is a property of the stack (`celestials:production`), never its name: the settings'
production rules, the NAT gateway per zone among them, and the program's production choices follow
the key alone."""

from __future__ import annotations

import pytest

from celestials.local.stack import read_stack_config
from celestials.settings import FEWER_NAT_GATEWAYS_KEY, SettingsError, parse_settings
from synth.harness import ROOT, quiet, synth_stack

#: a production stack that passes every production rule
PRODUCTION = {"production": "true", "nodeCount": "2", "endpointPublicAccess": "false", "requestPathReplicas": "2",
              "availabilityZones": "3", "natGateways": "3"}
REASON = "egress is image pulls only; the catalog reaches DynamoDB through its gateway endpoint"


@pytest.mark.parametrize("stack", ["production", "prod-eu", "prod", "dev"])
@pytest.mark.parametrize("key,value", [("nodeCount", "1"), ("requestPathReplicas", "1"), ("prodcatalogReplicas", "1"),
                                       ("natGateways", "1")])
def test_production_rules_follow_the_key_whatever_the_stack_is_called(stack, key, value):
    assert parse_settings(PRODUCTION, stack).production
    with pytest.raises(SettingsError) as err:
        parse_settings({**PRODUCTION, key: value}, stack)
    assert err.value.key == key and "the stack has celestials:production true" in str(err.value)
    dev = parse_settings({**PRODUCTION, "production": "false", key: value}, stack)
    assert not dev.production and dev.autoscale_max is None


def test_the_committed_stacks_state_it():
    assert {s: read_stack_config(ROOT, s)["celestials:production"] for s in ("dev", "prod")} == {
        "dev": "false", "prod": "true"}


def test_fewer_nat_gateways_than_zones_are_refused_in_production_naming_key_value_and_fix():
    with pytest.raises(SettingsError) as err:
        parse_settings({**PRODUCTION, "natGateways": "2"}, "prod-eu")
    message = str(err.value)
    assert message.startswith("invalid stack config celestials:natGateways = '2': in production, one per "
                              "availability zone: 3 (availabilityZones)"), message
    assert "Set celestials:natGateways 3" in message and f"celestials:{FEWER_NAT_GATEWAYS_KEY}" in message
    assert parse_settings({**PRODUCTION, "production": "false", "natGateways": "1"}, "prod").nat_gateways == 1


def test_a_stated_reason_lets_a_production_stack_run_fewer_nat_gateways():
    s = parse_settings({**PRODUCTION, "natGateways": "1", FEWER_NAT_GATEWAYS_KEY: f"  {REASON} "}, "prod")
    assert (s.nat_gateways, s.fewer_nat_gateways_reason) == (1, REASON)


@pytest.mark.parametrize("raw,expected", [
    ({**PRODUCTION, "natGateways": "1", FEWER_NAT_GATEWAYS_KEY: "cost"}, "a sentence (20 to 500 characters)"),
    ({**PRODUCTION, FEWER_NAT_GATEWAYS_KEY: REASON}, "here natGateways is 3 for 3 zones, so it excuses nothing"),
    ({"natGateways": "1", FEWER_NAT_GATEWAYS_KEY: REASON}, "here celestials:production is false, so it excuses nothing"),
])
def test_a_reason_that_says_nothing_or_excuses_nothing_is_refused(raw, expected):
    with pytest.raises(SettingsError) as err:
        parse_settings(raw, "prod")
    assert err.value.key == FEWER_NAT_GATEWAYS_KEY and expected in str(err.value), str(err.value)


def test_the_program_logs_the_reason_in_every_preview():
    from components.stack_settings import override_notes

    s = parse_settings({**PRODUCTION, "natGateways": "1", FEWER_NAT_GATEWAYS_KEY: REASON}, "prod")
    [note] = override_notes(s)
    assert "1 NAT gateway(s) for 3 zones" in note and note.endswith(REASON)
    assert override_notes(parse_settings(PRODUCTION, "prod")) == ()


def _choices(result) -> dict[str, object]:
    [cluster] = result.by_type("eks:index:Cluster")
    [table] = result.by_type("aws:dynamodb/table:Table")
    [log_group] = result.by_type("pulumi-python:dynamic/celestials:ControlPlaneLogGroup")
    repositories = result.by_type("aws:ecr/repository:Repository")
    return {"deletion protection": (cluster["inputs"]["deletionProtection"], table["inputs"]["deletionProtectionEnabled"]),
            "log retention": log_group["inputs"]["retention_days"],
            "force delete": {r["inputs"]["forceDelete"] for r in repositories},
            # every resource tagged as the stack's (celestials.stacks.resource_tags) says it
            "production tag": {r["inputs"]["tags"].get("production") for r in result.resources
                               if "stack" in (r["inputs"].get("tags") or {})}}


def test_the_programs_production_choices_follow_the_key_not_the_name():
    with quiet():
        production = _choices(synth_stack("prod", as_stack="prod-eu"))
        called_prod = _choices(synth_stack("dev", as_stack="prod"))
    assert production == {"deletion protection": (True, True), "log retention": 90, "force delete": {False},
                          "production tag": {"true"}}
    assert called_prod == {"deletion protection": (False, False), "log retention": 30, "force delete": {True},
                           "production tag": {"false"}}
