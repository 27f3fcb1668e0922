"""Config changes that must not wedge a running stack, on the whole program's synth for every
registered mesh backend:

* `nodeArchitecture`: every pod the stack runs (the apps', the gateways', every chart's) is pinned
  to the stack's architecture, so while a switch replaces the node group no pod lands on a node
  that cannot run its image; the switch moves every one of them and touches nothing else.
* `mtlsTrust`: the switch changes only front's client policies, never a pod, and front's proxy
  has the files of both trusts mounted in either state, so a running pod that receives the
  switched policy finds the file it names.
"""

from __future__ import annotations

import json
import posixpath

import pytest
import yaml

from celestials import pki
from celestials.local.stack import load_settings
from celestials.render.node_placement import ARCH_LABEL
from celestials.settings import NODE_ARCHITECTURES
from celestials.topology import colorapp
from components import mesh_backends
from synth.diff import diff_values
from synth.harness import ROOT, SynthResult, is_kubernetes_object
from tests.istio.istio_checks import REFERENCE
from tests.meshes.views import VIEWS
from tests.support.backend_synth import synth
from tools.reference import SKIP_HINT

BACKENDS = sorted(mesh_backends.BACKENDS)
RELEASE = "kubernetes:helm.sh/v3:Release"
#: Kinds whose objects make pods, and where their pod spec is.
POD_SPEC_PATHS = {kind: ("spec", "template", "spec") for kind in ("Deployment", "StatefulSet", "DaemonSet",
                                                                  "ReplicaSet", "Job")}
POD_SPEC_PATHS |= {"CronJob": ("spec", "jobTemplate", "spec", "template", "spec"), "Pod": ("spec",)}
#: Charts that install no pods, so they take no nodeSelector (Istio's `base`: its CRDs, cluster
#: roles and the default revision's webhook configuration).
POD_FREE_CHARTS = frozenset({"base"})
#: An instance type of each architecture that holds dev's workloads on dev's node count (both
#: 2 vCPUs / 4 GiB, 17 pods each; README "What it costs" prices them).
INSTANCE_OF = {"amd64": "t3.medium", "arm64": "t4g.medium"}


def _arch(stack: str) -> str:
    return load_settings(ROOT, stack).node_architecture


def _pod_spec(obj: dict) -> dict:
    node = obj
    for key in POD_SPEC_PATHS[obj["kind"]]:
        node = node[key]
    return node


def _pod_bearing(result: SynthResult) -> dict[str, dict]:
    """URN → the Kubernetes object, for every object that makes pods."""
    return {r["urn"]: r["inputs"] for r in result.resources
            if is_kubernetes_object(r) and r["inputs"].get("kind") in POD_SPEC_PATHS}


def _pod_releases(result: SynthResult) -> dict[str, dict]:
    """URN → the release's inputs, for every Helm release whose chart runs pods."""
    return {r["urn"]: r["inputs"] for r in result.by_type(RELEASE) if r["inputs"]["chart"] not in POD_FREE_CHARTS}


def _where(urn: str) -> str:
    return urn.rsplit("::", 1)[1]


# --- nodeArchitecture ----------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_pod_runs_on_the_stacks_architecture(backend, stack):
    result = synth(backend, stack)
    selector = {ARCH_LABEL: _arch(stack)}
    pods = _pod_bearing(result)
    assert any(o["kind"] == "Deployment" for o in pods.values())
    for urn, obj in pods.items():
        assert _pod_spec(obj).get("nodeSelector") == selector, _where(urn)
    releases = _pod_releases(result)
    assert {r["chart"] for r in releases.values()} >= {"opentelemetry-collector"}
    for urn, release in releases.items():
        assert release["values"].get("nodeSelector") == selector, _where(urn)


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_other_source_of_objects_could_hide_a_pod(backend):
    """Every Kubernetes resource is an object checked above, a release, or a file known to hold
    no pod: a new chart or manifest file cannot slip in unpinned."""
    result = synth(backend, "prod")
    others = [r for r in result.resources if r["type"].startswith("kubernetes:") and not is_kubernetes_object(r)
              and r["type"] != RELEASE and not r["type"].startswith("pulumi:providers:")]
    assert others == []  # every other object is applied as itself (the Gateway API bundle too), so seen above


def _switched(backend: str) -> tuple[str, str, SynthResult, SynthResult]:
    before = _arch("dev")
    [after] = [a for a in NODE_ARCHITECTURES if a != before]
    return before, after, synth(backend, "dev"), synth(backend, "dev", nodeArchitecture=after,
                                                         instanceType=INSTANCE_OF[after])


def _changes(base: SynthResult, head: SynthResult) -> dict[str, list]:
    """URN → the input changes (dependencies included), for every resource that differs."""
    old, new = {r["urn"]: r for r in base.resources}, {r["urn"]: r for r in head.resources}
    assert old.keys() == new.keys()
    out = {}
    for urn in old:
        changes = diff_values({"dependencies": old[urn]["dependencies"], **old[urn]["inputs"]},
                              {"dependencies": new[urn]["dependencies"], **new[urn]["inputs"]})
        if changes:
            out[urn] = changes
    return out


def _selector_change(changes: list, before: str, after: str) -> bool:
    label = json.dumps(ARCH_LABEL)
    return any(c.path.endswith(f"nodeSelector[{label}]") and (c.old, c.new) == (before, after) for c in changes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_architecture_switch_moves_every_pod_and_nothing_else(backend):
    """The blast radius of `nodeArchitecture`: the node group (a new AMI type and instance type,
    which replace it), every image (built for the other platform), every pod's selector; nothing
    else."""
    before, after, base, head = _switched(backend)
    changed = _changes(base, head)
    moved = {**_pod_bearing(base), **_pod_releases(base)}
    for urn in moved:
        assert urn in changed and _selector_change(changed[urn], before, after), _where(urn)
    types = {r["urn"]: r["type"] for r in base.resources}
    rest = {urn for urn in changed if urn not in moved}
    assert {types[urn] for urn in rest} == {"eks:index:ManagedNodeGroup", "docker-build:index:Image"}
    assert {urn for urn, t in types.items() if t == "docker-build:index:Image"} <= rest


# --- mtlsTrust -----------------------------------------------------------------------------------
#: What the trust switch may change on each backend: front's client policies, by (kind, name).
FRONTS_CLIENT_POLICIES = {
    "istio": {("DestinationRule", f"front-to-color-{c}") for c in colorapp.COLORS},
    "appmesh": {("VirtualNode", colorapp.FRONT)},
}


def test_every_backend_says_what_its_trust_switch_changes():
    assert set(FRONTS_CLIENT_POLICIES) == set(BACKENDS)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_trust_switch_changes_only_fronts_client_policies(backend):
    """No pod-bearing object changes (not its mounts, its certificate digest or its edges), so
    nothing restarts; only the policies that name front's trust file."""
    before, after = synth(backend, mtlsTrust="ca1"), synth(backend, mtlsTrust="ca1+ca2")
    changed = _changes(before, after)
    objects = {r["urn"]: r["inputs"] for r in before.resources if is_kubernetes_object(r)}
    assert set(changed) <= set(objects), [_where(u) for u in changed if u not in objects]
    assert {(objects[u]["kind"], objects[u]["metadata"]["name"]) for u in changed} == FRONTS_CLIENT_POLICIES[backend]
    trusts = {trust: pki.trust_file(colorapp.TRUSTS[trust]) for trust in ("ca1", "ca1+ca2")}
    for urn, changes in changed.items():  # each change: one trust file named instead of the other
        assert {(posixpath.basename(c.old), posixpath.basename(c.new)) for c in changes} == {
            (trusts["ca1"], trusts["ca1+ca2"])}, (_where(urn), changes)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_proxy_has_the_files_of_every_trust_state_mounted(backend):
    """What each TLS proxy has mounted is the same in every trust state and holds every file any
    state's policies name: a pod of one state serves the policies of any other."""
    views = {trust: VIEWS[backend].tls(synth(backend, mtlsTrust=trust).manifests) for trust in colorapp.TRUSTS}
    keys = {k for v in views.values() for k in v}
    assert (colorapp.NAMESPACE, colorapp.FRONT) in keys
    for key in keys:
        mounted = [v[key]["mounted"] for v in views.values()]
        assert all(m == mounted[0] for m in mounted), key
        named = set().union(*(v[key]["named"] for v in views.values()))
        assert named <= mounted[0], (key, named - mounted[0])
    front = [v[(colorapp.NAMESPACE, colorapp.FRONT)]["named"] for v in views.values()]
    assert front[0] != front[1]  # the states do name different files


# --- the charts' values --------------------------------------------------------------------------
@pytest.mark.parametrize("file,section", [
    ("istio-1.30/istiod-values.yaml", "_internal_defaults_do_not_set"),
    ("istio-1.31/istiod-values.yaml", "_internal_defaults_do_not_set"),
    ("appmesh/chart-values-1.13.3.yaml", None),
])
def test_each_chart_takes_a_top_level_node_selector(file, section):
    """The key the components set is the one the chart reads (Helm ignores an unknown key, and
    the pods would float). The opentelemetry-collector chart's values are not stored here; its
    values.yaml has a top-level `nodeSelector: {}` (open-telemetry/opentelemetry-helm-charts,
    charts/opentelemetry-collector/values.yaml)."""
    path = REFERENCE / file
    if not path.exists():
        pytest.skip(f"{path} is absent ({SKIP_HINT})")
    values = yaml.safe_load(path.read_text())
    if section:
        values = values[section]
    assert values["nodeSelector"] == {}
