"""proddetail down, slow or answering garbage: the product answers stay 200 with a degraded `details`."""

from __future__ import annotations

import time

import pytest

from prodcatalog_stubs import RawServer

TIMEOUT = 0.3


def degraded(response) -> str:
    assert response.status_code == 200
    details = response.get_json()["details"]
    assert set(details) == {"available", "reason"} and details["available"] is False
    return details["reason"]


def both_endpoints(client):
    """GET /products/ and GET /products/1 (the product exists), as responses."""
    client.post("/products/1", json={"name": "Table"})
    return [client.get("/products/"), client.get("/products/1")]


def test_products_survive_proddetail_down(make_app, refused_url):
    client = make_app(AGG_APP_URL=refused_url).test_client()
    listing, one = both_endpoints(client)
    assert listing.get_json()["products"] == {"1": "Table"}
    assert one.get_json()["product"] == {"id": 1, "name": "Table"}
    for response in (listing, one):
        assert degraded(response) == "proddetail unreachable: connection refused"


def test_unresolvable_host_is_degraded(make_app):
    client = make_app(AGG_APP_URL="http://proddetail.invalid:3000/catalogDetail").test_client()
    for response in both_endpoints(client):
        assert degraded(response).startswith("proddetail unreachable: ")


def test_silent_proddetail_times_out_within_the_bound(make_app):
    with RawServer("silent") as silent:
        client = make_app(AGG_APP_URL=silent.url, PROXY_TIMEOUT_SECONDS=str(TIMEOUT)).test_client()
        client.post("/products/1", json={"name": "Table"})
        started = time.monotonic()
        response = client.get("/products/")
        elapsed = time.monotonic() - started
    assert degraded(response) == f"proddetail timed out after {TIMEOUT:g}s"
    assert response.get_json()["products"] == {"1": "Table"}
    assert elapsed < TIMEOUT + 1.5, f"the timeout bounds the wait (took {elapsed:.2f}s)"


def test_trickling_body_is_cut_at_the_deadline(make_app):
    """A server that keeps sending one byte at a time cannot hold the request past ~2x the timeout."""
    with RawServer("trickle", interval=0.05) as trickle:
        client = make_app(AGG_APP_URL=trickle.url, PROXY_TIMEOUT_SECONDS=str(TIMEOUT)).test_client()
        started = time.monotonic()
        response = client.get("/products/")
        elapsed = time.monotonic() - started
    assert degraded(response) == f"proddetail timed out after {TIMEOUT:g}s"
    assert elapsed < 2 * TIMEOUT + 1.5, f"took {elapsed:.2f}s"


def test_slow_proddetail_is_degraded_then_recovers(make_app, proddetail):
    proddetail.behaviour, proddetail.delay = "slow", 1.0
    client = make_app(PROXY_TIMEOUT_SECONDS=str(TIMEOUT)).test_client()
    assert degraded(client.get("/products/")) == f"proddetail timed out after {TIMEOUT:g}s"
    proddetail.behaviour = "ok"
    assert client.get("/products/").get_json()["details"] == {"version": "1", "vendors": ["ABC.com"]}


@pytest.mark.parametrize("behaviour, reason", [
    ("status500", "proddetail answered HTTP 500"),
    ("html", "proddetail returned invalid JSON"),
    ("array", "proddetail returned a JSON list, not an object"),
    ("huge", "proddetail response exceeds 65536 bytes"),
])
def test_garbage_answers_are_degraded(client, proddetail, behaviour, reason):
    proddetail.behaviour = behaviour
    for response in both_endpoints(client):
        assert degraded(response) == reason


def test_non_http_answer_is_degraded(make_app):
    with RawServer("garbage") as garbage:
        client = make_app(AGG_APP_URL=garbage.url).test_client()
        reason = degraded(client.get("/products/"))
    assert reason == "proddetail closed the connection or did not answer valid HTTP"


def test_degraded_shape_matches_the_openapi_schema(make_app, refused_url):
    import jsonschema

    client = make_app(AGG_APP_URL=refused_url).test_client()
    schema = client.get("/openapi.json").get_json()["components"]["schemas"]["DetailsUnavailable"]
    jsonschema.validate(client.get("/products/").get_json()["details"], schema)
