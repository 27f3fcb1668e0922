"""What the Python images hold where their command runs, read from their Dockerfiles and the files
their build context sends (no Docker here): the gunicorn worker both apps share
(apps/python-common) must be in each image, beside the app that names it."""

from __future__ import annotations

import os
import posixpath
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from celestials import images

ROOT = Path(__file__).resolve().parents[2]
#: Every image whose app runs under gunicorn with the shared worker.
GUNICORN_IMAGES = ("prodcatalog", "colorteller", "colorfront")


class LayoutError(AssertionError):
    pass


def _instructions(dockerfile: str) -> list[tuple[str, list[str]]]:
    out, pending = [], ""
    for line in dockerfile.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        words = shlex.split(pending + line, comments=False)
        pending = ""
        out.append((words[0].upper(), words[1:]))
    return out


def image_files(context: Path, dockerfile: str) -> dict[str, Path]:
    """The final stage's files that came from COPY (absolute path in the image → file on disk),
    following `COPY --from` between stages; a COPY of something the context does not send fails."""
    sent = {rel: context / rel for rel in images.context_files(context, dockerfile)}
    stages: dict[str, dict[str, Path]] = {}
    fs: dict[str, Path] = {}
    workdir = "/"
    for instruction, args in _instructions((context / dockerfile).read_text()):
        if instruction == "FROM":
            fs, workdir = {}, "/"
            name = args[2] if len(args) >= 3 and args[1].lower() == "as" else str(len(stages))
            stages[name] = fs
        elif instruction == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, args[0]))
        elif instruction == "COPY":
            flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--"))
            *sources, dest = [a for a in args if not a.startswith("--")]
            source_fs = stages[flags["from"]] if "from" in flags else sent
            into_dir = dest.endswith("/") or len(sources) > 1
            dest = posixpath.normpath(posixpath.join(workdir, dest))
            for src in sources:
                key = posixpath.normpath(src if "from" not in flags else posixpath.join("/", src))
                if key in source_fs:
                    fs[posixpath.join(dest, posixpath.basename(key)) if into_dir else dest] = source_fs[key]
                    continue
                under = {p: f for p, f in source_fs.items() if p.startswith(key.rstrip("/") + "/")}
                if not under and "from" not in flags:
                    raise LayoutError(f"COPY {src}: the build context does not send it")
                for path, file in under.items():
                    fs[posixpath.join(dest, posixpath.relpath(path, key))] = file
    return fs


def _materialize(files: dict[str, Path], root: Path) -> None:
    for path, source in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())


#: Run where the image's CMD runs: load gunicorn.conf.py as gunicorn does, import the worker class it
#: names, and say which file it came from.
_PROBE = """
import importlib, runpy
conf = runpy.run_path("gunicorn.conf.py")
module, _, name = conf["worker_class"].rpartition(".")
loaded = importlib.import_module(module)
getattr(loaded, name)
print(loaded.__file__)
"""


@pytest.mark.parametrize("key", GUNICORN_IMAGES)
def test_the_image_holds_the_worker_its_gunicorn_config_names(key, tmp_path):
    spec = images.image_spec(key)
    files = image_files(ROOT / spec.context, spec.dockerfile)
    assert "/app/app_common/gunicorn_worker.py" in files
    assert "/app/app_common/testing.py" not in files  # test helpers stay out of the images
    _materialize(files, tmp_path)
    app = tmp_path / "app"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = subprocess.run([sys.executable, "-c", _PROBE], cwd=app, env=env, capture_output=True, text=True,
                           timeout=60)
    assert probe.returncode == 0, probe.stderr
    # Found in the image's /app, not through the venv's editable install of apps/python-common.
    assert Path(probe.stdout.strip()).is_relative_to(app), probe.stdout


def test_the_layout_check_fails_when_the_context_does_not_send_the_shared_package(tmp_path):
    """The check above can fail: the same Dockerfile, with an ignore file that leaves python-common out."""
    spec = images.image_spec("prodcatalog")
    for rel in images.context_files(ROOT / spec.context, spec.dockerfile):
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / spec.context / rel).read_bytes())
    ignore = tmp_path / images.ignore_file(tmp_path, spec.dockerfile)
    ignore.write_text(ignore.read_text().replace("!python-common/app_common\n", ""))
    with pytest.raises(LayoutError, match="COPY python-common/app_common/: the build context does not send it"):
        image_files(tmp_path, spec.dockerfile)
