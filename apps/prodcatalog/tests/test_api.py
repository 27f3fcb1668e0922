"""The wire contract of the original service, plus the fixed GET /products/<id>."""

from __future__ import annotations

import pytest

from prodcatalog_stubs import CATALOG_DETAIL_V1

ADDED = "New Product added to Product Catalog"


def test_empty_catalog_lists_no_products_and_the_detail(client, proddetail):
    response = client.get("/products/")
    assert response.status_code == 200
    assert response.get_json() == {"products": {}, "details": CATALOG_DETAIL_V1}
    assert len(proddetail.requests) == 1


def test_post_then_list_returns_the_original_shapes(client):
    response = client.post("/products/1", json={"name": "Table"})
    assert response.status_code == 200  # kept 200 (not 201) for the original's clients
    assert response.get_json() == {"status": ADDED, "name": "Table", "created": True}
    client.post("/products/10", json={"name": "Chair"})
    client.post("/products/2", json={"name": "Lamp"})

    body = client.get("/products/").get_json()
    assert body["products"] == {"1": "Table", "2": "Lamp", "10": "Chair"}
    assert list(body["products"]) == ["1", "2", "10"], "products are listed in numeric id order"
    assert body["details"] == CATALOG_DETAIL_V1


def test_post_same_id_renames_the_product(client):
    client.post("/products/5", json={"name": "Old"})
    assert client.post("/products/5", json={"name": "New"}).status_code == 200
    assert client.get("/products/").get_json()["products"] == {"5": "New"}


def test_get_one_product_returns_it_with_details(client):
    client.post("/products/7", json={"name": "Desk"})
    response = client.get("/products/7")
    assert response.status_code == 200
    assert response.get_json() == {"product": {"id": 7, "name": "Desk"}, "details": CATALOG_DETAIL_V1}


def test_get_unknown_product_is_a_json_404(client, proddetail):
    response = client.get("/products/404")
    assert response.status_code == 404
    assert response.get_json() == {"error": "product not found", "id": 404}
    assert proddetail.requests == [], "no proddetail call for a product that does not exist"


def test_ping_is_plain_healthy(client, proddetail):
    response = client.get("/products/ping")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "healthy"
    assert response.mimetype == "text/plain"
    assert proddetail.requests == []


def test_posting_an_existing_id_renames_it_and_says_so(client):
    assert client.post("/products/4", json={"name": "Stool"}).get_json()["created"] is True
    response = client.post("/products/4", json={"name": "Bar stool"})
    assert response.status_code == 200
    assert response.get_json() == {"status": ADDED, "name": "Bar stool", "created": False}
    assert client.get("/products/").get_json()["products"] == {"4": "Bar stool"}


def test_extra_fields_are_ignored_and_unicode_names_kept(client):
    name = "Ça coûte 5 € — 日本語 🚀"
    response = client.post("/products/3", json={"name": name, "price": 5})
    assert response.get_json() == {"status": ADDED, "name": name, "created": True}
    assert client.get("/products/3").get_json()["product"]["name"] == name


def test_largest_id_round_trips(client):
    largest = 2**53 - 1
    assert client.post(f"/products/{largest}", json={"name": "Edge"}).status_code == 200
    assert client.get(f"/products/{largest}").get_json()["product"] == {"id": largest, "name": "Edge"}
    assert client.get("/products/").get_json()["products"] == {str(largest): "Edge"}


def test_leading_zeros_name_the_same_product(client):
    client.post("/products/007", json={"name": "Bond"})
    assert client.get("/products/7").get_json()["product"] == {"id": 7, "name": "Bond"}


@pytest.mark.parametrize("method, path, status", [
    ("get", "/nope", 404),
    ("get", "/products/1/extra", 404),
    ("put", "/products/1", 405),
    ("delete", "/products/1", 405),
    ("patch", "/products/1", 405),
    ("post", "/products/", 405),
    ("delete", "/products/", 405),
    ("post", "/openapi.json", 405),
])
def test_unknown_routes_and_methods_answer_json(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.is_json
    assert isinstance(response.get_json()["error"], str)
    if status == 405:
        assert "Allow" in response.headers
        assert response.get_json()["allowed"]


def test_products_without_slash_redirects_to_the_list(client):
    response = client.get("/products")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/products/")


def test_openapi_document_describes_every_route(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/products/", "/products/ping", "/products/{id}"}
    assert set(spec["paths"]["/products/{id}"]) >= {"get", "post"}
    unavailable = spec["components"]["schemas"]["DetailsUnavailable"]
    assert unavailable["required"] == ["available", "reason"]


def test_doc_page_is_self_contained(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "POST /products/{id}" in page and "openapi.json" in page
    assert "http://" not in page and "https://" not in page, "no external assets"


def test_ping_path_is_not_a_product_id(client):
    response = client.post("/products/ping", json={"name": "x"})
    assert response.status_code == 405 and response.is_json
    assert "POST" not in client.options("/products/ping").headers["Allow"]
    assert "POST" in client.options("/products/1").headers["Allow"]


class _BrokenStore:
    """A store failing in a way nobody planned for."""

    def list(self, *args):
        raise RuntimeError("bug")

    get = put = list

    def close(self):
        pass


def test_unexpected_errors_are_json_500_without_details(make_app):
    client = make_app(PRODUCT_STORE=_BrokenStore()).test_client()
    for response in (client.get("/products/"), client.get("/products/1"),
                     client.post("/products/1", json={"name": "x"})):
        assert response.status_code == 500
        assert response.get_json() == {"error": "internal server error"}
