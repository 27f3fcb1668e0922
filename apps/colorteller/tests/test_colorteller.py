import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from colorteller import ConfigError, TRACER_PROVIDER, create_app

APP_DIR = Path(__file__).resolve().parent.parent


def make(color="blue", provider=None, **env):
    config = {"COLOR": color, "OTEL_TRACES_EXPORTER": "none", **env}
    if provider is not None:
        config[TRACER_PROVIDER] = provider
    return create_app(config).test_client()


@pytest.mark.parametrize("path", ["/", "/anything/at/all", "/?x=1"])
def test_every_path_tells_the_color(path):
    response = make("green").get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "green"


def test_ping_is_healthy():
    response = make().get("/ping")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "Healthy")


def test_other_methods_get_a_json_405():
    response = make().post("/", data="x")
    assert response.status_code == 405
    assert response.get_json() == {"error": "method not allowed", "status": 405}
    assert response.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("bad", [None, "", "Blue", "bl ue", "x" * 33, "-red"])
def test_bad_color_is_refused_at_boot(bad, monkeypatch):
    monkeypatch.delenv("COLOR", raising=False)
    config = {"OTEL_TRACES_EXPORTER": "none"}
    if bad is not None:
        config["COLOR"] = bad
    with pytest.raises(ConfigError, match="COLOR"):
        create_app(config)


def test_requests_are_traced_with_xray_ids_and_the_incoming_parent(spans):
    provider, exporter = spans
    parent_trace = "5f4e3d2c" + "1" * 24
    client = make("red", provider)
    client.get("/", headers={"traceparent": f"00-{parent_trace}-00f067aa0ba902b7-01"})
    client.get("/")
    client.get("/ping")
    child, root = exporter.get_finished_spans()  # /ping is not traced
    assert format(child.context.trace_id, "032x") == parent_trace
    # X-Ray ids start with the epoch seconds of the trace's start
    assert abs((root.context.trace_id >> 96) - time.time()) < 60
    assert child.attributes.get("http.route") == "/"
    assert root.resource.attributes["service.name"] == "Color-Teller-Red"


def test_gunicorn_serves_the_contract():
    """The run contract: `python -m gunicorn -c gunicorn.conf.py "colorteller:create_app()"`, port from env."""
    port = 18301
    env = {**os.environ, "COLOR": "blue", "PORT": str(port), "HOST": "127.0.0.1", "OTEL_TRACES_EXPORTER": "none"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "colorteller:create_app()"],
                            cwd=APP_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.read().decode() == "blue"
                    break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer within 20 s"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_gunicorn_stops_on_a_bad_color():
    env = {**os.environ, "COLOR": "", "PORT": "18302", "HOST": "127.0.0.1", "OTEL_TRACES_EXPORTER": "none"}
    proc = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "colorteller:create_app()"],
                          cwd=APP_DIR, env=env, capture_output=True, timeout=60)
    assert proc.returncode != 0
    assert b"invalid environment variable COLOR" in proc.stderr
