"""What the configuration reference states holds for every key, read from the definitions
(celestials/settings.py), written into a stack file and read as Pulumi reads it: the default
written explicitly is the default, the bounds are accepted and one past them refused, and every
documented choice is accepted."""

from __future__ import annotations

from typing import Any

import pytest

from celestials import eks_versions as ev
from celestials import settings as st
from celestials.local.stack import parse_stack_file
from celestials.stack_config import REQUIRED_KEYS, settings_from_config
from tools.settings_doc import literal


def _stack(config: dict[str, Any], stack: str = "dev") -> st.Settings:
    """Settings from a stack file that writes each value as the reference shows it."""
    config = {st.PRODUCTION_KEY: False, **config}  # a key every stack states
    lines = [f"  {st.REGION.name}: {literal(st.REGION.default)}"]
    lines += [f"  {st.PROJECT}:{name}: {literal(value)}" for name, value in config.items()]
    f = parse_stack_file("config:\n" + "\n".join(lines) + "\n", f"Pulumi.{stack}.yaml")
    return settings_from_config(f.config, stack, f.secret_keys)


def _integer(name: str) -> st.Integer:
    kind = st.definition(name).kind
    assert isinstance(kind, st.Integer)
    return kind


def _room(name: str) -> dict[str, int]:
    """Values of the keys that bound `name` (or that `name` bounds) leaving it the most room, so
    a value inside its own range meets no rule between keys."""
    room: dict[str, int] = {}
    for rule in st.RULES:
        if not rule.relation:
            continue
        if rule.key == name:
            for other in rule.others:
                kind = _integer(other)
                room[other] = kind.lo if rule.relation == ">=" else kind.hi
        elif name in rule.others:
            kind = _integer(rule.key)
            room[rule.key] = kind.hi if rule.relation == ">=" else kind.lo
    return room


#: keys with a default (a key every stack must state has none to write)
DEFAULTED = [k for k in st.KEYS if k.default is not None and f"{st.PROJECT}:{k.name}" not in REQUIRED_KEYS]


@pytest.mark.parametrize("key", DEFAULTED, ids=lambda k: k.name)
def test_the_documented_default_written_explicitly_is_the_default(key):
    assert _stack({key.name: key.default}) == _stack({})


def test_the_documented_region_written_explicitly_is_the_default():
    assert st.parse_settings({}, "dev", region=st.REGION.default) == st.parse_settings({}, "dev")


INTEGERS = [k for k in st.KEYS if isinstance(k.kind, st.Integer)]
EDGES = [(k, v) for k in INTEGERS for v in (k.kind.lo, k.kind.hi) if v is not None]
PAST = [(k, v) for k in INTEGERS for v in (k.kind.lo - 1, None if k.kind.hi is None else k.kind.hi + 1)
        if v is not None]


@pytest.mark.parametrize("key,value", EDGES, ids=lambda x: getattr(x, "name", str(x)))
def test_each_documented_bound_is_accepted(key, value):
    assert getattr(_stack({**_room(key.name), key.name: value}), key.field) == value


@pytest.mark.parametrize("key,value", PAST, ids=lambda x: getattr(x, "name", str(x)))
def test_one_past_a_documented_bound_is_refused_with_the_documented_range(key, value):
    with pytest.raises(st.SettingsError) as err:
        _stack({**_room(key.name), key.name: value})
    assert err.value.key == key.name
    assert err.value.allowed == key.kind.allowed


BOUNDS = [r for r in st.RULES if r.relation]


@pytest.mark.parametrize("rule", BOUNDS, ids=lambda r: r.key)
def test_a_bound_between_keys_holds_at_the_bound_and_refuses_one_past(rule):
    bound = max(_integer(n).lo for n in (rule.key, *rule.others)) + 1
    others = {o: bound for o in rule.others}
    at, past = {"<=": (bound, bound + 1), ">=": (bound, bound - 1), "<": (bound - 1, bound)}[rule.relation]
    assert getattr(_stack({**others, rule.key: at}), st.definition(rule.key).field) == at
    with pytest.raises(st.SettingsError) as err:
        _stack({**others, rule.key: past})
    assert err.value.key == rule.key
    assert rule.doc in err.value.allowed


def _choices(key: st.Key) -> list[Any]:
    """The values the reference names as accepted."""
    kind = key.kind
    if isinstance(kind, st.Choice):
        return list(kind.choices)
    if isinstance(kind, st.Subset):
        return [[c] for c in kind.choices] + [[], list(kind.choices)]
    if isinstance(kind, st.Boolean):
        return [True, False]
    if isinstance(kind, st.EksVersion):
        return list(ev.known_versions())
    if key.name == "meshBackend":
        from components.mesh_backends import BACKENDS

        return list(BACKENDS)
    return []


CHOICES = [(k, c) for k in st.KEYS for c in _choices(k)]


def test_every_key_with_named_values_is_covered():
    named = {k.name for k, _ in CHOICES}
    assert named >= {k.name for k in st.KEYS if isinstance(k.kind, (st.Choice, st.Subset, st.Boolean, st.EksVersion))}
    assert "meshBackend" in named


def _needs(name: str, value: Any) -> dict[str, Any]:
    """What the rules need of other keys while `name` is `value` (production: its minimums, a NAT
    gateway per zone, and an API endpoint not open to the internet)."""
    needs = {r.key: r.needs for r in st.RULES if r.when == (name, value)}
    if (name, value) == (st.PRODUCTION_KEY, True):
        needs |= {key: least for key, least, _ in st.PROD_MINIMUMS}
        needs |= {"natGateways": st.definition("availabilityZones").default, "endpointPublicAccess": False}
    return needs


@pytest.mark.parametrize("key,choice", CHOICES, ids=lambda x: getattr(x, "name", str(x)))
def test_each_documented_choice_is_accepted(key, choice):
    parsed = getattr(_stack({**_needs(key.name, choice), key.name: choice}), key.field)
    assert parsed == (tuple(c for c in key.kind.choices if c in choice) if isinstance(key.kind, st.Subset)
                      else choice)
