"""The two Helm releases: the App Mesh controller (pinned chart, pre-created IRSA service account,
X-Ray tracing) and the OpenTelemetry Collector that sends the apps' spans to X-Ray."""

from __future__ import annotations

import pytest
import yaml

from celestials.artifacts import OTEL_COLLECTOR_CHART, OTEL_COLLECTOR_IMAGE
from components.appmesh import controller
from tests.appmesh.mesh_checks import REFERENCE, of_kind
from tests.support.chart_values import LABEL_MAPS, unknown_keys
from tests.appmesh.program import evaluate_backend
from tools.reference import SKIP_HINT


def _release(result, chart):
    [r] = [r for r in result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == chart]
    return r["inputs"]


def test_controller_release_is_pinned_and_awaited(backend):
    release = _release(backend.result, "appmesh-controller")
    assert release["version"] == "1.13.3"
    assert release["repositoryOpts"] == {"repo": "https://aws.github.io/eks-charts"}
    assert release["skipAwait"] is False
    assert release["namespace"] == "appmesh-system" and release["name"] == "appmesh-controller"
    values = release["values"]
    assert values["region"] == "us-west-2"
    assert values["serviceAccount"] == {"create": False, "name": "appmesh-controller"}
    assert values["tracing"] == {"enabled": True, "provider": "x-ray"}
    assert values["sds"] == {"enabled": False}


def test_controller_service_account_is_created_first_with_its_role(backend):
    result = backend.result
    [sa] = [r for r in result.by_type("kubernetes:core/v1:ServiceAccount")
            if r["inputs"]["metadata"]["name"] == "appmesh-controller"]
    assert sa["inputs"]["metadata"]["namespace"] == "appmesh-system"
    assert sa["inputs"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    [release] = [r for r in result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "appmesh-controller"]
    assert result.depends_on(release["urn"], sa["urn"])


def test_controller_values_use_keys_the_chart_has():
    path = REFERENCE / "chart-values-1.13.3.yaml"
    if not path.exists():
        pytest.skip(f"{path} is absent ({SKIP_HINT})")
    chart = yaml.safe_load(path.read_text())
    values = controller.chart_values("us-west-2", True, node_architecture="arm64")
    assert values and unknown_keys(values, chart, free_form=LABEL_MAPS) == []


def test_sidecar_requests_are_what_the_capacity_model_counts():
    from components.appmesh.backend import sidecars

    requests = controller.chart_values("us-west-2", True, node_architecture="arm64")["sidecar"]["resources"]["requests"]
    envoy, xray = sidecars(tracing=True).containers
    assert (requests["cpu"], requests["memory"]) == (f"{envoy.cpu_m}m", f"{envoy.memory_mi}Mi") == \
        (f"{xray.cpu_m}m", f"{xray.memory_mi}Mi")
    assert sidecars(tracing=False).containers == (envoy,) and sidecars(tracing=False).gateway == ()


def test_collector_release_sends_traces_to_xray(backend):
    release = _release(backend.result, "opentelemetry-collector")
    assert release["version"] == OTEL_COLLECTOR_CHART.version
    assert release["repositoryOpts"] == {"repo": OTEL_COLLECTOR_CHART.repository}
    assert release["skipAwait"] is False and "allowNullValues" not in release  # deprecated, no effect
    values = release["values"]
    assert values["image"] == {"repository": OTEL_COLLECTOR_IMAGE.repository, "tag": OTEL_COLLECTOR_CHART.app_version}
    assert values["config"]["exporters"] == {"awsxray": {"region": "us-west-2"}}
    assert values["config"]["service"]["pipelines"]["traces"]["exporters"] == ["awsxray"]
    assert values["config"]["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]
    assert values["serviceAccount"] == {"create": False, "name": "otel-collector"}


def test_apps_export_to_the_collector_directly(backend):
    deployments = [d for d in backend.manifests if d["kind"] == "Deployment" and d["metadata"]["name"] != "ingress-gw"
                   and d["metadata"]["namespace"] in ("prodcatalog-ns", "mtls")]
    assert len(deployments) == 8
    for d in deployments:
        env = {e["name"]: e["value"] for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability.svc.cluster.local:4318"
        assert env["OTEL_TRACES_EXPORTER"] == "otlp"
        annotations = d["spec"]["template"]["metadata"]["annotations"]
        assert annotations["appmesh.k8s.aws/egressIgnoredPorts"] == "22,4318"


def test_without_tracing_there_is_no_collector_and_no_export():
    result = evaluate_backend(tracing=False)
    charts = [r["inputs"]["chart"] for r in result.result.by_type("kubernetes:helm.sh/v3:Release")]
    assert charts == ["appmesh-controller"]
    assert _release(result.result, "appmesh-controller")["values"]["tracing"]["enabled"] is False
    for d in of_kind(result.manifests, "Deployment"):
        if d["metadata"]["name"] == "ingress-gw":
            continue
        env = {e["name"]: e["value"] for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["OTEL_TRACES_EXPORTER"] == "none" and "OTEL_EXPORTER_OTLP_ENDPOINT" not in env
        assert "appmesh.k8s.aws/egressIgnoredPorts" not in d["spec"]["template"]["metadata"].get("annotations", {})


def test_outputs_are_the_nlb_url_and_the_mesh_names(backend):
    outputs = backend.result.outputs
    assert outputs["meshNames"] == ["prodcatalog-mesh", "mtls-mesh"]
    assert outputs["ingressUrl"].startswith("http://ingress-gw-") and outputs["ingressUrl"].endswith(
        ".elb.us-west-2.amazonaws.com/")


def test_image_references_may_come_as_one_output_of_the_mapping(backend):
    from tests.appmesh.program import image_ref

    as_one = evaluate_backend(refs_as_one_output=True)
    images = {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
              for d in of_kind(as_one.manifests, "Deployment") if d["metadata"]["name"] != "ingress-gw"}
    assert images["proddetail-v2"] == image_ref("proddetail-v2") and images["blue"] == image_ref("colorteller")
    def key(m):
        return m["kind"], m["metadata"].get("namespace") or "", m["metadata"]["name"]

    assert sorted(as_one.manifests, key=key) == sorted(backend.manifests, key=key)


def test_evaluation_is_deterministic_across_processes():
    """Same inputs whatever the hash seed (set and dict orders), so a re-run previews no changes."""
    import json
    import os
    import subprocess
    import sys

    from tests.appmesh.mesh_checks import ROOT

    script = ("import json; from tests.appmesh.program import evaluate_backend; r = evaluate_backend().result; "
              "print(json.dumps(sorted((x['urn'], x['inputs'], x['dependencies']) for x in r.resources), sort_keys=True))")
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        outputs.append(json.loads(run.stdout.strip().splitlines()[-1]))
    assert outputs[0] == outputs[1]
