"""Shared material for the mTLS tests: the colorapp mesh's PKI plan, issued once per session with
the same function the Pulumi resource and the local rehearsal call."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from celestials import pki
from celestials.settings import parse_settings
from celestials.topology import build_topology, colorapp

#: A fixed clock for the rotation rules (the handshake tests use the real one: TLS checks validity).
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def _mesh_for(**config):
    return build_topology(parse_settings(config, "dev")).mesh_in(colorapp.NAMESPACE)


@pytest.fixture(scope="session")
def mesh_for():
    """The mtls mesh for stack config values, e.g. mesh_for(mtlsTrust="ca1+ca2")."""
    return _mesh_for


@pytest.fixture(scope="session")
def fixed_now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def plan() -> pki.PkiPlan:
    return colorapp.pki_plan(_mesh_for())


@pytest.fixture(scope="session")
def material(plan) -> pki.Material:
    """Issued now (real clock), default settings: what a first `pulumi up` would create."""
    return pki.issue(plan, pki.PkiParams(), datetime.now(timezone.utc))


@pytest.fixture(scope="session")
def pki_dir(material, tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    pki.write_material(material, directory)
    return directory
