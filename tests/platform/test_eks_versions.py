"""The EKS version table (issue 13.6): offered versions follow support dates; every offered
version pins every add-on."""

from datetime import date

import pytest

from celestials import eks_versions as ev
from celestials.settings import SettingsError, parse_settings


def test_1_34_is_no_longer_offered_at_the_end_of_2026():
    assert ev.offered_versions(date(2026, 11, 30)) == ("1.35", "1.36")
    with pytest.raises(SettingsError, match="eksVersion.*one of 1.35, 1.36"):
        parse_settings({"eksVersion": "1.34"}, "dev")


def test_offered_versions_follow_their_dates():
    assert "1.34" in ev.offered_versions(date(2026, 9, 1))      # 92 days left
    assert "1.34" not in ev.offered_versions(date(2026, 9, 4))  # 89 days left
    assert ev.offered_versions(date(2027, 4, 1)) == ("1.36",)


def test_every_release_pins_every_add_on_with_an_eks_build():
    for r in ev.RELEASES:
        assert set(r.addons) == set(ev.ADDONS), r.version
        for name, version in r.addons.items():
            assert version.startswith("v") and "-eksbuild." in version, (r.version, name)
        assert r.addons["kube-proxy"].startswith(f"v{r.version}."), "kube-proxy follows the cluster minor"
    assert [r.version for r in ev.RELEASES] == sorted(r.version for r in ev.RELEASES)
