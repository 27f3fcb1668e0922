"""The product endpoints; wire shapes are the original service's (shared/APP_CONTRACTS.md)."""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.routing import BaseConverter

from .body import request_body
from .errors import json_error
from .openapi import ADDED_STATUS
from .state import state
from .validation import parse_product_body, parse_product_id

api = Blueprint("api", __name__)


class ProductIdConverter(BaseConverter):
    """Any path segment but `ping`, so /products/ping is only the health check (POST there is a 405
    and its Allow header has no POST). The segment is checked by `parse_product_id`, which turns a
    malformed id into a 400 with a reason instead of a bare routing 404."""

    regex = r"(?!ping$)[^/]+"


@api.record_once
def _register_converter(setup_state):
    setup_state.app.url_map.converters["product_id"] = ProductIdConverter


@api.get("/products/")
def list_products():
    app_state = state()
    products = app_state.store.list()
    return {"products": {str(pid): name for pid, name in products.items()},
            "details": app_state.details.fetch()}


@api.get("/products/ping")
def ping():
    return Response("healthy", mimetype="text/plain")


@api.get("/products/<product_id:product_id>")
def get_product(product_id: str):
    pid = parse_product_id(product_id)
    app_state = state()
    name = app_state.store.get(pid)
    if name is None:
        return json_error(404, "product not found", id=pid)
    return {"product": {"id": pid, "name": name}, "details": app_state.details.fetch()}


@api.post("/products/<product_id:product_id>")
def put_product(product_id: str):
    pid = parse_product_id(product_id)
    name = parse_product_body(request.content_type, request_body())
    created = state().store.put(pid, name)
    # 200, not 201: the original answered 200 and its clients may check for it. `status` stays the
    # original's text whatever happened; `created` says whether the id was new or renamed.
    return {"status": ADDED_STATUS, "name": name, "created": created}
