"""The certificates component under Pulumi's mock runtime (synth harness): the contract's Secrets,
their file names, secrets end to end, determinism, and the trust switch not reissuing anything."""

from __future__ import annotations

import base64
import hashlib
import json

import pulumi
import pulumi_kubernetes as k8s
import pytest

from celestials import pki
from celestials.settings import parse_settings
from celestials.topology import build_topology, colorapp
from components.mtls_certificates import MtlsCertificates, MtlsCertificatesArgs, _public_digest
from components.mtls_provider import RESOURCE_TYPE, placeholder_outputs
from synth.harness import SECRET, evaluate, quiet
from synth.mocks import CelestialsMocks

SECRET_TYPE = "kubernetes:core/v1:Secret"


class RecordingMocks(CelestialsMocks):
    """Keeps the decoded inputs (secrets included) the harness redacts, to check Secret contents."""

    def __init__(self):
        self.inputs: dict[str, dict] = {}

    def new_resource(self, args):
        self.inputs[args.name] = _unwrap(dict(args.inputs))
        return super().new_resource(args)


_SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


def _unwrap(value):
    """Mock inputs keep secrets as {sig: secret, value: ...}; this test wants the values."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIG[0]) == _SECRET_SIG[1]:
            return _unwrap(value["value"])
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def program(config: dict | None = None):
    def run():
        settings = parse_settings(config or {}, "dev")
        mesh = build_topology(settings).mesh_in(colorapp.NAMESPACE)
        provider = k8s.Provider("k8s", kubeconfig="{}", opts=pulumi.ResourceOptions())
        certs = MtlsCertificates("mtls-certs", MtlsCertificatesArgs.for_mesh(mesh, settings, "mtls", provider))
        pulumi.export("secretDigests", certs.secret_digests)
        pulumi.export("caCertificates", certs.ca_certificates)
        pulumi.export("notAfter", certs.not_after)
    return run


def synth(config: dict | None = None, mocks=None):
    with quiet():
        return evaluate(program(config), mocks=mocks)


@pytest.fixture(scope="module")
def result():
    return synth()


def test_component_tree_and_explicit_provider(result):
    (component,) = result.by_type("celestials:mtls:MtlsCertificates")
    (material,) = result.by_type(RESOURCE_TYPE)
    assert material["name"] == "mtls-certs-material" and material["parent"] == component["urn"]
    secrets = result.by_type(SECRET_TYPE)
    assert sorted(s["inputs"]["metadata"]["name"] for s in secrets) == sorted(s.name for s in colorapp.TLS_SECRETS)
    for s in secrets:
        assert s["parent"] == component["urn"]
        assert s["name"] == f"mtls-certs-{s['inputs']['metadata']['name']}"
        assert s["provider"] and s["provider"].endswith("::k8s")
        assert s["inputs"]["metadata"]["namespace"] == "mtls"
        assert s["inputs"]["type"] == "Opaque"


def test_private_keys_are_secret_everywhere(result):
    (material,) = result.by_type(RESOURCE_TYPE)
    assert set(material["additionalSecretOutputs"]) == {"private_keys", "ca_private_keys"}
    # the resource's inputs are the plan and parameters only; the pickled provider is secret too
    inputs = {k: v for k, v in material["inputs"].items() if v is not None}
    assert set(inputs) == {"plan", "params", "__provider"} and inputs["__provider"] == SECRET
    for s in result.by_type(SECRET_TYPE):
        assert s["inputs"]["data"] == SECRET
    dumped = json.dumps({"resources": result.resources, "outputs": result.outputs})
    assert "PRIVATE KEY" not in dumped
    assert "PRIVATE KEY" not in json.dumps(result.manifests)


def test_secret_files_are_the_paths_the_mesh_objects_reference():
    mocks = RecordingMocks()
    synth(mocks=mocks)
    fake = placeholder_outputs(mocks.inputs["mtls-certs-material"])
    files = {**fake["certificates"], **fake["private_keys"]}
    mesh = build_topology(parse_settings({}, "dev")).mesh_in(colorapp.NAMESPACE)
    for secret in colorapp.TLS_SECRETS:
        data = mocks.inputs[f"mtls-certs-{secret.name}"]["data"]
        decoded = {k: base64.b64decode(v).decode() for k, v in data.items()}
        assert decoded == {name: files[name] for name in secret.files}
    # and every path a workload's proxy is told to read is a file of the Secrets it mounts
    for w in mesh.workloads:
        mount = colorapp.tls_mount(w)
        paths = colorapp.tls_files(w, "/mounted")
        if not mount:
            assert paths == {} and colorapp.mounted_files(w) == ()
            continue
        assert {p.rsplit("/", 1)[0] for p in paths.values()} == {"/mounted"}
        assert {p.rsplit("/", 1)[1] for p in paths.values()} <= set(colorapp.mounted_files(w))
        assert set(colorapp.mounted_files(w)) == {f for s in mount for f in s.files}
    assert fake["ca_private_keys"] and not any(k in f for f in (s.files for s in colorapp.TLS_SECRETS)
                                               for k in fake["ca_private_keys"])


def test_a_mount_digest_changes_with_every_public_file_it_mounts():
    """The pod annotation that rolls front on a reissue covers its chain and both trust files
    (front mounts both), and a single Secret's is what it always was: chain and trust."""
    front = colorapp.tls_mount(next(w for w in build_topology(parse_settings({}, "dev")).mesh_in(colorapp.NAMESPACE)
                                    .workloads if w.name == colorapp.FRONT))
    files = {f: f"pem of {f}" for s in front for f in s.files if not f.endswith("_key.pem")}
    digest = _public_digest(front, files)
    for f in files:
        assert _public_digest(front, {**files, f: "reissued"}) != digest, f
    [ca1_secret, _] = front
    _, chain, trust = ca1_secret.files
    assert _public_digest((ca1_secret,), files) == hashlib.sha256((files[chain] + files[trust]).encode()).hexdigest()[:16]


def test_two_evaluations_register_identical_inputs(result):
    def canonical(r):
        return json.dumps(sorted(r.resources, key=lambda x: x["urn"]), sort_keys=True)
    assert canonical(synth()) == canonical(result)


def test_the_trust_switch_leaves_the_material_alone(result):
    switched = synth({"mtlsTrust": "ca1+ca2"})
    before = result.by_type(RESOURCE_TYPE)[0]["inputs"]
    after = switched.by_type(RESOURCE_TYPE)[0]["inputs"]
    assert before == after  # same inputs → the provider's diff reports no change → nothing reissued


def test_rotation_settings_reach_the_resource_inputs():
    rotated = synth({"tlsRotation": 2, "tlsRotateCas": True, "tlsKeyAlgorithm": "ecdsa-p256"})
    params = rotated.by_type(RESOURCE_TYPE)[0]["inputs"]["params"]
    assert params == {**pki.PkiParams().to_dict(), "rotation": 2, "rotate_cas": True, "key_algorithm": "ecdsa-p256"}


def test_outputs_are_public_material_only(result):
    assert set(result.outputs["secretDigests"]) == {s.name for s in colorapp.TLS_SECRETS}
    assert set(result.outputs["caCertificates"]) == {"ca1_cert.pem", "ca2_cert.pem"}
    assert set(result.outputs["notAfter"]) == {"ca1", "ca2", "front", "colorapp-blue", "colorapp-green"}


def test_a_secret_that_needs_material_the_plan_lacks_is_refused():
    def run():
        settings = parse_settings({}, "dev")
        mesh = build_topology(settings).mesh_in(colorapp.NAMESPACE)
        args = MtlsCertificatesArgs.for_mesh(mesh, settings, "mtls", k8s.Provider("k8s", kubeconfig="{}"))
        args.secrets = (colorapp.TlsSecret("x-tls", "front", ("ca2", "ca1")),)
        MtlsCertificates("mtls-certs", args)
    with quiet(), pytest.raises(Exception, match="needs the bundle ca2\\+ca1"):
        evaluate(run)
