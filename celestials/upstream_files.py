"""Files fetched from upstream at deploy time, accepted only with the bytes the catalogue pins
(celestials/artifacts.py): read from a local directory, a cache, or the network, in that order.

Why the program fetches and checks them itself: handing a release URL to the provider means it is
fetched on every preview with no status or content check, so an outage, a moved tag or an empty
body would plan the deletion of every object of those kinds. Here a file that cannot be read or
does not match fails the run before any resource is registered, naming the file, what was expected
and what to do.

Where they come from, first that has it:
1. `$CELESTIALS_UPSTREAM_DIR/<file name>`, if set: a directory holding the files (a checkout of the
   tag's folder, or ../shared/reference's copy; the offline synth sets it). A file there that does
   not match is an error, never skipped.
2. the cache, `$XDG_CACHE_HOME/celestials/<key>/<file name>` (default ~/.cache): a cached file that
   does not match is discarded and fetched again.
3. the network (HTTPS, bounded time), then written to the cache.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Mapping

from .artifacts import UpstreamFile

SOURCE_DIR_ENV = "CELESTIALS_UPSTREAM_DIR"
FETCH_TIMEOUT_SECONDS = 30

Fetch = Callable[[str], bytes]


class UpstreamFileError(RuntimeError):
    """A pinned file that could not be had with its pinned bytes."""


def mismatch(f: UpstreamFile, data: bytes) -> str | None:
    """Why `data` is not the pinned file, or None when it is."""
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != f.size or digest != f.sha256:
        return f"got {len(data)} bytes with sha256 {digest}, pinned {f.size} bytes with sha256 {f.sha256}"
    return None


def https_fetch(url: str) -> bytes:
    if not url.startswith("https://"):
        raise UpstreamFileError(f"refusing to fetch {url}: only https URLs are fetched")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (https only, above)
        data: bytes = response.read()
        return data


def cache_root(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")).expanduser() / ".cache")
    return Path(base) / "celestials"


def read_pinned(files: tuple[UpstreamFile, ...], urls: Mapping[str, str], cache_key: str, *,
                environ: Mapping[str, str] | None = None, fetch: Fetch = https_fetch) -> dict[str, str]:
    """file name → its text, each with its pinned bytes; `urls` maps a file name to where it is
    fetched. Raises UpstreamFileError naming every file that could not be had."""
    env = os.environ if environ is None else environ
    source_dir = env.get(SOURCE_DIR_ENV)
    cache = cache_root(env) / cache_key
    texts, problems = {}, []
    for f in files:
        try:
            data = _read_one(f, urls[f.name], Path(source_dir) if source_dir else None, cache, fetch)
        except UpstreamFileError as err:
            problems.append(str(err))
            continue
        texts[f.name] = data.decode("utf-8")
    if problems:
        raise UpstreamFileError(
            f"{len(problems)} pinned upstream file(s) could not be read with their pinned content "
            f"(celestials/artifacts.py); nothing was registered:\n  " + "\n  ".join(problems) +
            f"\nFix: connect once to the network (files are cached in {cache}; `make reference` fetches them "
            f"beside the tests' reference data), or set {SOURCE_DIR_ENV} to a "
            "directory holding these files exactly as the pinned tag serves them.")
    return texts


def _read_one(f: UpstreamFile, url: str, source_dir: Path | None, cache: Path, fetch: Fetch) -> bytes:
    if source_dir is not None:
        path = source_dir / f.name
        try:
            data = path.read_bytes()
        except OSError as err:
            raise UpstreamFileError(f"{f.name}: cannot read {path} ({SOURCE_DIR_ENV}): {err.strerror}") from None
        problem = mismatch(f, data)
        if problem:
            raise UpstreamFileError(f"{f.name}: {path} ({SOURCE_DIR_ENV}) is not the pinned file: {problem}")
        return data
    cached = cache / f.name
    if cached.is_file():
        data = cached.read_bytes()
        if mismatch(f, data) is None:
            return data
    try:
        data = fetch(url)
    except (OSError, urllib.error.URLError, UpstreamFileError) as err:
        raise UpstreamFileError(f"{f.name}: cannot fetch {url}: {err}") from None
    problem = mismatch(f, data)
    if problem:
        raise UpstreamFileError(f"{f.name}: {url} did not serve the pinned file: {problem}")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".partial")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return data
