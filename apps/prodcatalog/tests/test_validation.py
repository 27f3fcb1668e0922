"""Every bad input is a 4xx JSON error (never a 5xx), and nothing is stored."""

from __future__ import annotations

import pytest

from prodcatalog.validation import MAX_BODY_BYTES, MAX_NAME_LENGTH

JSON = "application/json"


def assert_client_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"]
    return body


@pytest.mark.parametrize("raw_id", [
    "-1", "abc", "1.5", "1e3", "+1", " 1", "0x10", "\u0663", "\u00b2",
    "9007199254740992", "12345678901234567890", "1" * 200,
])
def test_bad_ids_are_400_for_get_and_post(client, raw_id):
    assert_client_error(client.get(f"/products/{raw_id}"), 400)
    assert_client_error(client.post(f"/products/{raw_id}", json={"name": "x"}), 400)
    assert client.get("/products/").get_json()["products"] == {}


@pytest.mark.parametrize("body", [
    b"{", b"{name: 'x'}", b"", b"\xff\xfe{}", b"[" * 100_00, b'{"name": "x"} trailing',
    b'{"name": ' + b"1" * 5000 + b"}",
])
def test_malformed_json_is_400(client, body):
    error = assert_client_error(client.post("/products/1", data=body, content_type=JSON), 400)
    assert "JSON" in error["error"]


@pytest.mark.parametrize("document, message", [
    ('["x"]', "JSON object"), ('"x"', "JSON object"), ("42", "JSON object"), ("null", "JSON object"),
    ("{}", "required"), ('{"Name": "x"}', "required"),
    ('{"name": null}', "string"), ('{"name": 5}', "string"), ('{"name": ["x"]}', "string"),
    ('{"name": {"x": 1}}', "string"), ('{"name": true}', "string"),
    ('{"name": ""}', "empty"), ('{"name": "   "}', "empty"), ('{"name": "\\t\\n"}', "empty"),
    ('{"name": "a\\u0000b"}', "control"), ('{"name": "line\\nbreak"}', "control"),
    ('{"name": "bell\\u0007"}', "control"), ('{"name": "c1\\u0085x"}', "control"),
    ('{"name": "lone \\ud800 surrogate"}', "surrogate"),
])
def test_invalid_documents_are_400(client, document, message):
    error = assert_client_error(client.post("/products/1", data=document, content_type=JSON), 400)
    assert message in error["error"]
    assert client.get("/products/").get_json()["products"] == {}


def test_name_length_bound(client):
    ok = "n" * MAX_NAME_LENGTH
    assert client.post("/products/1", json={"name": ok}).status_code == 200
    error = assert_client_error(client.post("/products/2", json={"name": ok + "n"}), 400)
    assert error["limit"] == MAX_NAME_LENGTH
    # Characters, not bytes: 200 four-byte emoji are allowed.
    assert client.post("/products/3", json={"name": "🚀" * MAX_NAME_LENGTH}).status_code == 200


@pytest.mark.parametrize("name, message", [
    ("\u200b", "visible"), ("\u200b\u200c\u200d\u2060\ufeff", "visible"), (" \u200b ", "visible"),
    ("\u00ad", "visible"), ("\U000e0041", "visible"),
    ("abc\u202egnp.exe", "bidirectional"), ("\u202dx", "bidirectional"), ("a\u2066b\u2069", "bidirectional"),
    ("x\u200f", "bidirectional"), ("x\u061c", "bidirectional"), ("\u202a\u202c", "bidirectional"),
])
def test_invisible_and_bidi_names_are_400_naming_the_field(client, name, message):
    error = assert_client_error(client.post("/products/1", json={"name": name}), 400)
    assert message in error["error"] and error["field"] == "name"
    assert client.get("/products/").get_json()["products"] == {}


@pytest.mark.parametrize("name", ["a\u200bb", "\u0645\u0643\u062a\u0628", "\u05e9\u05dc\u05d5\u05dd x",
                                  "\U0001f469\u200d\U0001f4bb"])
def test_names_with_some_visible_text_and_no_bidi_control_are_kept(client, name):
    """Right-to-left scripts need no control characters; a joiner inside an emoji sequence is fine."""
    assert client.post("/products/1", json={"name": name}).status_code == 200
    assert client.get("/products/1").get_json()["product"]["name"] == name


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "x-unknown", "gzip, identity"])
def test_an_encoded_body_is_415(client, encoding):
    error = assert_client_error(client.post("/products/1", data='{"name": "x"}', content_type=JSON,
                                            headers={"Content-Encoding": encoding}), 415)
    assert error["content_encoding"] == encoding
    assert client.get("/products/").get_json()["products"] == {}


def test_identity_encoding_is_accepted(client):
    response = client.post("/products/1", data='{"name": "x"}', content_type=JSON,
                           headers={"Content-Encoding": "identity"})
    assert response.status_code == 200


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/jsonx", "multipart/form-data; boundary=x"])
def test_wrong_content_type_is_415(client, content_type):
    kwargs = {"data": '{"name": "x"}'}
    if content_type:
        kwargs["content_type"] = content_type
    assert_client_error(client.post("/products/1", **kwargs), 415)


def test_json_with_charset_is_accepted(client):
    response = client.post("/products/1", data='{"name": "x"}', content_type="application/json; charset=utf-8")
    assert response.status_code == 200


def test_body_too_large_is_413(client):
    body = '{"name": "x", "padding": "' + "p" * MAX_BODY_BYTES + '"}'
    assert_client_error(client.post("/products/1", data=body, content_type=JSON), 413)
    assert client.get("/products/").get_json()["products"] == {}


def test_body_just_under_the_limit_is_read(client):
    body = '{"name": "x", "padding": "'
    body += "p" * (MAX_BODY_BYTES - len(body) - 2) + '"}'
    assert len(body) == MAX_BODY_BYTES
    assert client.post("/products/1", data=body, content_type=JSON).status_code == 200
