"""The product catalog UI in headless Chromium, through the ingress gateway and every sidecar."""

from __future__ import annotations

import re
import shutil
import uuid

import pytest

CHROMIUM = shutil.which("chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_add_a_product_and_see_the_canary_detail(page, urls):
    product_id, name = str(uuid.uuid4().int % 10**9), f"Browser chair {uuid.uuid4().hex[:6]}"
    page.goto(urls["gateway"])
    assert page.locator("h1").inner_text() == "Product Catalog"

    page.get_by_label("Product ID").fill(product_id)
    page.get_by_label("Product name").fill(name)
    page.locator("form.add-product").get_by_role("button").click()
    page.wait_for_load_state()

    assert page.url.startswith(urls["gateway"])  # the redirect stays on the gateway
    row = page.get_by_test_id("products").locator("tr", has_text=name)
    assert row.count() == 1 and product_id in row.inner_text()
    detail = page.get_by_test_id("catalog-detail").inner_text()
    assert re.search(r"Product Catalog version [12] has vendors ABC\.com", detail), detail

    seen = set()
    for _ in range(20):  # the canary button reloads; at weight 50 both versions answer
        page.get_by_role("button", name="Canary Deployment").click()
        page.wait_for_load_state()
        seen.add(re.search(r"version ([12])", page.get_by_test_id("catalog-detail").inner_text()).group(1))
    assert seen == {"1", "2"}  # both versions in 20 loads at 50/50: by chance missing one has p = 2e-6


def test_a_bad_product_id_is_explained_in_the_page(page, urls):
    page.goto(urls["gateway"])
    page.get_by_label("Product ID").fill("not-a-number")
    page.get_by_label("Product name").fill("Anything")
    page.locator("form.add-product").get_by_role("button").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("form-errors").is_visible()
