"""Fixtures for the Istio renderer tests: the rendered manifests (default settings) and the
upstream CRD schemas (skipped with a reason when ../shared/reference is absent)."""

from __future__ import annotations

import pytest

from tests.istio import istio_checks
from tests.istio.rendering import render_all
from tools.reference import SKIP_HINT


@pytest.fixture(scope="session")
def istio_validators():
    missing = [p for p in (istio_checks.ISTIO_CRDS, istio_checks.GATEWAY_API_CRDS) if not p.exists()]
    if missing:
        pytest.skip(f"{', '.join(map(str, missing))} absent ({SKIP_HINT}): "
                    "the Istio and Gateway API CRD schema checks need the upstream CRDs")
    return istio_checks.load_validators(istio_checks.ISTIO_CRDS, istio_checks.GATEWAY_API_CRDS)


@pytest.fixture(scope="session")
def manifests():
    return render_all()


@pytest.fixture(scope="session")
def rendered(manifests):
    return [m.obj for m in manifests]
