import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from colorapp import ConfigError, TRACER_PROVIDER
from colorapp.teller import create_app


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


def test_gunicorn_serves_the_contract(gunicorn):
    """The image's command with COLOR_ROLE=teller, port from env; `color_header` (which gunicorn
    keeps for the front) changes nothing here."""
    server = gunicorn.serve(COLOR_ROLE="teller", COLOR="blue")
    assert server.get("/", headers={"color_header": "red"}) == "blue"


def test_gunicorn_stops_on_a_bad_color(gunicorn):
    proc = gunicorn.run(COLOR_ROLE="teller", COLOR="")
    assert proc.returncode != 0
    assert b"invalid environment variable COLOR" in proc.stderr


def _another_free_port(taken: int) -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert port != taken
    return port


def test_a_health_port_answers_probes_only(gunicorn):
    """HEALTH_PORT (blue and green in the cluster: their PORT requires front's client certificate,
    which the kubelet cannot present) answers `GET /ping` and nothing else, so it is no plain way
    around the mesh's TLS."""
    server = gunicorn.serve(COLOR_ROLE="teller", COLOR="blue")
    port = int(server.url.rsplit(":", 1)[1])
    server.proc.terminate()
    server.proc.wait(timeout=20)
    health_port = _another_free_port(port)
    server = gunicorn.serve(COLOR_ROLE="teller", COLOR="blue", PORT=str(port), HEALTH_PORT=str(health_port))
    assert server.get("/") == "blue" and server.get("/ping") == "Healthy"
    probes = f"http://127.0.0.1:{health_port}"
    with urllib.request.urlopen(probes + "/ping", timeout=5) as answer:
        assert answer.read() == b"Healthy"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(probes + "/", timeout=5)
    assert refused.value.code == 404
    assert json.loads(refused.value.read()) == {"error": "not found", "status": 404}


def test_a_health_port_equal_to_the_port_is_refused(gunicorn):
    proc = gunicorn.run(COLOR_ROLE="teller", COLOR="blue", PORT="18399", HEALTH_PORT="18399")
    assert proc.returncode != 0 and b"invalid environment variable HEALTH_PORT" in proc.stderr
