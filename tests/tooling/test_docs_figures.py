"""The figures the docs quote come from the program (tools/figures_doc.py, `make docs-figures`), and
the docs point a user's clone at nothing it lacks."""

from __future__ import annotations

import re

import yaml

from components.appmesh.end_of_support import DEFAULT_BACKEND
from tests.support.backend_synth import synth
from tools import figures_doc

from .conftest import ROOT


def _cached(stack: str, backend: str, overrides):
    return synth(backend, stack, **overrides).resources


def test_every_figure_in_the_docs_is_current():
    values = figures_doc.figures(_cached)
    stale = []
    for name in figures_doc.DOCS:
        text = (ROOT / name).read_text()
        assert figures_doc.unknown_names(text, values) == [], name
        if figures_doc.rewrite(text, values) != text:
            stale.append(name)
    assert stale == [], "stale figures: run `make docs-figures`"
    readme = (ROOT / "README.md").read_text()
    assert "<!-- figure:migration-delete -->" in readme and "<!-- figures:canary-diff -->" in readme


def test_a_stale_figure_is_rewritten():
    text = "dev has <!-- figure:dev-resources -->12<!-- /figure --> resources\n<!-- figures:x -->\n```\nold\n```\n<!-- /figures:x -->\n"
    new = figures_doc.rewrite(text, {"dev-resources": "159", "x": "```\nnew\n```\n"})
    assert new == "dev has <!-- figure:dev-resources -->159<!-- /figure --> resources\n<!-- figures:x -->\n```\nnew\n```\n<!-- /figures:x -->\n"
    assert figures_doc.unknown_names(text, {"x": ""}) == ["dev-resources"]


_DOCS = ["README.md", *(p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "docs").glob("*.md")))]


def test_no_doc_sends_a_user_into_a_folder_their_clone_lacks():
    """../shared is beside the development checkouts only: cite the upstream source instead."""
    found = [f"{name}: {m.group(0)}" for name in _DOCS
             for m in re.finditer(r"\]\(\.\./shared[^)]*\)|\.\./shared/[\w./<>-]+\.(?:md|ya?ml|json)\b",
                                  (ROOT / name).read_text())]
    assert found == []


def test_the_project_description_names_the_default_mesh():
    description = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["description"]
    assert DEFAULT_BACKEND in description.lower()
    assert "App Mesh behind an end-of-support acknowledgement" in description


def test_the_trust_switch_is_not_said_to_restart_anything():
    """`make local-reconfigure` reloads the Envoys' xDS files in place (celestials.local: "changed in
    place (no restart)"); no doc may promise a restart it does not do."""
    claims = [f"{name}: {line.strip()}" for name in _DOCS for line in (ROOT / name).read_text().splitlines()
              if "local-reconfigure" in line and re.search(r"\brestarts? \S*envoy", line)]
    assert claims == []
