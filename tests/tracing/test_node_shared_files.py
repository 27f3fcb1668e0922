"""The Node apps build from their own directories, so tracing and lifecycle code is copied, not shared:
the copies must stay identical."""

from pathlib import Path

import pytest

APPS = Path(__file__).resolve().parents[2] / "apps"


@pytest.mark.parametrize("name", ["tracing.js", "lifecycle.js"])
def test_node_apps_carry_identical_copies(name):
    proddetail = (APPS / "proddetail" / name).read_bytes()
    frontend = (APPS / "frontend-node" / name).read_bytes()
    assert proddetail == frontend, f"apps/proddetail/{name} and apps/frontend-node/{name} differ"
