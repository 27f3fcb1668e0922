"""Fixtures for the App Mesh backend tests: the rendered objects (pure), the backend evaluated
under Pulumi mocks, and the upstream CRD schemas (skipped with a reason when absent)."""

from __future__ import annotations

import pytest

from celestials.settings import parse_settings
from celestials.topology import build_topology
from tests.appmesh import mesh_checks
from tests.appmesh.program import evaluate_backend
from tools.reference import SKIP_HINT


@pytest.fixture(scope="session")
def crd_validators():
    if not mesh_checks.CRDS.exists():
        pytest.skip(f"{mesh_checks.CRDS} is absent ({SKIP_HINT}): "
                    "App Mesh CRD schema checks need the upstream CRDs")
    return mesh_checks.load_crd_validators()


@pytest.fixture(scope="session")
def settings():
    return parse_settings({"appMeshEndOfSupportAcknowledged": True}, "dev")


@pytest.fixture(scope="session")
def topology(settings):
    return build_topology(settings)


@pytest.fixture(scope="session")
def backend():
    """The App Mesh backend (default settings) under Pulumi's mock runtime."""
    return evaluate_backend()
