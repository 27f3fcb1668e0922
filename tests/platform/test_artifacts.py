"""Every pinned artifact (celestials/artifacts.py) exists where it is fetched: checked against the
upstream indexes stored in ../shared/reference/pins (skipped, with the reason, where absent)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from celestials import artifacts
from celestials.artifacts import GATEWAY_API, ISTIO, OTEL_COLLECTOR_CHART, OTEL_COLLECTOR_IMAGE
from tools.reference import REFERENCE, not_fetchable_reason

ROOT = Path(__file__).resolve().parents[2]
PINS = REFERENCE / "pins"


def _pins(name: str) -> Any:
    path = PINS / name
    if not path.exists():
        pytest.skip(f"{not_fetchable_reason(f'pins/{name}')}: the pins cannot be checked "
                    "against the upstream index")
    return yaml.safe_load(path.read_text())


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.lstrip("v").split("."))


def test_istio_is_the_newest_published_patch_of_its_minor_from_the_current_hosts():
    index = _pins("istio-releases.yaml")
    patches = index["releases"][ISTIO.minor]["patches"]
    assert ISTIO.version in patches, f"Istio {ISTIO.version} is not a published patch ({', '.join(patches)})"
    assert ISTIO.version == max(patches, key=_version)
    assert str(patches[ISTIO.version]) == ISTIO.published
    assert ISTIO.chart_repository == index["artifacts"]["helm_charts"]["current"]
    assert ISTIO.image_hub == index["artifacts"]["images"]["current"]
    assert index["releases"][ISTIO.minor]["gateway_api"] == ISTIO.built_against_gateway_api


def test_istio_minor_is_the_newest_one_published():
    index = _pins("istio-releases.yaml")
    assert ISTIO.minor == max(index["releases"], key=_version)


def test_no_retired_host_is_named_by_the_program():
    """The old hosts are removed in December 2026: nothing the program deploys may come from them."""
    index = _pins("istio-releases.yaml")
    retired = [index["artifacts"]["helm_charts"]["retired"], *index["artifacts"]["images"]["retired"]]
    sources = [*ROOT.glob("celestials/**/*.py"), *ROOT.glob("components/**/*.py"), ROOT / "__main__.py",
               *ROOT.glob("Pulumi*.yaml"), *ROOT.glob("apps/*/Dockerfile")]
    found = [f"{p.relative_to(ROOT)}: {host}" for p in sources for host in retired
             if host.split("://")[-1] in p.read_text()]
    assert found == []


def test_gateway_api_bundle_is_the_pinned_tag_of_istio_s_minor():
    pins = _pins("gateway-api-crds.yaml")[GATEWAY_API.tag]
    assert GATEWAY_API.commit == pins["commit"]
    assert [(f.path, f.sha256, f.size) for f in GATEWAY_API.files] == [
        (p["path"], p["sha256"], p["bytes"]) for p in pins["files"]]
    built, ours = _version(ISTIO.built_against_gateway_api), _version(GATEWAY_API.tag)
    assert ours[:2] == built[:2] and ours >= built, "Gateway API: the bundle Istio's minor is built against, or a newer patch"


def _chart_entry(index: dict[str, Any], chart: artifacts.HelmChart) -> dict[str, Any]:
    entries = {e["version"]: e for e in index["entries"][chart.chart]}
    assert chart.version in entries, (f"{chart.chart} {chart.version} was never published; "
                                      f"published near it: {sorted(entries, key=_version)[-5:]}")
    return entries[chart.version]


def test_the_collector_chart_is_published_and_its_image_is_the_chart_s_app_version():
    index = _pins("opentelemetry-helm-index.yaml")
    entry = _chart_entry(index, OTEL_COLLECTOR_CHART)
    assert OTEL_COLLECTOR_CHART.app_version == entry["appVersion"] == OTEL_COLLECTOR_IMAGE.tag
    assert OTEL_COLLECTOR_CHART.repository in index["source"]


def test_the_index_check_would_catch_a_chart_that_was_never_published():
    index = _pins("opentelemetry-helm-index.yaml")
    never = artifacts.HelmChart(OTEL_COLLECTOR_CHART.repository, OTEL_COLLECTOR_CHART.chart, "0.158.3", "0.153.0",
                                "a version between two published ones", confirmed=True)
    with pytest.raises(AssertionError, match="0.158.3 was never published"):
        _chart_entry(index, never)


def test_every_chart_is_confirmed_by_a_stored_index_or_says_it_is_not():
    """A chart whose index is not stored here cannot be called confirmed."""
    stored = {"istio": (ISTIO.chart_repository,), "otel": (OTEL_COLLECTOR_CHART.repository,)}
    checked = {repo for repos in stored.values() for repo in repos}
    for chart in artifacts.helm_charts():
        assert chart.confirmed == (chart.repository in checked), chart


def test_every_dockerfile_base_image_is_in_the_catalogue():
    named = {(m.group(1), m.group(2)) for p in ROOT.glob("apps/*/Dockerfile")
             for m in re.finditer(r"^FROM\s+([^\s:@]+):(\S+)", p.read_text(), re.M)}
    assert named == {(i.repository, i.tag) for i in artifacts.BASE_IMAGES}


def test_components_read_their_pins_from_the_catalogue():
    """One fact in one place: the component constants are the catalogue's, not copies."""
    from components import trace_collector
    from components.appmesh import controller
    from components.istio import control_plane

    assert (control_plane.ISTIO_VERSION, control_plane.CHART_REPOSITORY, control_plane.IMAGE_HUB) == (
        ISTIO.version, ISTIO.chart_repository, ISTIO.image_hub)
    assert (trace_collector.CHART_VERSION, trace_collector.IMAGE_TAG) == (OTEL_COLLECTOR_CHART.version,
                                                                          OTEL_COLLECTOR_IMAGE.tag)
    assert controller.CHART_VERSION == artifacts.APPMESH_CONTROLLER_CHART.version


def test_every_workflow_action_is_the_catalogue_s_pin():
    """Pinned by full SHA with the tag beside it, and one pin per action across all workflows."""
    used = {(m.group(1), m.group(2), m.group(3)) for p in ROOT.glob(".github/workflows/*.yml")
            for m in re.finditer(r"uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v[\d.]+)\s*$", p.read_text(), re.M)}
    every_uses = [m.group(1) for p in ROOT.glob(".github/workflows/*.yml")
                  for m in re.finditer(r"^\s*(?:-\s*)?uses:\s*(\S+)", p.read_text(), re.M)]
    assert len(every_uses) == sum(1 for p in ROOT.glob(".github/workflows/*.yml")
                                  for _ in re.finditer(r"uses:\s*\S+@[0-9a-f]{40} # v", p.read_text()))
    assert used == {(a.name, a.sha, a.tag) for a in artifacts.GITHUB_ACTIONS}


def test_the_workflows_install_the_catalogue_s_pulumi_cli_which_is_the_sdk_floor():
    pins = {m.group(1) for p in ROOT.glob(".github/workflows/*.yml")
            for m in re.finditer(r"pulumi-version:\s*([\d.]+)", p.read_text())}
    assert pins == {artifacts.PULUMI_CLI}
    assert f"pulumi>={artifacts.PULUMI_CLI.rsplit('.', 1)[0]}," in (ROOT / "requirements.txt").read_text()


def test_every_eks_add_on_says_whether_it_is_confirmed():
    from celestials import eks_versions

    for r in eks_versions.RELEASES:
        assert r.confirmed <= set(r.addons), r.version
    # the sources name these rows as read from the EKS User Guide
    assert eks_versions.release("1.35").confirmed == {"kube-proxy", "coredns"}
