"""The whole program (__main__.py) under the synth harness: wherever the mTLS material ends up,
no private key is in any registered input, manifest or stack output."""

from __future__ import annotations

import json

import pytest

from components.mtls_provider import RESOURCE_TYPE
from synth.harness import SECRET, quiet, synth_stack


@pytest.fixture(scope="module", params=["ca1", "ca1+ca2"])
def program(request):
    with quiet():
        return synth_stack("dev", {"mtlsTrust": request.param})


def test_no_private_key_anywhere_in_the_synth(program):
    dumped = json.dumps({"resources": program.resources, "manifests": program.manifests,
                         "outputs": program.outputs}, default=str)
    assert "PRIVATE KEY" not in dumped
    (material,) = program.by_type(RESOURCE_TYPE)
    assert set(material["additionalSecretOutputs"]) == {"private_keys", "ca_private_keys"}
    secrets = [r for r in program.by_type("kubernetes:core/v1:Secret")
               if r["inputs"]["metadata"].get("namespace") == "mtls"]
    assert len(secrets) == 4 and all(s["inputs"]["data"] == SECRET for s in secrets)
