"""The backend seam: a mesh backend is a class in `components.mesh_backends.BACKENDS`, selected by
`celestials:meshBackend`, checked once before any resource, and wired by __main__.py with nothing
backend-specific. A fake backend registered here (and nowhere else) proves it: the whole program
runs on it without any other change."""

from __future__ import annotations

import pulumi
import pytest

from celestials.capacity import MeshOverhead, Requests, Sidecars
from components import mesh_backends
from components.mesh_backend import MeshBackendArgs, MeshIdentityArgs, ingress_url
from synth.harness import quiet, synth_stack

CALLS: list[str] = []


class _FakeIdentity:
    def sidecar_policy_arns(self, namespace: str) -> tuple:
        return ()


class _FakeMesh(pulumi.ComponentResource):
    def __init__(self, name: str, args: MeshBackendArgs, opts=None):
        super().__init__("celestials:fake:Backend", name, None, opts)
        self.mesh_names = [m.name for m in args.topology.meshes]
        self.ingress_hostname = pulumi.Output.from_input("fake-nlb.example")
        self.ingress_url = ingress_url(self.ingress_hostname)
        self.seen_collector = args.collector
        self.register_outputs({})


class FakeBackend:
    def check(self, settings) -> None:
        CALLS.append("check")
        if settings.canary_weight == 13:
            raise ValueError("the fake backend refuses canaryWeight 13")

    def capacity_overhead(self, settings) -> MeshOverhead:
        CALLS.append("capacity_overhead")
        return MeshOverhead(sidecars=Sidecars(containers=(Requests(1, 1),)))

    def create_identity(self, name: str, args: MeshIdentityArgs, opts=None) -> _FakeIdentity:
        CALLS.append("create_identity")
        return _FakeIdentity()

    def create(self, name: str, args: MeshBackendArgs, opts=None) -> _FakeMesh:
        CALLS.append("create")
        return _FakeMesh(name, args, opts)


@pytest.fixture
def fake_registered(monkeypatch):
    CALLS.clear()
    monkeypatch.setattr(mesh_backends, "BACKENDS", {**mesh_backends.BACKENDS, "fake": FakeBackend})
    yield


def test_a_registered_backend_runs_the_whole_program_with_no_other_change(fake_registered):
    with quiet():
        result = synth_stack("dev", {"meshBackend": "fake"})
    assert CALLS == ["check", "capacity_overhead", "create_identity", "create"]  # check once, first
    assert result.outputs["ingressUrl"] == "http://fake-nlb.example/"
    assert result.by_type("celestials:fake:Backend")
    # the shared parts stay the program's: cluster, images, collector, product table
    for shared in ("eks:index:Cluster", "celestials:tracing:Collector", "celestials:catalog:CatalogTable"):
        assert result.by_type(shared), shared


def test_a_backend_refusal_comes_before_any_resource(fake_registered):
    with pytest.raises(ValueError, match="refuses canaryWeight 13") as err, quiet():
        synth_stack("dev", {"meshBackend": "fake", "canaryWeight": "13"})
    assert err.value.synth_registrations == []
    assert CALLS == ["check"]


def test_every_registered_backend_implements_the_protocol():
    for name, backend_class in mesh_backends.BACKENDS.items():
        for method in ("check", "capacity_overhead", "create_identity", "create"):
            assert callable(getattr(backend_class, method, None)), f"{name} lacks {method}"
