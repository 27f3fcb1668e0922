"""The third-party files the tests check the program against, where they are read, and
`make reference`: fetch them by pinned digest into a cache, for a clone with no ../shared beside it.

The tests read `REFERENCE` (never a path of their own), the first of:
1. `$CELESTIALS_REFERENCE_DIR`, if set;
2. `../shared/reference` beside the project (the development machines' read-only copy);
3. the cache `make reference` fills, `$XDG_CACHE_HOME/celestials/reference` (default ~/.cache).
Each file keeps the layout of ../shared/reference, so a test names it the same way everywhere, and
a test whose file is in none of them skips, saying `SKIP_HINT`.

What `make reference` can fetch, and what it cannot (FILES, NOT_FETCHABLE): a file is written to
the cache only with the bytes pinned here (sha256 and size). The Gateway API files are the
program's own pins (celestials/artifacts.py, confirmed against the tag). For the other files the
digest is that of the copy the tests were written against, and the URL is the upstream source that
copy names; that the URL still serves those bytes was not checked from the development machines
(no access to GitHub), so a file the upstream serves differently is reported, not written, and its
tests stay skipped. The upstream indexes under pins/ are curated snapshots, not files anyone
serves by a digest: their tests skip without ../shared.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from celestials.artifacts import GATEWAY_API, UpstreamFile
from celestials.upstream_files import Fetch, UpstreamFileError, cache_root, https_fetch, mismatch, read_pinned

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_ENV = "CELESTIALS_REFERENCE_DIR"
SHARED = ROOT.parent / "shared" / "reference"
SKIP_HINT = ("no ../shared/reference and not in the cache: `make reference` fetches the upstream files by "
             "pinned digest; README, \"What make test does not run\"")


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    return cache_root(os.environ if environ is None else environ) / "reference"


def reference_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(REFERENCE_ENV):
        return Path(env[REFERENCE_ENV])
    if SHARED.is_dir():
        return SHARED
    return cache_dir(env)


REFERENCE = reference_dir()


@dataclass(frozen=True)
class ReferenceFile:
    """One file of the reference layout: where it is fetched and the bytes it must have."""

    path: str  # relative to the reference directory
    url: str
    sha256: str
    size: int
    source: str

    @property
    def pin(self) -> UpstreamFile:
        return UpstreamFile(self.path, self.sha256, self.size)


_ISTIO_TAG = "1.31.0"  # the copy is release-1.31 at a8d70121, the 1.31.0 release day
_ISTIO = f"https://raw.githubusercontent.com/istio/istio/{_ISTIO_TAG}/manifests/charts"
_EKS_CHARTS = "https://raw.githubusercontent.com/aws/eks-charts/master/stable/appmesh-controller"
_GATEWAY_DIR = f"gateway-api-{GATEWAY_API.tag}"

FILES: tuple[ReferenceFile, ...] = (
    ReferenceFile("appmesh/crds.yaml", f"{_EKS_CHARTS}/crds/crds.yaml",
                  "bcb167262656ac1b16a25d854350521597a4f53ec89503c93a95413745b9da39", 204023,
                  "aws/eks-charts stable/appmesh-controller 1.13.3 (the last release), crds/crds.yaml"),
    ReferenceFile("appmesh/chart-values-1.13.3.yaml", f"{_EKS_CHARTS}/values.yaml",
                  "7b83a44826500343cafcece217af51e702281082ea96586ce6760e33909e0ee7", 4394,
                  "aws/eks-charts stable/appmesh-controller 1.13.3, values.yaml"),
    ReferenceFile("appmesh/controller-iam-policy.json",
                  "https://raw.githubusercontent.com/aws/aws-app-mesh-controller-for-k8s/"
                  "d21757fa23a64cb581120794c036154a4fbd90d3/config/iam/controller-iam-policy.json",
                  "506bca8a50115f9ee085e4d1aa25142436dce313676a6878f3e93252e6a26aac", 2753,
                  "aws/aws-app-mesh-controller-for-k8s config/iam/controller-iam-policy.json"),
    # The tutorial's file itself (wider than the trimmed copy in ../shared/reference: it also
    # grants appmesh:*, xray:* and logs:*); the test that reads it holds for both.
    ReferenceFile("appmesh/envoy-iam-policy.json",
                  "https://raw.githubusercontent.com/aws-containers/eks-app-mesh-polyglot-demo/"
                  "19abf3a9350cb190e8a5528da981fe9e176b3adf/deployment/envoy-iam-policy.json",
                  "8268f35c6b02ac7869e9b92c9946256887e912c5259705366fa2fc86de11da42", 635,
                  "the original tutorial (aws-containers/eks-app-mesh-polyglot-demo), deployment/envoy-iam-policy.json"),
    ReferenceFile("istio-1.31/crd-all.gen.yaml", f"{_ISTIO}/base/files/crd-all.gen.yaml",
                  "c0ad59e008658765412badb836e73a523a355e3d792a32ad3c0711a728be5aff", 934103,
                  f"istio/istio {_ISTIO_TAG}, manifests/charts/base/files/crd-all.gen.yaml"),
    ReferenceFile("istio-1.31/base-values.yaml", f"{_ISTIO}/base/values.yaml",
                  "f92dd6226e623b340ead3a2762548a1d629a9fe2ae11a457205193aa10cb6ac6", 2773,
                  f"istio/istio {_ISTIO_TAG}, manifests/charts/base/values.yaml"),
    ReferenceFile("istio-1.31/istiod-values.yaml", f"{_ISTIO}/istio-control/istio-discovery/values.yaml",
                  "d6b9d64100f695973a1b87a2cedfce597669807d77fd14d00149d56538dd43a1", 24442,
                  f"istio/istio {_ISTIO_TAG}, manifests/charts/istio-control/istio-discovery/values.yaml"),
    ReferenceFile("istio-1.30/istiod-values.yaml",
                  "https://raw.githubusercontent.com/istio/istio/1.30.3/manifests/charts/istio-control/"
                  "istio-discovery/values.yaml",
                  "d6b9d64100f695973a1b87a2cedfce597669807d77fd14d00149d56538dd43a1", 24442,
                  "istio/istio 1.30.3, manifests/charts/istio-control/istio-discovery/values.yaml"),
    *(ReferenceFile(f"{_GATEWAY_DIR}/standard/{f.name}", GATEWAY_API.url(f), f.sha256, f.size,
                    f"kubernetes-sigs/gateway-api {GATEWAY_API.tag}, {f.path} (celestials/artifacts.py)")
      for f in GATEWAY_API.files),
)

#: Built here from other files of the layout, then held to its own digest like a fetched one.
STANDARD_CRDS = ReferenceFile(
    f"{_GATEWAY_DIR}/standard-crds.yaml", "", "01aaba6792bf56d4b7cc3c9a34bbd1e6222378c643f01d22010015f4aa5b3bcf",
    1166865, f"the CRD files of {_GATEWAY_DIR}/standard/, in name order, each after a `---` line "
             "(the safe-upgrades policy is not a CRD)")

#: Read by tests, not fetchable by a digest, and why.
NOT_FETCHABLE = {
    "pins/istio-releases.yaml": "curated from istio.io release notes (patches, dates, hosts)",
    "pins/opentelemetry-helm-index.yaml": "a dated snapshot of the chart repository's index.yaml, which grows",
    "pins/gateway-api-crds.yaml": "digests computed from three tags' files",
}


def not_fetchable_reason(path: str) -> str:
    """Why a test reading `path` (relative, in NOT_FETCHABLE) skips without ../shared/reference."""
    return (f"{path} is not in ../shared/reference, and `make reference` cannot fetch it: {NOT_FETCHABLE[path]}, "
            "not a file served by a digest")


def standard_crds(files: Mapping[str, bytes]) -> bytes:
    """standard-crds.yaml from the standard channel's files (path → bytes)."""
    crds = sorted(p for p in files if p.startswith(f"{_GATEWAY_DIR}/standard/") and "_vap_" not in p)
    return b"".join(b"---\n" + files[p] for p in crds)


def fetch_all(dest: Path, *, files: tuple[ReferenceFile, ...] = FILES, built: ReferenceFile | None = STANDARD_CRDS,
              fetch: Fetch = https_fetch, say: Callable[[str], None] = print) -> int:
    """Write every file into `dest` with its pinned bytes (and `built`, from them); the number of
    files that could not be had."""
    have: dict[str, bytes] = {}
    failed = 0
    for f in files:
        target = dest / f.path
        if target.is_file() and mismatch(f.pin, target.read_bytes()) is None:
            have[f.path] = target.read_bytes()
            continue
        try:
            data = fetch(f.url)
        except (OSError, UpstreamFileError) as err:
            say(f"  cannot fetch {f.path}: {f.url}: {err}")
            failed += 1
            continue
        problem = mismatch(f.pin, data)
        if problem:
            say(f"  not written: {f.path}: {f.url} serves other bytes than the copy the tests were written "
                f"against ({problem}); its tests stay skipped")
            failed += 1
            continue
        _write(target, data)
        have[f.path] = data
        say(f"  fetched {f.path} ({f.source})")
    if built is not None:
        data = standard_crds(have)
        problem = mismatch(built.pin, data)
        if problem is None:
            _write(dest / built.path, data)
        else:
            say(f"  not built: {built.path}: {problem}")
            failed += 1
    return failed


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".partial")
    partial.write_bytes(data)
    partial.replace(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reference", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", type=Path, default=None, help=f"default: {cache_dir()}")
    args = parser.parse_args(argv)
    dest = args.dest or cache_dir()
    if args.dest is None and SHARED.is_dir():
        print(f"[reference] {SHARED} is there, and the tests read it first; filling the cache anyway")
    print(f"[reference] into {dest}")
    failed = fetch_all(dest)
    # The program's own cache of the same files, so an offline synth works from now on too.
    try:
        read_pinned(GATEWAY_API.files, {f.name: GATEWAY_API.url(f) for f in GATEWAY_API.files},
                    f"gateway-api/{GATEWAY_API.tag}")
    except UpstreamFileError as err:
        print(f"[reference] {err}")
    for path, why in NOT_FETCHABLE.items():
        print(f"  not fetchable: {path}: {why}; its tests skip without ../shared/reference")
    if failed:
        print(f"[reference] {failed} file(s) missing: their tests skip, naming the file", file=sys.stderr)
        return 1
    print(f"[reference] every fetchable file is in {dest}; `make test` reads it unless ../shared/reference "
          f"or ${REFERENCE_ENV} is there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
