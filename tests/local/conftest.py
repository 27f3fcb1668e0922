"""One running rehearsal for the tests of this package (see celestials/local/testing.py)."""

from __future__ import annotations

import uuid

import pytest

from celestials.local.testing import endpoints, post_form, shared_rehearsal


@pytest.fixture(scope="package")
def rehearsal(request):
    return shared_rehearsal(request)


@pytest.fixture(scope="package")
def urls(rehearsal):
    return endpoints(rehearsal)


@pytest.fixture(scope="package")
def product(urls):
    """A product in the catalog, so the front page shows the catalog detail (and its version)."""
    product_id, name = str(uuid.uuid4().int % 10**9), f"Rehearsal lamp {uuid.uuid4().hex[:6]}"
    status, _ = post_form(urls["gateway"] + "products", {"id": product_id, "name": name})
    assert status in (200, 303), status
    return product_id, name
