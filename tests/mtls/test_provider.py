"""The dynamic provider that keeps the material in state (components/mtls_provider.py).

Mocks never run providers, so its create/diff/update are tested here twice: as plain Python with
a clock the test moves, and through a real `python -m pulumi.dynamic` process (what the Pulumi
engine starts, with the project directory as working directory) over gRPC, with the pickled
provider exactly as the program registers it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from celestials import pki
from components.mtls_provider import (OUTPUTS, RESOURCE_TYPE, SECRET_OUTPUTS, MtlsMaterial, MtlsMaterialProvider,
                                      placeholder_outputs)

ROOT = Path(__file__).resolve().parents[2]
FAST = pki.PkiParams(key_algorithm="ecdsa-p256")


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def inputs(plan: pki.PkiPlan, params: pki.PkiParams = FAST) -> dict:
    return {"plan": plan.to_dict(), "params": params.to_dict()}


@pytest.fixture
def clock(fixed_now):
    return Clock(fixed_now)


@pytest.fixture
def created(plan, clock):
    provider = MtlsMaterialProvider(now=clock)
    result = provider.create(inputs(plan))
    return provider, result


def test_create_outputs_every_file_with_keys_only_in_the_secret_outputs(created, plan):
    _, result = created
    outs = result.outs
    assert set(outs) == {"plan", "params", *OUTPUTS}
    assert result.id.startswith("mtls-material-")
    public = {k: v for k, v in outs.items() if k not in SECRET_OUTPUTS}
    assert "PRIVATE KEY" not in repr(public)
    assert set(outs["private_keys"]) == {"front_key.pem", "colorapp-blue_key.pem", "colorapp-green_key.pem"}
    assert set(outs["ca_private_keys"]) == {"ca1_key.pem", "ca2_key.pem"}
    assert outs["issued"]["plan"] == plan.to_dict() and outs["rotation_reasons"] == ["first issue"]


def test_same_inputs_later_are_no_change(created, plan, clock):
    provider, result = created
    clock.now += timedelta(days=300)
    assert provider.diff(result.id, result.outs, inputs(plan)).changes is False


def test_nearing_expiry_is_a_change_and_the_update_renews_leaves_keeping_cas(created, plan, clock):
    provider, result = created
    clock.now += timedelta(days=340)
    diff = provider.diff(result.id, result.outs, inputs(plan))
    assert diff.changes is True and not diff.replaces  # an update in place: same resource, new leaves
    outs = provider.update(result.id, result.outs, inputs(plan)).outs
    for ca in ("ca1", "ca2"):
        assert outs["certificates"][f"{ca}_cert.pem"] == result.outs["certificates"][f"{ca}_cert.pem"]
        assert outs["ca_private_keys"][f"{ca}_key.pem"] == result.outs["ca_private_keys"][f"{ca}_key.pem"]
    for leaf in ("front", "colorapp-blue", "colorapp-green"):
        assert outs["certificates"][f"{leaf}_cert.pem"] != result.outs["certificates"][f"{leaf}_cert.pem"]
        assert outs["private_keys"][f"{leaf}_key.pem"] != result.outs["private_keys"][f"{leaf}_key.pem"]
    assert any("rotation window" in r for r in outs["rotation_reasons"])
    assert provider.diff(result.id, outs, inputs(plan)).changes is False  # settled


@pytest.mark.parametrize("params, cas_rotate", [
    (pki.PkiParams(key_algorithm="ecdsa-p256", rotation=1), False),
    (pki.PkiParams(key_algorithm="ecdsa-p256", rotation=1, rotate_cas=True), True),
])
def test_rotation_setting_renews_leaves_and_cas_only_when_asked(created, plan, params, cas_rotate):
    provider, result = created
    assert provider.diff(result.id, result.outs, inputs(plan, params)).changes is True
    outs = provider.update(result.id, result.outs, inputs(plan, params)).outs
    same_ca = outs["certificates"]["ca1_cert.pem"] == result.outs["certificates"]["ca1_cert.pem"]
    assert same_ca is not cas_rotate
    assert outs["certificates"]["front_cert.pem"] != result.outs["certificates"]["front_cert.pem"]
    assert outs["issued"]["rotation"] == 1


def test_check_refuses_bad_inputs(plan):
    provider = MtlsMaterialProvider()
    assert provider.check({}, inputs(plan)).failures == []
    assert [f.property for f in provider.check({}, {"plan": plan.to_dict()}).failures] == ["params"]
    bad = inputs(plan)
    bad["plan"]["leaves"][0]["ca"] = "ca9"
    (failure,) = provider.check({}, bad).failures
    assert "ca9" in failure.reason


def test_placeholder_outputs_have_the_real_shape(created, plan):
    _, result = created
    fake = placeholder_outputs(inputs(plan))
    assert set(fake) == set(OUTPUTS)
    for key in ("certificates", "private_keys", "ca_private_keys", "not_after", "fingerprints"):
        assert set(fake[key]) == set(result.outs[key]), key
    assert all("SYNTH-PLACEHOLDER" in v for v in fake["private_keys"].values())


def test_resource_declares_its_type_and_secret_outputs():
    assert MtlsMaterial._resource_type_name == "dynamic/celestials:MtlsMaterial"
    assert RESOURCE_TYPE == f"pulumi-python:{MtlsMaterial._resource_type_name}"
    assert set(SECRET_OUTPUTS) == {"private_keys", "ca_private_keys"}


# --- the real provider process -----------------------------------------------------------------
def _struct(props: dict):
    # A private loop, as the provider process does: asyncio.run would unset the thread's loop,
    # which the Pulumi mock runtime of later tests relies on.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def _plain(struct) -> dict:
    return rpc.deserialize_properties(struct)


@pytest.fixture(scope="module")
def provider_process():
    """`python -m pulumi.dynamic` as the engine runs it: cwd = the project, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.dynamic"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = int(proc.stdout.readline().decode().strip() or 0)
        assert port, proc.stderr.read().decode()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield provider_pb2_grpc.ResourceProviderStub(channel)
        channel.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_engine_path_create_diff_update(provider_process, plan):
    urn = f"urn:pulumi:dev::celestials::{RESOURCE_TYPE}::mtls-material"
    serialized = serialize_provider(MtlsMaterialProvider())
    news = {**inputs(plan), "__provider": serialized}
    created = provider_process.Create(provider_pb2.CreateRequest(urn=urn, properties=_struct(news)), timeout=60)
    outs = _plain(created.properties)
    assert created.id.startswith("mtls-material-")
    assert set(outs["private_keys"]) == {"front_key.pem", "colorapp-blue_key.pem", "colorapp-green_key.pem"}
    material = pki.Material.from_files(outs["issued"], outs["certificates"], outs["private_keys"], outs["ca_private_keys"])
    pki.verify_leaf(material.leaf("front").cert_pem, material.trust_pem(["ca1"]), purpose="client",
                    dns_name="front.mtls.svc.cluster.local")

    same = provider_process.Diff(provider_pb2.DiffRequest(id=created.id, urn=urn, olds=created.properties,
                                                          news=_struct(news)), timeout=60)
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE

    bumped = {**inputs(plan, pki.PkiParams(key_algorithm="ecdsa-p256", rotation=1)), "__provider": serialized}
    diff = provider_process.Diff(provider_pb2.DiffRequest(id=created.id, urn=urn, olds=created.properties,
                                                          news=_struct(bumped)), timeout=60)
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and not diff.replaces
    updated = _plain(provider_process.Update(provider_pb2.UpdateRequest(
        id=created.id, urn=urn, olds=created.properties, news=_struct(bumped)), timeout=60).properties)
    assert updated["certificates"]["ca1_cert.pem"] == outs["certificates"]["ca1_cert.pem"]
    assert updated["certificates"]["front_cert.pem"] != outs["certificates"]["front_cert.pem"]
    assert updated["issued"]["rotation"] == 1
