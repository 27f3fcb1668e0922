"""The tables' DynamoDB traffic in the cost model: through the NAT gateways (data processing) unless
the DynamoDB gateway endpoint carries it, which costs nothing and shows what it saves; and the
bytes-per-request assumption measured against the catalog's own calls."""

from __future__ import annotations

import re

import pytest

from celestials.cost import load_price_book, price_resources, render_table
from celestials.cost.model import NAT_GATEWAY, VPC_ENDPOINT
from synth.harness import quiet, synth_stack
from tests.cost.test_model import ON

BOOK = load_price_book()
A = BOOK.assumptions


def _records(stack: str, **overrides: str) -> list[dict]:
    with quiet():
        return synth_stack(stack, overrides or None).resources


def _without_dynamodb_endpoint(records: list[dict]) -> list[dict]:
    return [r for r in records if not (r["type"] == VPC_ENDPOINT and r["name"] == "network-dynamodb")]


def _traffic_gb() -> float:
    requests = A["dynamodb_read_request_units"].value + A["dynamodb_write_request_units"].value
    return requests * A["dynamodb_request_bytes"].value / 1e9


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_gateway_endpoint_takes_the_tables_traffic_off_the_nat_gateways(stack):
    records = _records(stack)
    with_endpoint = price_resources(records, "us-west-2", today=ON)
    without = price_resources(_without_dynamodb_endpoint(records), "us-west-2", today=ON)
    per_gb = BOOK.region("us-west-2")["nat_gateway_gb"].usd
    saving = _traffic_gb() * per_gb
    assert saving > 0

    nats = [r for r in with_endpoint.resources if r.type == NAT_GATEWAY]
    assert nats and all([c.item for c in r.charges] == ["NAT gateway", "data processed"] for r in nats)
    extra = [c for r in without.resources if r.type == NAT_GATEWAY for c in r.charges
             if c.item.startswith("DynamoDB traffic processed")]
    assert len(extra) == len(nats)  # shared evenly by every NAT gateway
    assert sum(c.monthly for c in extra) == pytest.approx(saving)
    assert all(c.assumption == "dynamodb_request_bytes" for c in extra)
    assert without.total - with_endpoint.total == pytest.approx(saving)

    [endpoint] = [r for r in with_endpoint.resources if r.name == "network-dynamodb"]
    assert endpoint.status == "free" and endpoint.saves == pytest.approx(saving)
    assert f"{_traffic_gb():g} GB a month of DynamoDB traffic past the NAT gateways" in endpoint.note


def test_make_cost_shows_the_saving():
    text = render_table(price_resources(_records("dev"), "us-west-2", today=ON), "dev")
    saving = _traffic_gb() * BOOK.region("us-west-2")["nat_gateway_gb"].usd
    assert f"    - ${saving:,.2f}/month: {VPC_ENDPOINT}  network-dynamodb: gateway endpoints have no AWS charge" in text
    assert "    dynamodb_request_bytes: 2,500 bytes on the wire per DynamoDB request" in text


def test_without_a_table_there_is_no_dynamodb_traffic_to_save():
    report = price_resources(_records("dev", prodcatalogStorage="sqlite", prodcatalogReplicas="1"), "us-west-2", today=ON)
    [endpoint] = [r for r in report.resources if r.name == "network-dynamodb"]
    assert endpoint.status == "free" and endpoint.saves == 0
    assert "Saved by" not in render_table(report, "dev")


def _signed_request_bytes(token_chars: int) -> dict[str, int]:
    """The bytes of each DynamoDB call prodcatalog makes (its own client config and arguments),
    as botocore signs them with a session token of `token_chars` characters; nothing is sent."""
    import botocore.session
    from botocore.awsrequest import AWSResponse

    from apps.prodcatalog.prodcatalog.storage.dynamodb import CLIENT_CONFIG, DynamoDbProductStore

    sizes: dict[str, int] = {}

    class _Empty:
        def stream(self, **_):
            yield b"{}"

    def capture(request, event_name, **_):
        head = f"{request.method} / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()) + "\r\n"
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        sizes[event_name.rsplit(".", 1)[-1]] = len(head.encode()) + len(body)
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Empty())

    session = botocore.session.get_session()
    session.set_credentials("ASIA" + "A" * 16, "s" * 40, "t" * token_chars)
    client = session.create_client("dynamodb", region_name="us-west-2", config=CLIENT_CONFIG)
    client.meta.events.register("before-send", capture)
    store = DynamoDbProductStore("catalog-products-0123456", "us-west-2", client=client)
    store.list(), store.get(42), store.put(42, "a product name")
    return sizes


def test_the_bytes_per_request_are_the_catalogs_own_calls_as_signed():
    why = A["dynamodb_request_bytes"].why
    token_chars = int(re.search(r"([\d,]+)-character session token", why).group(1).replace(",", ""))
    sizes = _signed_request_bytes(token_chars)
    assert set(sizes) == {"Scan", "GetItem", "PutItem"}
    largest = max(sizes.values())
    # the request as signed, plus at most 1 KB of response (headers and a small item)
    assert largest < A["dynamodb_request_bytes"].value <= largest + 1024, sizes
