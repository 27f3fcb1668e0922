"""One codebase, two apps: COLOR_ROLE picks the app, and each image bakes its role at build time."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from colorapp import ROLES, ConfigError, create_app

APP_DIR = Path(__file__).resolve().parent.parent
ROLE_ENV = {"teller": {"COLOR": "green"}, "front": {"COLOR_HOST": "color.mtls.svc.cluster.local:8080"}}


@pytest.mark.parametrize("role", ROLES)
def test_color_role_picks_the_app(role):
    app = create_app({"COLOR_ROLE": role, "OTEL_TRACES_EXPORTER": "none", **ROLE_ENV[role]})
    assert app.extensions["colorapp"]["role"] == role
    assert app.import_name == f"colorapp.{role}"


def test_the_role_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("COLOR_ROLE", "teller")
    monkeypatch.setenv("COLOR", "red")
    assert create_app({"OTEL_TRACES_EXPORTER": "none"}).test_client().get("/").get_data(as_text=True) == "red"


@pytest.mark.parametrize("bad", [None, "", "Teller", "colorteller", "both"])
def test_a_missing_or_unknown_role_is_refused(bad, monkeypatch):
    monkeypatch.delenv("COLOR_ROLE", raising=False)
    config = {"OTEL_TRACES_EXPORTER": "none", **ROLE_ENV["teller"]}
    if bad is not None:
        config["COLOR_ROLE"] = bad
    with pytest.raises(ConfigError, match="COLOR_ROLE.*teller or front"):
        create_app(config)


def test_gunicorn_stops_without_a_role(gunicorn, monkeypatch):
    monkeypatch.delenv("COLOR_ROLE", raising=False)
    proc = gunicorn.run(COLOR="blue")
    assert proc.returncode != 0
    assert b"invalid environment variable COLOR_ROLE" in proc.stderr


def _dockerfile_role_check() -> str:
    """The Python the Dockerfile runs at build time to vet the baked COLOR_ROLE."""
    dockerfile = (APP_DIR / "Dockerfile").read_text()
    assert re.search(r"^ARG COLOR_ROLE$", dockerfile, re.M), "the role is not a build arg"
    assert re.search(r"^\s+COLOR_ROLE=\$\{COLOR_ROLE\}", dockerfile, re.M), "the build arg is not baked into ENV"
    (code,) = re.findall(r'^RUN python -c "(.*role_from_env.*)"$', dockerfile, re.M)
    return code


@pytest.mark.parametrize("role, ok", [("teller", True), ("front", True), ("", False), ("red", False)])
def test_the_image_build_fails_on_a_missing_or_unknown_role(role, ok):
    env = {k: v for k, v in os.environ.items() if k != "COLOR_ROLE"}
    proc = subprocess.run([sys.executable, "-c", _dockerfile_role_check()], cwd=APP_DIR, capture_output=True,
                          env={**env, "COLOR_ROLE": role}, timeout=60)
    assert (proc.returncode == 0) is ok, proc.stderr.decode()
    if not ok:
        assert b"invalid environment variable COLOR_ROLE" in proc.stderr
