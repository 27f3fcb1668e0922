"""The Istio backend in the whole program (`make synth STACK=<stack>`, the real __main__.py, Istio
being the stacks' backend): schema, chart values, the creation and deletion order a real cluster
needs, and what a weight change or a trust switch changes."""

from __future__ import annotations

from functools import lru_cache

import pytest
import yaml

from celestials.artifacts import GATEWAY_API, ISTIO
from synth.harness import SynthResult, quiet, synth_stack
from tests.appmesh.mesh_checks import name, ns
from tests.istio import istio_checks
from tests.istio.istio_checks import GATEWAY_API_GROUP, ISTIO_GROUPS, group_of
from tests.support.chart_values import LABEL_MAPS, unknown_keys
from tools.reference import SKIP_HINT

RELEASE = "kubernetes:helm.sh/v3:Release"
VALUES = istio_checks.REFERENCE / f"istio-{ISTIO.minor}"
GATEWAY_API_TYPES = ("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
                     "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
                     "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding")


def _gateway_api(stack) -> list[dict]:
    return [r for t in GATEWAY_API_TYPES for r in stack.by_type(t)]


@lru_cache(maxsize=None)
def synth(stack: str = "dev", **overrides: str) -> SynthResult:
    with quiet():
        return synth_stack(stack, overrides)


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request):
    return synth(request.param)


def _k8s(result: SynthResult) -> dict[tuple, dict]:
    """(kind, namespace, name) → registered resource, for every Kubernetes object."""
    out = {}
    for r in result.resources:
        if r["custom"] and r["type"].startswith("kubernetes:") and "kind" in r["inputs"]:
            meta = r["inputs"]["metadata"]
            out[(r["inputs"]["kind"], meta.get("namespace"), meta["name"])] = r
    return out


def _one(result: SynthResult, typ: str, **match) -> dict:
    [r] = [r for r in result.by_type(typ) if all(r["inputs"].get(k) == v for k, v in match.items())]
    return r


def test_the_stacks_deploy_istio(stack):
    assert stack.by_type("celestials:istio:Backend") and not stack.by_type("celestials:appmesh:Backend")
    assert stack.outputs["ingressUrl"].startswith("http://ingress-gw-")


def test_every_istio_and_gateway_api_object_validates(stack, istio_validators):
    objects = istio_checks.custom_objects(stack.manifests)
    assert {group_of(o) for o in objects} == {*ISTIO_GROUPS[:3], GATEWAY_API_GROUP}
    assert istio_checks.crd_problems(stack.manifests, istio_validators) == []


def test_control_plane_is_pinned_to_one_istio_patch_and_the_gateway_api_bundle(stack):
    base = _one(stack, RELEASE, chart="base")["inputs"]
    istiod = _one(stack, RELEASE, chart="istiod")["inputs"]
    for release in (base, istiod):
        assert release["version"] == ISTIO.version and release["repositoryOpts"] == {"repo": ISTIO.chart_repository}
        assert release["namespace"] == "istio-system" and release["skipAwait"] is False
    assert (istiod["values"]["global"]["hub"], istiod["values"]["global"]["tag"]) == (ISTIO.image_hub, ISTIO.version)
    objects = _gateway_api(stack)
    assert {r["inputs"]["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] for r in objects} \
        == {GATEWAY_API.tag}
    assert sorted(r["inputs"]["metadata"]["name"] for r in objects) == sorted([
        *(f"{f.name.removeprefix('gateway.networking.k8s.io_').removesuffix('.yaml')}.gateway.networking.k8s.io"
          for f in GATEWAY_API.files if "vap_" not in f.name), *["safe-upgrades.gateway.networking.k8s.io"] * 2])
    assert stack.by_type("kubernetes:yaml/v2:ConfigFile") == []  # nothing fetched by the provider


def test_istiod_sets_only_what_a_feature_needs(stack):
    values = _one(stack, RELEASE, chart="istiod")["inputs"]["values"]
    assert values["env"] == {"ENABLE_TLS_ON_SIDECAR_INGRESS": "true"}  # the mTLS demo's server side
    [provider] = values["meshConfig"]["extensionProviders"]
    assert provider == {"name": "otel-tracing", "opentelemetry": {
        "service": "otel-collector.observability.svc.cluster.local", "port": 4317}}


@pytest.mark.parametrize("chart,file", [("base", "base-values.yaml"), ("istiod", "istiod-values.yaml")])
def test_every_helm_value_is_a_key_of_the_charts_defaults(stack, chart, file):
    """`env` and `meshConfig` are free-form maps in the chart (any istiod variable, any MeshConfig
    field), and `resources` is a container's ResourceRequirements, passed whole (the defaults set
    only requests; we add a memory limit), and `nodeSelector` a label map (LABEL_MAPS); every other key must exist in the
    chart's defaults (set at the top level, the chart keeps them under `_internal_defaults_do_not_set`)."""
    path = VALUES / file
    if not path.exists():
        pytest.skip(f"{path} absent ({SKIP_HINT})")
    defaults = yaml.safe_load(path.read_text())["_internal_defaults_do_not_set"]
    values = _one(stack, RELEASE, chart=chart)["inputs"]["values"]
    assert values and unknown_keys(values, defaults, free_form=("env", "meshConfig", "resources", *LABEL_MAPS)) == []


def test_crds_and_istiod_come_before_what_needs_them(stack):
    by_key = _k8s(stack)
    base = _one(stack, RELEASE, chart="base")["urn"]
    istiod = _one(stack, RELEASE, chart="istiod")["urn"]
    gateway_api = [r["urn"] for r in _gateway_api(stack)]
    assert stack.depends_on(istiod, base) and all(stack.depends_on(base, crd) for crd in gateway_api)
    for (kind, namespace, obj_name), r in by_key.items():
        group = group_of(r["inputs"])
        where = f"{kind} {namespace}/{obj_name}"
        if group in ISTIO_GROUPS:
            assert stack.depends_on(r["urn"], base) and stack.depends_on(r["urn"], istiod), where
        if group == GATEWAY_API_GROUP:
            assert all(stack.depends_on(r["urn"], crd) for crd in gateway_api), where
            assert stack.depends_on(r["urn"], istiod), where


def test_pods_come_after_istiod_and_everything_after_its_namespace_label(stack):
    """Only pods need istiod's injector: Deployments wait for it, the namespaces (and their
    Services, the ingress NLB among them) do not."""
    by_key = _k8s(stack)
    istiod = _one(stack, RELEASE, chart="istiod")["urn"]
    injected = {key[2]: r for key, r in by_key.items()
                if key[0] == "Namespace" and r["inputs"]["metadata"].get("labels", {}).get("istio-injection") == "enabled"}
    assert set(injected) == {"prodcatalog-ns", "mtls"}
    for namespace, r in injected.items():
        assert not stack.depends_on(r["urn"], istiod), namespace
        for (kind, obj_ns, obj_name), obj in by_key.items():
            if obj_ns == namespace:
                assert stack.depends_on(obj["urn"], r["urn"]), f"{kind} {obj_ns}/{obj_name}"
                if kind == "Deployment" or group_of(obj["inputs"]) in (*ISTIO_GROUPS, GATEWAY_API_GROUP):
                    assert stack.depends_on(obj["urn"], istiod), f"{kind} {obj_ns}/{obj_name}"
                if kind in ("Namespace", "Service", "ServiceAccount", "Secret", "NetworkPolicy"):
                    assert not stack.depends_on(obj["urn"], istiod), f"{kind} {obj_ns}/{obj_name}"


def test_destroy_removes_the_gateway_nlb_before_the_subnets(stack):
    """Pulumi deletes in reverse dependency order: the gateway's LoadBalancer Service (awaited
    until its finalizer has deleted the NLB) goes before the cluster it runs on, and so before
    the subnets the cluster's ENIs and the NLB live in."""
    [service] = [r for r in stack.by_type("kubernetes:core/v1:Service")
                 if r["inputs"]["spec"].get("type") == "LoadBalancer"]
    assert (service["inputs"]["metadata"]["namespace"], service["inputs"]["metadata"]["name"]) == \
        ("prodcatalog-ns", "ingress-gw")
    [gateway] = [r for r in stack.manifests if r["kind"] == "Gateway"]
    assert gateway["spec"]["addresses"] == [{"type": "Hostname",
                                             "value": "ingress-gw.prodcatalog-ns.svc.cluster.local"}]
    [k8s_provider] = [r for r in stack.by_type("pulumi:providers:kubernetes")]
    assert service["provider"] == k8s_provider["urn"]
    [cluster] = stack.by_type("eks:index:Cluster")
    subnets = [r["urn"] for r in stack.by_type("aws:ec2/subnet:Subnet")]
    assert subnets and stack.depends_on(k8s_provider["urn"], cluster["urn"])
    assert all(stack.depends_on(k8s_provider["urn"], s) for s in subnets)


def _changed(before: SynthResult, after: SynthResult) -> list[str]:
    old = {r["urn"]: r for r in before.resources}
    new = {r["urn"]: r for r in after.resources}
    assert old.keys() == new.keys()
    return sorted(urn.rsplit("::", 1)[1] for urn in old
                  if old[urn]["inputs"] != new[urn]["inputs"] or old[urn]["dependencies"] != new[urn]["dependencies"])


@pytest.mark.parametrize("before,after", [(10, 90), (50, 0), (0, 100)])
def test_a_weight_change_changes_only_the_split_route(before, after):
    assert _changed(synth(canaryWeight=str(before)), synth(canaryWeight=str(after))) == [
        "mesh-prodcatalog-ns-canary-proddetail-router-httproute-prodcatalog-ns-proddetail-router"]


def test_a_trust_switch_changes_only_fronts_destination_rules():
    """Nor front's Deployment (its mounts, its certificate digest, its edges): no pod restarts."""
    changed = _changed(synth(mtlsTrust="ca1"), synth(mtlsTrust="ca1+ca2"))
    assert changed == [f"mesh-mtls-destinationrule-mtls-front-to-color-{c}" for c in ("blue", "green", "red")]


def test_the_gateway_api_objects_carry_no_generated_service(stack):
    """Nothing asks istiod to generate a gateway Deployment/Service (see render/istio_gateway.py)."""
    [gateway] = [o for o in stack.manifests if o["kind"] == "Gateway"]
    assert "infrastructure" not in gateway["spec"]
    assert {(ns(o), name(o)) for o in stack.manifests if o["kind"] == "Deployment" and name(o).endswith("-istio")} == set()


def test_nodes_run_with_the_cluster_security_group_so_istiod_needs_no_rules(stack):
    """istiod's webhook (15017) and xDS (15012) are reached from the control plane and the pods:
    with no security group of our own on the nodes (none in the launch template, none from
    pulumi-eks), EKS gives the node group its cluster security group, which admits all traffic
    between the control plane and the nodes. A custom node security group would need those rules."""
    [template] = stack.by_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert not {"vpcSecurityGroupIds", "securityGroupNames"} & set(template["inputs"])
    assert all("securityGroups" not in ni for ni in template["inputs"].get("networkInterfaces", []))
    [cluster] = stack.by_type("eks:index:Cluster")
    assert cluster["inputs"]["skipDefaultSecurityGroups"] is True
    assert not stack.by_type("aws:ec2/securityGroup:SecurityGroup") or all(
        "node" not in sg["name"] for sg in stack.by_type("aws:ec2/securityGroup:SecurityGroup"))
