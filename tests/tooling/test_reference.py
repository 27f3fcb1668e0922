"""`make reference`: the tests' upstream files, fetched only with their pinned bytes, into the
directory the tests read when ../shared/reference is absent."""

from __future__ import annotations

import hashlib
import pytest

from tools import reference
from tools.reference import FILES, NOT_FETCHABLE, SHARED, STANDARD_CRDS, ReferenceFile, fetch_all, reference_dir


def _pinned(path: str, data: bytes, url: str = "https://example.invalid/f") -> ReferenceFile:
    return ReferenceFile(path, url, hashlib.sha256(data).hexdigest(), len(data), "test")


def test_only_the_pinned_bytes_are_written(tmp_path):
    good, bad = _pinned("a/good.yaml", b"kind: A\n", "https://x.invalid/good"), _pinned("a/bad.yaml", b"kind: B\n",
                                                                                    "https://x.invalid/bad")
    served = {good.url: b"kind: A\n", bad.url: b"kind: B, changed upstream\n"}
    said: list[str] = []
    failed = fetch_all(tmp_path, files=(good, bad), built=None, fetch=served.__getitem__, say=said.append)
    assert failed == 1
    assert (tmp_path / "a" / "good.yaml").read_bytes() == b"kind: A\n"
    assert not (tmp_path / "a" / "bad.yaml").exists()
    assert any(line.startswith("  not written: a/bad.yaml: https://x.invalid/bad serves other bytes") for line in said)


def test_an_unreachable_file_is_named_and_a_cached_one_is_not_fetched_again(tmp_path):
    f = _pinned("b/f.json", b"{}")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "f.json").write_bytes(b"{}")

    def offline(url: str) -> bytes:
        raise OSError("no network")

    assert fetch_all(tmp_path, files=(f,), built=None, fetch=offline, say=lambda s: None) == 0
    (tmp_path / "b" / "f.json").write_bytes(b"{ }")  # a damaged cache entry is fetched again
    said: list[str] = []
    assert fetch_all(tmp_path, files=(f,), built=None, fetch=offline, say=said.append) == 1
    assert said == ["  cannot fetch b/f.json: https://example.invalid/f: no network"]


def test_the_directory_the_tests_read(tmp_path):
    assert reference_dir({"CELESTIALS_REFERENCE_DIR": str(tmp_path)}) == tmp_path
    cache = reference_dir({"XDG_CACHE_HOME": str(tmp_path)})
    assert cache == (SHARED if SHARED.is_dir() else tmp_path / "celestials" / "reference")


def test_every_reference_file_the_tests_read_is_fetchable_or_said_not_to_be():
    from tests.appmesh import mesh_checks
    from tests.istio import istio_checks
    from tests.platform import test_capacity
    read = {p.relative_to(reference.REFERENCE).as_posix() for p in (
        istio_checks.ISTIO_CRDS, istio_checks.GATEWAY_API_CRDS, mesh_checks.CRDS, test_capacity.CHART_VALUES,
        mesh_checks.REFERENCE / "controller-iam-policy.json", mesh_checks.REFERENCE / "envoy-iam-policy.json")}
    read |= {"istio-1.31/base-values.yaml", "istio-1.31/istiod-values.yaml", "istio-1.30/istiod-values.yaml",
             *(f"pins/{n}" for n in ("istio-releases.yaml", "gateway-api-crds.yaml", "opentelemetry-helm-index.yaml"))}
    known = {f.path for f in FILES} | {STANDARD_CRDS.path} | set(NOT_FETCHABLE)
    assert read - known == set()


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} absent: the pins are checked against that copy")
def test_the_pins_are_the_copy_the_tests_were_written_against(tmp_path):
    """Served from ../shared/reference, every file is written and standard-crds.yaml is rebuilt
    byte for byte, except the tutorial's envoy policy, whose pin is the tutorial's own (wider) file."""
    by_url = {f.url: (SHARED / f.path).read_bytes() for f in FILES}
    said: list[str] = []
    assert fetch_all(tmp_path, fetch=by_url.__getitem__, say=said.append) == 1
    assert [s.split(":")[0] for s in said if not s.startswith("  fetched")] == ["  not written"]
    assert "appmesh/envoy-iam-policy.json" in next(s for s in said if s.startswith("  not written"))
    assert (tmp_path / STANDARD_CRDS.path).read_bytes() == (SHARED / STANDARD_CRDS.path).read_bytes()
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {f.path for f in FILES if f.path != "appmesh/envoy-iam-policy.json"} | {STANDARD_CRDS.path}

