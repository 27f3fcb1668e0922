import time

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from colorapp import ConfigError, TRACER_PROVIDER
from colorapp.config import FrontSettings
from colorapp.front import create_app
from colorapp.tracing import build_tracer_provider


def front(port, **env):
    return create_app({"COLOR_HOST": f"127.0.0.1:{port}", "OTEL_TRACES_EXPORTER": "none", **env}).test_client()


def test_passes_color_header_through_and_answers_the_color(color_service):
    color_service.body = "{color}"
    response = front(color_service.port).get("/", headers={"color_header": "green"})
    assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (200, "text/plain", "green")
    assert color_service.requests[-1]["color_header"] == "green"


def test_without_color_header_none_is_sent(color_service):
    assert front(color_service.port).get("/").get_data(as_text=True) == "blue"
    assert "color_header" not in color_service.requests[-1]


@pytest.mark.parametrize("bad", ["a b", "x" * 65, "blue;rm", "grün"])
def test_malformed_color_header_is_a_400_and_never_forwarded(color_service, bad):
    response = front(color_service.port).get("/", headers={"color_header": bad})
    assert response.status_code == 400
    assert "color_header" in response.get_json()["error"]
    assert color_service.requests == []


def test_no_route_is_a_404_naming_the_header(color_service):
    color_service.status, color_service.body = 404, ""
    response = front(color_service.port).get("/", headers={"color_header": "purple"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "the color service has no route for color_header='purple'"
    response = front(color_service.port).get("/")
    assert response.get_json()["error"] == "the color service has no route for a request without color_header"


def test_failing_color_service_is_a_502_with_its_status_and_message(color_service):
    color_service.status = 503
    color_service.body = "upstream connect error or disconnect/reset before headers. TLS error: CERTIFICATE_VERIFY_FAILED"
    response = front(color_service.port).get("/", headers={"color_header": "green"})
    assert response.status_code == 502
    body = response.get_json()
    assert body["upstream_status"] == 503
    assert "CERTIFICATE_VERIFY_FAILED" in body["upstream_body"]
    assert body["reason"] == "the color service's certificate is not trusted by front"


ENVOY_RESET = "upstream connect error or disconnect/reset before headers. reset reason: "


@pytest.mark.parametrize("upstream_body, reason", [
    (ENVOY_RESET + "connection failure, transport failure reason: TLS_error:|268435581:SSL routines:"
     "OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: X509_verify_cert: certificate verification "
     "error at depth 1: self signed certificate in certificate chain:TLS_error_end",
     "the color service's certificate is not trusted by front"),
    (ENVOY_RESET + "connection failure, transport failure reason: TLS_error:|268435581:SSL routines:"
     "OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: verify SAN list:TLS_error_end",
     "the color service's certificate does not carry the name front expects (SAN mismatch)"),
    (ENVOY_RESET + "remote connection failure, transport failure reason: TLS_error:|268435703:SSL routines:"
     "OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end",
     "the color service does not speak TLS, and front's client policy requires it"),
    (ENVOY_RESET + "remote connection failure, transport failure reason: TLS_error:|268436502:SSL routines:"
     "OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA:TLS_error_end",
     "the color service does not trust front's certificate"),
    (ENVOY_RESET + "connection failure, transport failure reason: delayed connect error: 111",
     "the color service refused the connection"),
    (ENVOY_RESET + "remote connection failure", "front's sidecar could not connect to the color service"),
    ("no healthy upstream", "no instance of the color service is available"),
    ("database on fire", "the color service answered HTTP 503"),
])
def test_the_502_says_why_in_words(color_service, upstream_body, reason):
    color_service.status, color_service.body = 503, upstream_body
    body = front(color_service.port).get("/", headers={"color_header": "green"}).get_json()
    assert (body["error"], body["reason"], body["upstream_body"]) == (
        "the color service failed", reason, upstream_body[:300])


def test_unreachable_color_service_is_a_502(free_port):
    response = front(free_port).get("/")  # nothing listens there
    assert response.status_code == 502
    assert response.get_json()["error"] == "the color service is unreachable"


def test_slow_color_service_is_a_504_after_the_timeout(color_service):
    color_service.delay = 3
    started = time.monotonic()
    response = front(color_service.port, UPSTREAM_TIMEOUT_SECONDS="0.5").get("/")
    assert response.status_code == 504
    assert time.monotonic() - started < 2.5


def test_other_methods_and_paths_are_json_4xx(color_service):
    client = front(color_service.port)
    assert client.post("/").status_code == 405
    assert client.post("/").get_json()["error"] == "method not allowed"
    response = client.get("/nope")
    assert (response.status_code, response.get_json()["status"]) == (404, 404)


def test_ping_does_not_call_the_color_service(color_service):
    assert front(color_service.port).get("/ping").get_data(as_text=True) == "Healthy"
    assert color_service.requests == []


def test_trace_context_reaches_the_color_service(color_service):
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider({"OTEL_TRACES_EXPORTER": "none"}, "Color-Front")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app({"COLOR_HOST": f"127.0.0.1:{color_service.port}", TRACER_PROVIDER: provider})
    app.test_client().get("/", headers={"color_header": "blue"})
    sent = color_service.requests[-1]
    client_span = next(s for s in exporter.get_finished_spans() if s.name == "color GET")
    trace_id = format(client_span.context.trace_id, "032x")
    assert sent["traceparent"].split("-")[1] == trace_id
    assert sent["x-amzn-trace-id"].startswith(f"Root=1-{trace_id[:8]}-{trace_id[8:]}")


@pytest.mark.parametrize("value, url", [
    ("color.mtls.svc.cluster.local:8080", "http://color.mtls.svc.cluster.local:8080/"),
    ("http://color.mtls.svc.cluster.local:8080/", "http://color.mtls.svc.cluster.local:8080/"),
    ("http://127.0.0.1:9000", "http://127.0.0.1:9000/"),
])
def test_color_host_forms(value, url):
    assert FrontSettings.from_env({"COLOR_HOST": value}).color_url == url


@pytest.mark.parametrize("env", [
    {}, {"COLOR_HOST": ""}, {"COLOR_HOST": "https://color:8080"}, {"COLOR_HOST": "color:99999"},
    {"COLOR_HOST": "http://color:8080/?x=1"}, {"COLOR_HOST": "color/x"},
    {"COLOR_HOST": "color:8080", "UPSTREAM_TIMEOUT_SECONDS": "0"},
    {"COLOR_HOST": "color:8080", "UPSTREAM_TIMEOUT_SECONDS": "soon"},
])
def test_bad_settings_are_refused_at_boot(env, monkeypatch):
    monkeypatch.delenv("COLOR_HOST", raising=False)
    monkeypatch.delenv("UPSTREAM_TIMEOUT_SECONDS", raising=False)
    with pytest.raises(ConfigError):
        create_app({"OTEL_TRACES_EXPORTER": "none", **env})


def test_gunicorn_serves_the_contract(color_service, gunicorn):
    """The image's command with COLOR_ROLE=front, everything from env; gunicorn keeps `color_header`."""
    color_service.body = "{color}"
    server = gunicorn.serve(COLOR_ROLE="front", COLOR_HOST=f"127.0.0.1:{color_service.port}")
    assert server.get("/", headers={"color_header": "red"}) == "red"
