"""Pinned upstream files are read from a directory, the cache or the network, and accepted only
with their pinned bytes; anything else fails before a single resource is registered."""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
from pathlib import Path

import pytest

from celestials.artifacts import GATEWAY_API, UpstreamFile
from celestials.upstream_files import SOURCE_DIR_ENV, UpstreamFileError, https_fetch, read_pinned
from synth.harness import REFERENCE_UPSTREAM_DIR, quiet, synth_stack
from tools.reference import SKIP_HINT

BODY = b"kind: CustomResourceDefinition\n"
FILE = UpstreamFile("config/crd/standard/a.yaml", hashlib.sha256(BODY).hexdigest(), len(BODY))
URLS = {FILE.name: "https://example.invalid/a.yaml"}


class Fetcher:
    def __init__(self, body: bytes | Exception = BODY):
        self.body, self.urls = body, list[str]()

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if isinstance(self.body, Exception):
            raise self.body
        return self.body


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), **extra}


def test_a_file_is_fetched_once_then_read_from_the_cache(tmp_path):
    fetch = Fetcher()
    assert read_pinned((FILE,), URLS, "k", environ=_env(tmp_path), fetch=fetch) == {"a.yaml": BODY.decode()}
    assert read_pinned((FILE,), URLS, "k", environ=_env(tmp_path), fetch=fetch) == {"a.yaml": BODY.decode()}
    assert fetch.urls == [URLS["a.yaml"]]
    assert (tmp_path / "cache" / "celestials" / "k" / "a.yaml").read_bytes() == BODY


def test_a_cached_file_that_does_not_match_is_fetched_again(tmp_path):
    cached = tmp_path / "cache" / "celestials" / "k" / "a.yaml"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"truncated")
    fetch = Fetcher()
    assert read_pinned((FILE,), URLS, "k", environ=_env(tmp_path), fetch=fetch) == {"a.yaml": BODY.decode()}
    assert fetch.urls == [URLS["a.yaml"]] and cached.read_bytes() == BODY


@pytest.mark.parametrize("served", [b"", BODY + b"# moved\n"], ids=["empty body", "other content"])
def test_a_served_file_that_is_not_the_pinned_one_is_refused_and_not_cached(tmp_path, served):
    with pytest.raises(UpstreamFileError) as err:
        read_pinned((FILE,), URLS, "k", environ=_env(tmp_path), fetch=Fetcher(served))
    text = str(err.value)
    assert f"a.yaml: {URLS['a.yaml']} did not serve the pinned file: got {len(served)} bytes" in text
    assert FILE.sha256 in text and "nothing was registered" in text
    assert not (tmp_path / "cache" / "celestials" / "k" / "a.yaml").exists()


def test_an_unreachable_host_is_a_clear_error_naming_the_fix(tmp_path):
    with pytest.raises(UpstreamFileError) as err:
        read_pinned((FILE,), URLS, "k", environ=_env(tmp_path), fetch=Fetcher(urllib.error.URLError("no route")))
    assert f"a.yaml: cannot fetch {URLS['a.yaml']}: <urlopen error no route>" in str(err.value)
    assert f"set {SOURCE_DIR_ENV} to a directory" in str(err.value)


def test_a_source_directory_is_used_as_is_and_a_wrong_file_there_is_an_error_not_a_fallback(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.yaml").write_bytes(BODY)
    fetch = Fetcher(AssertionError("a source directory is never bypassed"))
    assert read_pinned((FILE,), URLS, "k", environ=_env(tmp_path, **{SOURCE_DIR_ENV: str(source)}),
                       fetch=fetch) == {"a.yaml": BODY.decode()}
    (source / "a.yaml").write_bytes(BODY.upper())
    with pytest.raises(UpstreamFileError, match=rf"a.yaml: {source}/a.yaml \({SOURCE_DIR_ENV}\) is not the pinned"):
        read_pinned((FILE,), URLS, "k", environ=_env(tmp_path, **{SOURCE_DIR_ENV: str(source)}), fetch=fetch)
    (source / "a.yaml").unlink()
    with pytest.raises(UpstreamFileError, match="a.yaml: cannot read"):
        read_pinned((FILE,), URLS, "k", environ=_env(tmp_path, **{SOURCE_DIR_ENV: str(source)}), fetch=fetch)
    assert fetch.urls == []


def test_only_https_is_fetched():
    with pytest.raises(UpstreamFileError, match="only https"):
        https_fetch("http://example.invalid/a.yaml")


def _reference_dir() -> Path:
    if not REFERENCE_UPSTREAM_DIR.is_dir():
        pytest.skip(f"{REFERENCE_UPSTREAM_DIR} absent ({SKIP_HINT})")
    return REFERENCE_UPSTREAM_DIR


def test_the_program_refuses_a_tampered_gateway_api_file_before_registering_anything(tmp_path, monkeypatch):
    copy = tmp_path / "gateway-api"
    shutil.copytree(_reference_dir(), copy)
    routes = copy / "gateway.networking.k8s.io_httproutes.yaml"
    routes.write_text(routes.read_text().replace("maxItems: 16", "maxItems: 17", 1))
    monkeypatch.setenv(SOURCE_DIR_ENV, str(copy))
    with quiet(), pytest.raises(UpstreamFileError) as err:
        synth_stack("dev")
    assert "gateway.networking.k8s.io_httproutes.yaml" in str(err.value)
    assert [f.name for f in GATEWAY_API.files if f.name in str(err.value)] == ["gateway.networking.k8s.io_httproutes.yaml"]
    assert err.value.synth_registrations == []  # type: ignore[attr-defined]


def test_the_reference_copy_is_exactly_the_pinned_bundle():
    source = _reference_dir()
    texts = read_pinned(GATEWAY_API.files, {f.name: GATEWAY_API.url(f) for f in GATEWAY_API.files}, "unused",
                        environ={SOURCE_DIR_ENV: str(source)}, fetch=Fetcher(AssertionError("not fetched")))
    assert sorted(texts) == sorted(p.name for p in source.glob("*.yaml"))
