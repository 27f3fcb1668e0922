"""The docs say which versions are deployed from one source: every pinned version they name is a
marker tools/artifacts_doc.py writes from celestials/artifacts.py, and none is written by hand."""

from __future__ import annotations

import re

import pytest

from celestials import artifacts
from tools.artifacts_doc import DOCS, PIN, ROOT, TABLE, pins, render

#: How prose names a pinned thing; outside a marker, each of these is a version written by hand.
HAND_WRITTEN = (re.compile(r"Istio \d+\.\d+"), re.compile(r"Gateway API v\d"),
                re.compile(r"opentelemetry-collector \d"), re.compile(r"appmesh-controller \d"))


@pytest.mark.parametrize("name", DOCS)
def test_every_pin_in_the_docs_is_the_catalogue_s(name):
    text = (ROOT / name).read_text()
    assert render(text) == text, f"{name} is stale: run `make docs-pins`"


@pytest.mark.parametrize("name", DOCS)
def test_no_version_is_written_by_hand(name):
    prose = TABLE.sub("", PIN.sub("", (ROOT / name).read_text()))
    values = [v for k, v in pins().items() if k not in ("istio-charts", "istio-images")]
    found = [m.group(0) for p in HAND_WRITTEN for m in p.finditer(prose)]
    found += [v for v in values if re.search(rf"(?<![\w.]){re.escape(v)}(?![\w])", prose)]
    assert found == [], f"{name}: write these through a pin marker (tools/artifacts_doc.py)"


def test_the_readme_carries_the_artifact_table():
    readme = (ROOT / "README.md").read_text()
    body = TABLE.search(readme)
    assert body is not None
    assert f"| Helm chart | `istiod` | {artifacts.ISTIO.version} | {artifacts.ISTIO.chart_repository} |" in body.group("body")


def test_a_stale_or_unknown_marker_is_caught():
    assert render("<!-- pin:istio -->1.0.0<!-- /pin -->") == f"<!-- pin:istio -->{artifacts.ISTIO.version}<!-- /pin -->"
    with pytest.raises(KeyError, match="unknown pin marker 'istioo'"):
        render("<!-- pin:istioo -->1<!-- /pin -->")
