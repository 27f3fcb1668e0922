"""The app images: which directory under `apps/` builds each image the model names, into which
ECR repository, with which build arguments and which tag.

Why a content tag: the repositories have immutable tags, so pushing a changed image under a tag
that already exists fails. Each tag is `<version>-<12 hex of the build digest>` (plus `-<arch>`
off amd64, for people reading the tag), and the build digest covers every input that decides the
image's bytes: the files Docker would send, the Dockerfile (and with it the base images its FROM
lines name), the build arguments and the target platform. So a new tag exactly when one of those
changes, the same tag (and no rebuild, no push, no pod roll) when none does; two images built
from one context with different arguments (proddetail v1/v2, colorteller/colorfront) never share
a digest. The context part covers what docker-build's own context hash covers, full file modes
included, so docker-build never rebuilds under an existing tag. It honours the ignore file
BuildKit uses (`<Dockerfile>.dockerignore` next to the Dockerfile when present, else the
context's `.dockerignore`; so local `node_modules` or `__pycache__` do not change it) and always
covers the Dockerfile and that ignore file themselves.
Every app builds from `apps/` (not its own directory) so its image can copy the package its
language's apps share: `apps/node-common`, `apps/python-common`.
Pods are deployed by digest (`repo@sha256:…`, from the build); the tag is for people and for
immutability. Pure: no Pulumi; reads only the app directories.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .topology.model import Topology

ROOT = Path(__file__).resolve().parent.parent
APPS_DIR = "apps"
DIGEST_CHARS = 12
#: the Docker platform of the images per node architecture (celestials:nodeArchitecture): images
#: are built for the nodes that run them
PLATFORMS = {"amd64": "linux/amd64", "arm64": "linux/arm64"}
#: the architecture whose tags carry no `-<arch>` suffix
PLAIN_TAG_ARCHITECTURE = "amd64"


class ImageError(ValueError):
    """An unknown image key or an app directory that cannot be built."""


@dataclass(frozen=True)
class ImageSpec:
    key: str
    app_dir: str
    repository: str
    version: str
    build_args: tuple[tuple[str, str], ...] = ()
    #: the build context relative to the project root when the build needs more than the app's
    #: own directory (e.g. `apps`, to copy a shared package); default: `apps/<app_dir>`
    context_dir: str | None = None

    def __post_init__(self) -> None:
        if self.dockerfile.startswith("../"):
            raise ImageError(f"image {self.key}: context {self.context}/ does not contain "
                             f"{APPS_DIR}/{self.app_dir}/")
        names = [name for name, _ in self.build_args]
        if len(set(names)) != len(names):
            raise ImageError(f"image {self.key}: build argument given twice in {names} "
                             f"(the build would see only one of the values)")

    @property
    def context(self) -> str:
        """Build context relative to the project root (relative, so every machine agrees)."""
        return self.context_dir or f"{APPS_DIR}/{self.app_dir}"

    @property
    def dockerfile(self) -> str:
        """The app's Dockerfile, relative to the context."""
        return posixpath.relpath(f"{APPS_DIR}/{self.app_dir}/Dockerfile", self.context)


#: Keys are the model's `Workload.image` values. proddetail is one codebase built twice (the
#: tutorial's `catalog_detail:1.0` and `:2.0`), the version chosen by the APP_VERSION build arg;
#: colorapp likewise builds the mTLS demo's teller and front, the role chosen by COLOR_ROLE.
#: Every context is `apps/` (the Node apps copy apps/node-common, the Python apps
#: apps/python-common); each Dockerfile.dockerignore narrows what is sent to the app and its
#: shared package.
IMAGES: dict[str, ImageSpec] = {spec.key: spec for spec in (
    ImageSpec("frontend-node", "frontend-node", "frontend_node", "1.0", context_dir=APPS_DIR),
    ImageSpec("prodcatalog", "prodcatalog", "product_catalog", "1.0", context_dir=APPS_DIR),
    ImageSpec("proddetail-v1", "proddetail", "catalog_detail", "1.0", (("APP_VERSION", "1"),),
              context_dir=APPS_DIR),
    ImageSpec("proddetail-v2", "proddetail", "catalog_detail", "2.0", (("APP_VERSION", "2"),),
              context_dir=APPS_DIR),
    ImageSpec("colorteller", "colorapp", "colorteller", "1.0", (("COLOR_ROLE", "teller"),), context_dir=APPS_DIR),
    ImageSpec("colorfront", "colorapp", "colorfront", "1.0", (("COLOR_ROLE", "front"),), context_dir=APPS_DIR),
)}


def image_spec(key: str) -> ImageSpec:
    try:
        return IMAGES[key]
    except KeyError:
        raise ImageError(f"unknown image {key!r}; known images: {', '.join(sorted(IMAGES))}") from None


def images_for(topology: Topology) -> tuple[str, ...]:
    """The image keys the topology's workloads use, sorted (each checked against the registry)."""
    keys = sorted({w.image for m in topology.meshes for w in m.workloads})
    for key in keys:
        image_spec(key)
    return tuple(keys)


def repositories(keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """ECR repository → the image keys pushed to it (sorted), for the given keys."""
    out: dict[str, list[str]] = {}
    for key in sorted(set(keys)):
        out.setdefault(image_spec(key).repository, []).append(key)
    return {repo: tuple(ks) for repo, ks in sorted(out.items())}


# --- .dockerignore ----------------------------------------------------------------------------
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """One .dockerignore pattern (Go filepath.Match plus `**`) as a regex over a slash path."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def dockerignore_rules(text: str) -> list[tuple[re.Pattern[str], bool]]:
    """Parsed rules: (regex, excludes). Later rules override earlier ones, as in Docker."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:].strip()
        line = os.path.normpath(line).replace(os.sep, "/").lstrip("/")
        if line in ("", "."):
            continue
        rules.append((_pattern_regex(line), not negate))
    return rules


def is_ignored(rel_path: str, rules: list[tuple[re.Pattern[str], bool]]) -> bool:
    """Does the context leave out `rel_path`? A pattern matching a parent directory also matches."""
    parts = rel_path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for regex, excludes in rules:
        if any(regex.fullmatch(p) for p in prefixes):
            ignored = excludes
    return ignored


# --- context digest -----------------------------------------------------------------------------
def ignore_file(context: Path, dockerfile: str = "Dockerfile") -> str:
    """The ignore file BuildKit applies, relative to the context: `<Dockerfile>.dockerignore`
    beside the Dockerfile when it exists, else `.dockerignore`."""
    specific = f"{dockerfile}.dockerignore"
    return specific if (context / specific).is_file() else ".dockerignore"


def context_files(context: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """Relative paths (slash-separated, sorted) of the files the build can see, plus the
    Dockerfile and the ignore file in effect, which decide the build whether or not they are
    ignored."""
    ignore = ignore_file(context, dockerfile)
    rules = dockerignore_rules((context / ignore).read_text()) if (context / ignore).exists() else []
    files = set()
    for dirpath, dirnames, filenames in os.walk(context):
        rel_dir = Path(dirpath).relative_to(context).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        # prune ignored directories unless a later `!` rule could re-include something inside
        if not any(not excl for _, excl in rules):
            dirnames[:] = [d for d in dirnames if not is_ignored(rel_dir + d, rules)]
        dirnames.sort()
        for name in filenames:
            rel = rel_dir + name
            if not is_ignored(rel, rules):
                files.add(rel)
    for always in (dockerfile, ignore):
        if (context / always).exists():
            files.add(always)
    return sorted(files)


def go_file_mode(mode: int) -> str:
    """A file mode as Go's `fs.FileMode.String()` writes it (`-rw-r--r--`, `Lrwxrwxrwx`,
    `urwxr-xr-x`…): the form docker-build feeds into its context hash."""
    import stat as st

    kinds = "".join(c for c, on in (("d", st.S_ISDIR(mode)), ("L", st.S_ISLNK(mode)), ("u", mode & st.S_ISUID),
                                    ("g", mode & st.S_ISGID), ("t", mode & st.S_ISVTX)) if on)
    perms = "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    return (kinds or "-") + perms


def context_digest(context: Path, dockerfile: str = "Dockerfile") -> str:
    """sha256 over the Dockerfile and every context file's path, full mode and content.

    It covers what pulumi-docker-build's context hash covers (provider/internal/context.go,
    `hashBuildContext`/`hashFile` at 7bad76a: the Dockerfile's bytes, then per file its content,
    its slash path and Go's `FileMode.String()`; a symlink counts with its link mode and the content
    it points to), so whenever docker-build decides to rebuild because the context changed —
    including a mode that differs between two machines (umask, `core.fileMode`) — the tag changes
    too, and a rebuild never pushes a tag that already exists. Files are visited in sorted order
    (docker-build walks the tree; the order only has to be stable)."""
    h = hashlib.sha256()
    h.update(b"dockerfile\0" + hashlib.sha256((context / dockerfile).read_bytes()).digest())
    for rel in context_files(context, dockerfile):
        path = context / rel
        if path.is_symlink() and path.is_dir():
            continue  # docker-build skips symlinks to directories
        mode = go_file_mode(path.lstat().st_mode)
        h.update(rel.encode() + b"\0" + mode.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def push_decision(tag: str, in_registry: Mapping[str, str | None],
                  previous: Mapping[str, Any] | None) -> tuple[bool, str | None]:
    """Whether `pulumi up` may push `tag`, and the registry's digest for it when it is already there.

    Immutable tags forbid a second push of a tag, and docker-build pushes on every rebuild. A tag
    that is already in the repository is pushed again only if the previous `up` of this stack
    pushed it itself (then docker-build's state has it and will not rebuild it: the tag covers
    everything that makes docker-build rebuild). Otherwise — a revert to earlier content, or an
    `up` interrupted after the push but before its state was saved — the image is not pushed and
    pods get the digest the registry holds. `previous` is the stack's last `{tag, push}` for this
    image (its `imageBuilds` output); keeping its `push` when the tag is unchanged keeps the next
    preview free of changes."""
    digest = in_registry.get(tag)
    if previous and previous.get("tag") == tag and (previous.get("push") or digest):
        return bool(previous.get("push")), digest
    return digest is None, digest


def build_digest(context: Path, dockerfile: str, build_args: Iterable[tuple[str, str]], platform: str) -> str:
    """sha256 over everything a build's bytes depend on: the context digest (files, modes, the
    Dockerfile), the build arguments (sorted by name: their order on the command line changes
    nothing) and the target platform. One JSON document, so no two different inputs encode alike."""
    inputs = {"context": context_digest(context, dockerfile), "buildArgs": sorted(build_args), "platform": platform}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def content_tag(spec: ImageSpec, root: Path = ROOT, architecture: str = PLAIN_TAG_ARCHITECTURE) -> str:
    """`<version>-<build digest prefix>`, plus `-<architecture>` off amd64; fails clearly when the
    app (or its Dockerfile) is missing or the architecture has no platform."""
    if architecture not in PLATFORMS:
        raise ImageError(f"image {spec.key}: no platform for architecture {architecture!r}; "
                         f"known: {', '.join(sorted(PLATFORMS))}")
    context = root / spec.context
    if not (context / spec.dockerfile).is_file():
        raise ImageError(f"image {spec.key}: no {spec.dockerfile} in {spec.context}/ "
                         f"(the app must exist before its image can be built)")
    digest = build_digest(context, spec.dockerfile, spec.build_args, PLATFORMS[architecture])
    suffix = "" if architecture == PLAIN_TAG_ARCHITECTURE else f"-{architecture}"
    return f"{spec.version}-{digest[:DIGEST_CHARS]}{suffix}"
