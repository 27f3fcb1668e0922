"""Input rules for product ids and bodies: every violation is an `InvalidInput` (HTTP 4xx), never a crash.

Bounds (documented in the README and the OpenAPI schema):
- id: decimal digits only, 0 <= id <= 2**53 - 1, so JavaScript clients (the Node frontend) hold it exactly;
- body: `Content-Type: application/json`, at most MAX_BODY_BYTES, a JSON object;
- name: a string of 1..MAX_NAME_LENGTH characters, without control characters or lone surrogates
  (they cannot be stored as UTF-8 and break the HTML that shows them), with something visible
  (not only whitespace and invisible format characters such as U+200B), and without bidirectional
  controls, which make a name display as another (`abc\u202egnp.exe` shows as "abcexe.png").
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

MAX_PRODUCT_ID = 2**53 - 1
MAX_NAME_LENGTH = 200
MAX_BODY_BYTES = 16 * 1024

_DIGITS = re.compile(r"[0-9]{1,16}")
_REJECTED_CATEGORIES = {"Cc", "Cs"}  # control characters, surrogates
#: Bidirectional embeddings, overrides and isolates, the LRM/RLM marks and the Arabic letter mark.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


class InvalidInput(ValueError):
    """A client error: `status` is the HTTP code, `detail` extra JSON fields for the error body."""

    def __init__(self, message: str, status: int = 400, **detail: Any):
        super().__init__(message)
        self.message, self.status, self.detail = message, status, detail


def parse_product_id(raw: str) -> int:
    """The id from the URL path; rejects signs, spaces, non-ASCII digits and out-of-range values."""
    if not _DIGITS.fullmatch(raw) or int(raw) > MAX_PRODUCT_ID:
        raise InvalidInput("product id must be an integer from 0 to 9007199254740991", id=raw[:40])
    return int(raw)


def parse_product_body(content_type: str | None, body: bytes) -> str:
    """The product name from a POST body, checked against every rule in the module docstring."""
    mimetype = (content_type or "").split(";", 1)[0].strip().lower()
    if mimetype != "application/json":
        raise InvalidInput("request body must be JSON (Content-Type: application/json)", status=415,
                           content_type=(content_type or "")[:100])
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput(f"request body exceeds {MAX_BODY_BYTES} bytes", status=413, limit=MAX_BODY_BYTES)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, huge ints, deep nesting
        raise InvalidInput("request body is not valid JSON", reason=str(exc)[:200]) from exc
    if not isinstance(document, dict):
        raise InvalidInput('request body must be a JSON object like {"name": "..."}')
    if "name" not in document:
        raise InvalidInput('field "name" is required', field="name")
    name = document["name"]
    if not isinstance(name, str):
        raise InvalidInput('field "name" must be a string', field="name")
    if not name.strip():
        raise InvalidInput('field "name" must not be empty', field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f'field "name" exceeds {MAX_NAME_LENGTH} characters', field="name",
                           limit=MAX_NAME_LENGTH)
    if any(unicodedata.category(ch) in _REJECTED_CATEGORIES for ch in name):
        raise InvalidInput('field "name" must not contain control characters or lone surrogates', field="name")
    if any(ch in BIDI_CONTROLS for ch in name):
        raise InvalidInput('field "name" must not contain bidirectional control characters', field="name")
    if all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in name):
        raise InvalidInput('field "name" must have a visible character, not only whitespace and invisible ones',
                           field="name")
    return name
