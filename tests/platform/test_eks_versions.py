"""The EKS version table and its lifecycle: standard support, then 12 months of extended support
(billed higher), then no longer offered. A passing day moves a version from one phase to the next
and changes what is warned about and what it costs; it never refuses a version EKS still offers.
Every add-on is pinned for every version."""

from datetime import date, timedelta

import pytest

from celestials import eks_versions as ev

RATES = ev.ControlPlaneRates(standard=0.10, extended=0.60)
V135 = ev.release("1.35")
STD, EXT = V135.standard_support_ends, V135.extended_support_ends
DAY = timedelta(days=1)
#: a day in 1.35's last quarter of standard support, and one in its extended support
AHEAD, IN_EXTENDED = date(2026, 12, 28), date(2027, 6, 1)


def test_every_release_pins_every_add_on_with_an_eks_build():
    for r in ev.RELEASES:
        assert set(r.addons) == set(ev.ADDONS), r.version
        for name, version in r.addons.items():
            assert version.startswith("v") and "-eksbuild." in version, (r.version, name)
        assert r.addons["kube-proxy"].startswith(f"v{r.version}."), "kube-proxy follows the cluster minor"
    assert [r.version for r in ev.RELEASES] == sorted(r.version for r in ev.RELEASES)


def test_extended_support_lasts_twelve_months_after_standard_support():
    for r in ev.RELEASES:
        std = r.standard_support_ends
        assert r.extended_support_ends == std.replace(year=std.year + 1), r.version
    assert [r.standard_support_ends for r in ev.RELEASES] == sorted(r.standard_support_ends for r in ev.RELEASES)


def test_each_end_date_is_the_last_day_of_its_phase():
    assert [V135.phase(d) for d in (STD, STD + DAY, EXT, EXT + DAY)] == [
        ev.IN_STANDARD, ev.IN_EXTENDED, ev.IN_EXTENDED, ev.ENDED]
    assert V135.phase(AHEAD) == ev.IN_STANDARD and V135.phase(IN_EXTENDED) == ev.IN_EXTENDED


def test_a_version_stays_offered_every_day_until_its_extended_support_ends():
    day = date(2026, 12, 1)
    while day <= date(2028, 8, 1):
        offered = ev.offered_versions(day)
        assert offered == tuple(r.version for r in ev.RELEASES if day <= r.extended_support_ends), day
        day += timedelta(days=1)
    assert all("1.35" in ev.offered_versions(date(2027, month, 1)) for month in range(1, 13))
    assert "1.35" not in ev.offered_versions(EXT + DAY)
    assert ev.known_versions() == ("1.34", "1.35", "1.36")


def test_upgrades_go_one_minor_at_a_time():
    assert [ev.next_version(v) for v in ev.known_versions()] == ["1.35", "1.36", None]
    with pytest.raises(KeyError, match="1.29"):
        ev.next_version("1.29")


@pytest.mark.parametrize("day, support, billed", [
    (STD, ev.EXTENDED, ev.IN_STANDARD),
    (STD + DAY, ev.EXTENDED, ev.IN_EXTENDED),
    (STD + DAY, ev.STANDARD, ev.IN_STANDARD),   # AWS upgrades it to a version in standard support
    (EXT, ev.EXTENDED, ev.IN_EXTENDED),
    (EXT + DAY, ev.EXTENDED, ev.ENDED),
    (EXT + DAY, ev.STANDARD, ev.ENDED),
])
def test_the_billed_rate_follows_the_phase_and_the_upgrade_policy(day, support, billed):
    assert ev.billed_support("1.35", support, day) == billed


def _warned(day, support=ev.STANDARD, version="1.35", rates=RATES):
    return ev.lifecycle_warnings(version, support, day, rates)


@pytest.mark.parametrize("support", ev.SUPPORT_TYPES)
def test_nothing_is_warned_while_standard_support_has_the_window_or_more_to_go(support):
    window = timedelta(days=ev.STANDARD_END_WARNING_DAYS)
    assert _warned(STD - window, support) == ()
    assert _warned(date(2026, 12, 7), support) == ()  # the day this was written: 110 days left
    (ahead,) = _warned(STD - window + DAY, support)
    assert f"standard support ends on {STD} (in {ev.STANDARD_END_WARNING_DAYS - 1} days" in ahead
    assert len(_warned(STD, support)) == 1


def test_ahead_of_the_end_a_standard_stack_is_told_aws_upgrades_it_and_how_to_stay():
    (message,) = _warned(AHEAD, ev.STANDARD)
    assert "With eksSupportType STANDARD, AWS then upgrades this control plane" in message
    assert "set celestials:eksVersion to 1.36" in message
    assert f"set celestials:eksSupportType EXTENDED before {STD}" in message
    assert "$0.60 instead of $0.10 per cluster-hour" in message


def test_ahead_of_the_end_an_extended_stack_is_told_the_price_and_until_when():
    (message,) = _warned(AHEAD, ev.EXTENDED)
    assert f"stays on 1.35 in extended support until {EXT}" in message
    assert "billed $0.60 instead of $0.10 per cluster-hour" in message
    assert "set celestials:eksVersion to 1.36" in message


def test_in_extended_support_the_warning_says_the_price_and_what_the_policy_does():
    (extended,) = _warned(IN_EXTENDED, ev.EXTENDED)
    assert f"1.35 is in extended support (standard support ended on {STD})" in extended
    assert "billed $0.60 instead of $0.10 per cluster-hour" in extended
    assert f"keeps it on 1.35 until {EXT} ({(EXT - IN_EXTENDED).days} days left as of {IN_EXTENDED})" in extended
    (standard,) = _warned(IN_EXTENDED, ev.STANDARD)
    assert "AWS upgrades this control plane to the next version by itself" in standard
    assert "asks EKS for a downgrade" in standard and "set celestials:eksVersion to 1.36" in standard


def test_without_rates_the_warning_points_at_the_price_data():
    (message,) = _warned(IN_EXTENDED, ev.EXTENDED, rates=None)
    assert "at the extended-support rate instead of the standard one (celestials/cost/prices.yaml)" in message


def test_past_extended_support_and_for_the_newest_version():
    (ended,) = _warned(EXT + DAY, ev.EXTENDED)
    assert ended.startswith(f"EKS no longer offers 1.35: its extended support ended on {EXT}")
    newest = ev.release(ev.known_versions()[-1])
    (message,) = _warned(newest.standard_support_ends, ev.STANDARD, version=newest.version)
    assert "once its row is in celestials/eks_versions.py" in message
