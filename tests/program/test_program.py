"""The real __main__.py under the mock runtime: determinism, secrets, ordering, providers."""

from __future__ import annotations

import json
import re

import pytest

from celestials.local.stack import load_settings
from celestials.settings import SettingsError
from celestials.topology import build_topology
from synth.harness import ROOT, SECRET, quiet, synth_stack

STACKS = ("dev", "prod")


@pytest.fixture(scope="module", params=STACKS)
def result(request):
    with quiet():
        return synth_stack(request.param)


def _evaluate(stack, overrides=None):
    with quiet():
        return synth_stack(stack, overrides)


@pytest.mark.parametrize("stack", STACKS)
def test_two_evaluations_give_identical_inputs(stack):
    first, second = _evaluate(stack), _evaluate(stack)
    assert json.dumps(first.resources, sort_keys=True) == json.dumps(second.resources, sort_keys=True)
    assert first.outputs == second.outputs


@pytest.mark.parametrize("overrides,key", [
    ({"canaryWeight": "150"}, "canaryWeight"),
    ({"nodeCount": "0"}, "nodeCount"),
    ({"meshBackend": "consul"}, "meshBackend"),
    ({"vpcCidr": "10.0.0.0/40"}, "vpcCidr"),
    ({"typoKey": "1"}, "typoKey"),
    ({"aws:regoin": "eu-west-1"}, "aws:regoin"),
    ({"celestial:canaryWeight": "10"}, "celestial:canaryWeight"),
    ({"aws:region": "xx-nowhere-9"}, "aws:region"),
])
def test_bad_config_fails_before_any_resource(overrides, key):
    with pytest.raises(SettingsError) as err:
        _evaluate("dev", overrides)
    assert err.value.key == key
    assert err.value.synth_registrations == []


#: What every stack's program must create, by type (the platform; each backend's own objects are
#: checked by tests/appmesh and tests/istio, and the expectation suite in tests/meshes).
REQUIRED_TYPES = {
    "celestials:network:Network": 1, "aws:ec2/vpc:Vpc": 1, "celestials:cluster:Cluster": 1,
    "eks:index:Cluster": 1, "pulumi:providers:kubernetes": 1, "celestials:images:Images": 1,
    "docker-build:index:Image": 6, "aws:ecr/repository:Repository": 5, "celestials:tracing:Collector": 1,
    "celestials:catalog:CatalogTable": 1, "aws:dynamodb/table:Table": 1, "celestials:mtls:MtlsCertificates": 1,
}


def test_program_creates_the_platform(result):
    counts = {t: len(result.by_type(t)) for t in REQUIRED_TYPES}
    assert counts == REQUIRED_TYPES
    deployments = {(d["metadata"]["namespace"], d["metadata"]["name"]) for d in result.manifests
                   if d["kind"] == "Deployment"}
    settings = load_settings(ROOT, result.stack)
    assert {(m.namespace, w.name) for m in build_topology(settings).meshes for w in m.workloads} <= deployments
    assert set(result.outputs) == {"ingressUrl", "meshNames", "clusterName", "kubeconfig", "images", "imageBuilds",
                                   "capacity"}
    assert result.outputs["meshNames"] == ["prodcatalog-mesh", "mtls-mesh"]


#: Key material as it is written (a PEM block's header), not prose about keys (the Gateway API CRDs'
#: descriptions speak of "private keys").
_PRIVATE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|client-key-data|BEGIN OPENSSH|aws_secret_access_key", re.I)
_SECRET_FIELDS = re.compile(r"^(password|privateKey|private_key|kubeconfig|token|secret_?key|.*\.key|key\.pem|tls\.key)$", re.I)


def _walk(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, path + (str(k),))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, path + (str(i),))
    else:
        yield path, value


def test_no_secret_in_plain_inputs(result):
    leaks = []
    for r in result.resources:
        for path, value in _walk(r["inputs"]):
            if isinstance(value, str) and _PRIVATE.search(value):
                leaks.append((r["urn"], "/".join(path)))
            is_file_path = isinstance(value, str) and value.startswith("/") and "\n" not in value
            if path and _SECRET_FIELDS.match(path[-1]) and value not in (SECRET, None, "[unknown]") \
                    and not is_file_path:
                leaks.append((r["urn"], "/".join(path)))
    assert not leaks, f"secret material in plain inputs: {leaks}"


def test_kubeconfig_output_is_secret(result):
    assert result.outputs["kubeconfig"] == SECRET


def test_written_synth_output_has_no_secret(result, tmp_path):
    from synth.__main__ import write

    write(result, tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert not _PRIVATE.search(text), f"{path.relative_to(tmp_path)} holds private material"
            assert "mock-ecr-password" not in text


def test_every_kubernetes_resource_uses_the_explicit_provider(result):
    providers = {r["urn"] for r in result.resources if r["type"] == "pulumi:providers:kubernetes"}
    k8s = [r for r in result.resources if r["type"].startswith("kubernetes:")]
    assert k8s, "the program creates no Kubernetes resources"
    assert providers, "Kubernetes resources exist but no explicit Kubernetes provider"
    wrong = [r["urn"] for r in k8s if r["provider"] not in providers]
    assert not wrong, f"on the default (ambient kubeconfig) provider: {wrong}"


def test_images_do_not_wait_for_the_cluster(result):
    images = [r for r in result.resources
              if r["type"] in ("docker-build:index:Image", "aws:ecr/repository:Repository")]
    cluster = [r["urn"] for r in result.resources if r["type"].startswith("eks:")
               or r["type"] == "aws:eks/cluster:Cluster"]
    assert images and cluster, "the program has no images or no cluster"
    for image in images:
        for c in cluster:
            assert not result.depends_on(image["urn"], c), f"{image['urn']} waits for {c}"
            assert c not in result.ancestors(image["urn"])


def test_workloads_that_do_not_fit_fail_before_any_resource():
    from celestials.capacity import CapacityError

    with pytest.raises(CapacityError) as err:
        _evaluate("dev", {"instanceType": "t3.medium"})
    assert "celestials:instanceType" in str(err.value)
    assert err.value.synth_registrations == []


def test_unacknowledged_app_mesh_fails_before_any_resource():
    with pytest.raises(ValueError) as err:
        _evaluate("dev", {"meshBackend": "appmesh"})
    assert "2026-09-30" in str(err.value)
    assert err.value.synth_registrations == []


def test_every_key_the_runtime_holds_is_accounted_for():
    """Keys set with `pulumi config set` reach the program through the runtime, not the stack
    file: a provider key is accepted, a typo is refused naming it, a secret value stays hidden."""
    from components.stack_settings import load_settings
    from synth.harness import evaluate

    with quiet():
        stated = {"aws:region": "eu-west-1", "celestials:production": "false"}
        evaluate(load_settings, config={**stated, "aws:profile": "sandbox"})
        with pytest.raises(SettingsError) as err:
            evaluate(load_settings, config={**stated, "aws:secretKye": "hunter2"},
                     secret_keys=["aws:secretKye"])
    assert str(err.value).startswith("invalid stack config aws:secretKye = '[secret]': not a config key "
                                      "of the aws provider (did you mean aws:secretKey?)")
