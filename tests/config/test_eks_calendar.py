"""The calendar cannot break a stack: on every day of the coming year each committed stack parses,
passes its EKS check and synthesizes the same resources (the day injected, never waited for); the
preview's warnings come exactly when they should; only a version EKS no longer offers is refused,
naming key, value and what EKS still offers. The day is an input everywhere: no product code reads
the wall clock."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from celestials import eks_versions as ev
from celestials.cost import control_plane_rates
from celestials.local.stack import load_settings, read_stack_config
from celestials.settings import SettingsError, check_eks_version, parse_settings
from celestials.today import TODAY_ENV, as_of
from components.stack_settings import eks_warnings
from synth.harness import STACKS, quiet, synth_stack

ROOT = Path(__file__).resolve().parents[2]
DAY = timedelta(days=1)
#: the first day of 1.35's last quarter of standard support, and a day of its extended support
AHEAD, IN_EXTENDED = date(2026, 12, 28), date(2027, 6, 1)
COMING_YEAR = [date(2026, 12, 7) + n * DAY for n in range((date(2027, 12, 31) - date(2026, 12, 7)).days + 1)]


def _release(stack: str) -> ev.EksRelease:
    return ev.release(load_settings(ROOT, stack).eks_version)


def test_every_committed_stack_writes_its_eks_version_and_upgrade_policy():
    """So an upgrade, or a change of policy, is a reviewed diff of the stack file."""
    for stack in STACKS:
        config = read_stack_config(ROOT, stack)
        assert config.get(f"celestials:{ev.VERSION_KEY}") in ev.known_versions(), stack
        assert config.get(f"celestials:{ev.SUPPORT_TYPE_KEY}") in ev.SUPPORT_TYPES, stack
    assert {s: load_settings(ROOT, s).eks_support_type for s in ("dev", "prod")} == {
        "dev": ev.STANDARD, "prod": ev.EXTENDED}


@pytest.mark.parametrize("stack", STACKS)
def test_each_day_of_the_coming_year_passes_and_warns_exactly_in_the_window_and_in_extended_support(stack):
    settings = load_settings(ROOT, stack)
    release = _release(stack)
    window_opens = release.standard_support_ends - timedelta(days=ev.STANDARD_END_WARNING_DAYS - 1)
    for day in COMING_YEAR:
        warnings = eks_warnings(settings, day)  # what the program logs; raises if refused
        assert len(warnings) == (1 if day >= window_opens else 0), (stack, day, warnings)
        if release.phase(day) == ev.IN_EXTENDED:
            assert ("is in extended support" if settings.eks_support_type == ev.EXTENDED
                    else "is past standard support") in warnings[0], (stack, day)


def test_the_warnings_carry_the_region_prices():
    settings = load_settings(ROOT, "prod")
    rates = control_plane_rates(settings.region)
    (message,) = eks_warnings(settings, IN_EXTENDED)
    assert f"${rates.extended:.2f} instead of ${rates.standard:.2f} per cluster-hour" in message
    (elsewhere,) = eks_warnings(parse_settings({"eksSupportType": "EXTENDED"}, "dev", region="eu-north-1"),
                                IN_EXTENDED)
    assert "(celestials/cost/prices.yaml)" in elsewhere  # no price data there: the warning still comes


def test_a_version_past_its_extended_support_is_refused_naming_key_value_and_what_is_offered():
    old = ev.release("1.34")
    settings = parse_settings({"eksVersion": "1.34", "eksSupportType": "EXTENDED"}, "dev")
    (last_day,) = check_eks_version(settings, old.extended_support_ends)
    assert "1.34 is in extended support" in last_day
    with pytest.raises(SettingsError) as err:
        check_eks_version(settings, old.extended_support_ends + DAY)
    assert err.value.key == "eksVersion" and err.value.value == "1.34"
    assert str(err.value).startswith(
        f"invalid stack config celestials:eksVersion = '1.34': a version EKS still offers on "
        f"{old.extended_support_ends + DAY}: {', '.join(ev.offered_versions(old.extended_support_ends + DAY))} "
        f"(extended support of 1.34 ended on {old.extended_support_ends}")
    assert "1.34" not in ev.offered_versions(old.extended_support_ends + DAY)
    latest = max(r.extended_support_ends for r in ev.RELEASES)
    with pytest.raises(SettingsError, match="none of the table's: add the current ones to it"):
        check_eks_version(parse_settings({}, "dev"), latest + DAY)


# --- the real program, as of a given day -----------------------------------------------------
def _synth(stack: str, day: date | str, monkeypatch, caplog) -> tuple[list[dict], list[str]]:
    monkeypatch.setenv(TODAY_ENV, str(day))
    caplog.clear()
    with caplog.at_level(logging.WARNING), quiet():
        resources = synth_stack(stack).resources
    return resources, [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.fixture(scope="module")
def written_today():
    """Each stack as evaluated on the day this was written (no warnings then)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TODAY_ENV, "2026-12-07")
        with quiet():
            return {stack: synth_stack(stack).resources for stack in STACKS}


@pytest.mark.parametrize("day", [AHEAD, IN_EXTENDED, date(2027, 12, 31)])
@pytest.mark.parametrize("stack", STACKS)
def test_the_program_synthesizes_the_same_stack_and_logs_the_warnings_of_the_day(
        stack, day, written_today, monkeypatch, caplog):
    resources, logged = _synth(stack, day, monkeypatch, caplog)
    assert resources == written_today[stack], "the day must change only what is said, never what is deployed"
    assert logged == list(eks_warnings(load_settings(ROOT, stack), day))


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_logs_the_warning_on_the_first_day_of_extended_support(stack, monkeypatch, caplog):
    day = _release(stack).standard_support_ends + DAY
    _, logged = _synth(stack, day, monkeypatch, caplog)
    assert len(logged) == 1 and logged == list(eks_warnings(load_settings(ROOT, stack), day))


def test_the_cluster_carries_each_stacks_upgrade_policy(written_today):
    for stack in STACKS:
        (cluster,) = [r for r in written_today[stack] if r["type"] == "eks:index:Cluster"]
        settings = load_settings(ROOT, stack)
        assert cluster["inputs"]["version"] == settings.eks_version
        assert cluster["inputs"]["upgradePolicy"] == {"supportType": settings.eks_support_type}


def test_the_program_refuses_a_version_eks_no_longer_offers_before_any_resource(monkeypatch, caplog):
    day = _release("dev").extended_support_ends + DAY
    with pytest.raises(SettingsError, match=r"celestials:eksVersion = '1\.35': a version EKS still offers") as err:
        _synth("dev", day, monkeypatch, caplog)
    assert err.value.synth_registrations == []  # type: ignore[attr-defined]


def test_the_day_comes_from_the_environment_or_the_clock(monkeypatch, caplog):
    assert as_of({TODAY_ENV: "2027-06-01"}, lambda: date(2000, 1, 1)) == IN_EXTENDED
    assert as_of({}, lambda: date(2000, 1, 1)) == date(2000, 1, 1)
    assert as_of({TODAY_ENV: " "}, lambda: date(2000, 1, 1)) == date(2000, 1, 1)
    with pytest.raises(ValueError, match=r"CELESTIALS_TODAY='next week': a date as YYYY-MM-DD"):
        as_of({TODAY_ENV: "next week"}, date.today)
    with pytest.raises(ValueError, match="CELESTIALS_TODAY='2027-13-01'"):
        _synth("dev", "2027-13-01", monkeypatch, caplog)


#: the only product code that may read the wall clock, and why
CLOCK_READERS = {
    "celestials/today.py": "the one place the day is read, by the entry points only",
    "components/mtls_provider.py": "the mTLS material is issued at the moment `pulumi up` makes it",
    "celestials/pki.py": "ensure_material's default `now` (the local rehearsal issues at the moment it starts)",
    "celestials/local/supervisor.py": "a timestamp in the rehearsal's process logs",
    "celestials/local/rehearsal.py": "when the rehearsal started, recorded in its state file",
}
_CLOCK = re.compile(r"\b(?:date|datetime)\.(?:today|now|utcnow)\b|\btime\.(?:time|localtime|gmtime)\(")


def test_no_other_product_code_reads_the_wall_clock():
    files = [ROOT / "__main__.py", *(p for d in ("celestials", "components", "synth", "policy")
                                     for p in (ROOT / d).rglob("*.py") if "venv" not in p.parts)]
    readers = {str(p.relative_to(ROOT)) for p in files if _CLOCK.search(p.read_text())}
    assert readers == set(CLOCK_READERS), readers ^ set(CLOCK_READERS)
