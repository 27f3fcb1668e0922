"""The OpenAPI 3 description served at /openapi.json; built from the same bounds the code enforces."""

from __future__ import annotations

from typing import Any

from .validation import MAX_BODY_BYTES, MAX_NAME_LENGTH, MAX_PRODUCT_ID

ADDED_STATUS = "New Product added to Product Catalog"

#: Printable text with at least one non-space character (no control characters, no lone surrogates).
# No control characters and no bidirectional controls anywhere; at least one character that is
# neither whitespace nor invisible (the common format characters; the app refuses every Cf).
_ALLOWED = r"[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
_VISIBLE = r"[^\s\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
NAME_PATTERN = f"^{_ALLOWED}*{_VISIBLE}{_ALLOWED}*$"


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _error(description: str) -> dict[str, Any]:
    return _json("Error", description)


def build_spec() -> dict[str, Any]:
    """A fresh dict each call (callers may mutate it)."""
    product_id = {
        "name": "id", "in": "path", "required": True,
        "description": "Product id: a decimal integer from 0 to 2^53-1 (safe for JavaScript clients).",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PRODUCT_ID},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Product Catalog",
            "version": "2.0.0",
            "description": (
                "Products (id → name) plus the catalog detail fetched from proddetail. When proddetail "
                "is down, slow or answers garbage, `details` is `{\"available\": false, \"reason\": \"...\"}` "
                "and the product answer is still 200. Every client error is a JSON `{\"error\": \"...\"}` body."
            ),
        },
        "paths": {
            "/products/": {
                "get": {
                    "operationId": "listProducts",
                    "summary": "Every product and the catalog detail",
                    "responses": {"200": _json("ProductList", "Products by id, and proddetail's answer "
                                                             "or the degraded details"),
                                  "503": _error("The product store is unavailable")},
                },
            },
            "/products/ping": {
                "get": {
                    "operationId": "ping",
                    "summary": "Liveness check",
                    "responses": {"200": {"description": "Always `healthy`",
                                          "content": {"text/plain": {"schema": {"type": "string",
                                                                                "enum": ["healthy"]}}}}},
                },
            },
            "/products/{id}": {
                "parameters": [product_id],
                "get": {
                    "operationId": "getProduct",
                    "summary": "One product and the catalog detail",
                    "responses": {"200": _json("ProductWithDetails", "The product"),
                                  "400": _error("The id is not an integer from 0 to 2^53-1"),
                                  "404": _error("No product has this id"),
                                  "503": _error("The product store is unavailable")},
                },
                "post": {
                    "operationId": "putProduct",
                    "summary": "Add a product, or rename the product with this id",
                    "description": ("Kept at 200 (not 201) for compatibility with the original service's "
                                    "clients. Fields other than `name` are ignored."),
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewProduct"}}},
                    },
                    "responses": {
                        "200": _json("ProductAdded", "Stored"),
                        "400": _error("Bad id, malformed JSON, not an object, or a missing/empty/invalid name"),
                        "408": _error("The body did not arrive in time"),
                        "413": _error(f"Body larger than {MAX_BODY_BYTES} bytes"),
                        "415": _error("Content-Type is not application/json, or the body is encoded "
                                      "(Content-Encoding other than identity)"),
                        "503": _error("The product store is unavailable"),
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "NewProduct": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"$ref": "#/components/schemas/ProductName"}},
                },
                "ProductName": {
                    "type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": NAME_PATTERN,
                    "description": (f"1 to {MAX_NAME_LENGTH} characters, not only whitespace and invisible "
                                    "(format) characters, no control or bidirectional control characters"),
                },
                "ProductAdded": {
                    "type": "object",
                    "required": ["status", "name", "created"],
                    "properties": {"status": {"type": "string", "enum": [ADDED_STATUS]},
                                   "name": {"type": "string"},
                                   "created": {"type": "boolean",
                                               "description": "true: a new product; false: an existing "
                                                              "id renamed (status keeps the original text)"}},
                },
                "ProductList": {
                    "type": "object",
                    "required": ["products", "details"],
                    "properties": {
                        "products": {"type": "object", "additionalProperties": {"type": "string"},
                                     "description": "Product names keyed by the decimal id"},
                        "details": {"$ref": "#/components/schemas/Details"},
                    },
                },
                "ProductWithDetails": {
                    "type": "object",
                    "required": ["product", "details"],
                    "properties": {
                        "product": {
                            "type": "object", "required": ["id", "name"],
                            "properties": {"id": {"type": "integer", "minimum": 0, "maximum": MAX_PRODUCT_ID},
                                           "name": {"type": "string"}},
                        },
                        "details": {"$ref": "#/components/schemas/Details"},
                    },
                },
                "Details": {
                    "description": "proddetail's JSON object as it answered it, or the degraded value",
                    "anyOf": [{"$ref": "#/components/schemas/CatalogDetail"},
                              {"$ref": "#/components/schemas/DetailsUnavailable"}],
                },
                "CatalogDetail": {
                    "type": "object",
                    "description": "Passed through from proddetail, e.g. {\"version\": \"1\", \"vendors\": [\"ABC.com\"]}",
                    "properties": {"version": {"type": "string"},
                                   "vendors": {"type": "array", "items": {"type": "string"}}},
                },
                "DetailsUnavailable": {
                    "type": "object",
                    "required": ["available", "reason"],
                    "additionalProperties": False,
                    "properties": {
                        "available": {"type": "boolean", "enum": [False]},
                        "reason": {"type": "string",
                                   "example": "proddetail timed out after 2s"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string", "description": "What was wrong, for a human"}},
                },
            },
        },
    }
