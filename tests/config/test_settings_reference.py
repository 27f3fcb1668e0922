"""README's configuration reference is the settings' own definitions: written from
celestials/settings.py by tools/settings_doc.py, and stale or hand-edited text fails here."""

from __future__ import annotations

from dataclasses import fields

import pytest

from celestials import settings as st
from tools.artifacts_doc import DOCS
from tools.settings_doc import ROOT, TABLE, render, table


@pytest.mark.parametrize("name", DOCS)
def test_the_reference_and_every_default_marker_are_fresh(name):
    text = (ROOT / name).read_text()
    assert render(text) == text, f"{name} is stale: run `make docs-settings`"


def test_a_hand_edit_of_the_table_is_caught():
    readme = (ROOT / "README.md").read_text()
    body = TABLE.search(readme)
    assert body is not None, "README.md has no <!-- settings:table --> markers"
    row = next(line for line in body.group("body").splitlines() if line.startswith("| `celestials:canaryWeight`"))
    edited = readme.replace(row, row.replace("an integer from 0 to 100", "0–100"))
    assert edited != readme
    assert render(edited) == readme


def test_every_key_has_one_row_and_every_field_a_key():
    rows = [line for line in table().splitlines() if line.startswith("| `")]
    names = [row.split("`")[1] for row in rows]
    assert names == [st.REGION.name, *(f"celestials:{k}" for k in st.CONFIG_KEYS)]
    keyed = {k.field for k in (st.REGION, *st.KEYS)}
    assert {f.name for f in fields(st.Settings)} - keyed == {"stack", "extra"}


@pytest.mark.parametrize("key", st.KEYS, ids=lambda k: k.name)
def test_an_unset_default_says_what_leaving_the_key_out_means(key):
    assert bool(key.unset) == (key.default is None)


def test_a_default_marker_is_written_from_the_dataclass_and_an_unknown_one_refused():
    canary = st.definition("canaryWeight").default
    assert render("<!-- default:canaryWeight -->7<!-- /default -->") == \
        f"<!-- default:canaryWeight -->{canary}<!-- /default -->"
    with pytest.raises(KeyError, match="unknown default marker 'canaryWieght'"):
        render("<!-- default:canaryWieght -->1<!-- /default -->")


@pytest.mark.parametrize("name", DOCS)
def test_no_default_marker_sits_in_inline_code(name):
    """Inside backticks a marker would be shown as text, not hidden."""
    from tools.settings_doc import DEFAULT

    for line in (ROOT / name).read_text().splitlines():
        for m in DEFAULT.finditer(line):
            assert line[:m.start()].count("`") % 2 == 0, f"{name}: {line.strip()}"
