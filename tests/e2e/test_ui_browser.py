"""The real UI in headless Chromium (Debian's, never a downloaded one) against the three real services:
add a product, see it and the catalog detail, press Canary Deployment, then watch the page degrade
as proddetail and then prodcatalog go away. Screenshots land in build/e2e/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.support.services import ROOT, start_product_catalog

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "build" / "e2e"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


@pytest.fixture
def stack(tmp_path):
    running = start_product_catalog(tmp_path, backend_timeout_ms=2000, proxy_timeout_seconds=1.0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1000, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_product_catalog_in_a_browser(stack, page):
    from playwright.sync_api import expect

    home = stack["frontend"].url + "/"
    response = page.goto(home)
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Product Catalog")
    expect(page.get_by_text("No products yet")).to_be_visible()
    # The demo's central feature shows on an empty catalog too.
    expect(page.get_by_role("button", name="Canary Deployment")).to_be_visible()
    expect(page.get_by_test_id("catalog-detail")).to_contain_text("Product Catalog version 1 has vendors ABC.com")

    # A bad id is refused on the page, with the field marked, and nothing is added.
    page.get_by_label("Product ID").fill("abc")
    page.get_by_label("Product name").fill("Widget")
    with page.expect_navigation() as refused:
        page.get_by_role("button", name="Add product").click()
    assert refused.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text("The product ID must be a whole number")
    expect(page.get_by_label("Product ID")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("No products yet")).to_be_visible()
    shoot(page, "form-refused")

    # Add two products through the form.
    for product_id, name in (("2", "Gadget"), ("1", "Widget")):
        page.get_by_label("Product ID").fill(product_id)
        page.get_by_label("Product name").fill(name)
        page.get_by_role("button", name="Add product").click()
        expect(page.get_by_role("status").filter(has_text="was added")).to_have_text(
            f'Product {product_id} "{name}" was added.')
    assert page.url == f"{home}?added=1"
    rows = page.get_by_test_id("products").locator("tbody tr")
    expect(rows).to_have_text([re.compile(r"1\s*Widget"), re.compile(r"2\s*Gadget")])
    detail = page.get_by_test_id("catalog-detail")
    expect(detail).to_contain_text("Product Catalog version 1 has vendors ABC.com")
    expect(detail).to_contain_text("Answered by proddetail v1")

    # Canary Deployment reloads the page (a new request to /), which asks proddetail again.
    # (A GET form with no fields goes to "/?".)
    with page.expect_response(lambda r: r.url.rstrip("?") == home and r.request.method == "GET") as reloaded:
        page.get_by_role("button", name="Canary Deployment").click()
    assert reloaded.value.status == 200
    page.wait_for_load_state()
    expect(detail).to_contain_text("Product Catalog version 1 has vendors ABC.com")
    expect(page.get_by_role("status").filter(has_text="was added")).to_have_count(0)
    shoot(page, "product-catalog")

    # proddetail gone: the products still show, the detail says why it is missing.
    assert stack["proddetail"].stop() == 0
    response = page.reload()
    assert response.status == 200
    expect(page.get_by_test_id("detail-unavailable")).to_contain_text("Catalog detail unavailable: proddetail")
    expect(rows).to_have_count(2)
    shoot(page, "proddetail-down")

    # prodcatalog gone too: an error panel, answered at once rather than hanging.
    assert stack["prodcatalog"].stop() == 0
    response = page.reload()
    assert response.status == 502
    panel = page.get_by_test_id("backend-error")
    expect(panel).to_contain_text("The catalog service is not available")
    expect(panel).to_contain_text("cannot reach prodcatalog (connection refused)")
    expect(page.get_by_text("The product list could not be loaded")).to_be_visible()
    shoot(page, "prodcatalog-down")


def test_the_banner_says_what_the_catalog_holds(stack, page):
    """Posting an existing id renames it and says so; a banner for an id the catalog does not hold
    is not shown (the URL is anyone's to type)."""
    from playwright.sync_api import expect

    home = stack["frontend"].url + "/"
    page.goto(home)
    banner = page.get_by_test_id("notice")
    for name in ("Lamp", "Desk lamp"):
        page.get_by_label("Product ID").fill("5")
        page.get_by_label("Product name").fill(name)
        page.get_by_role("button", name="Add product").click()
        page.wait_for_load_state()
    assert page.url == f"{home}?renamed=5"
    expect(banner).to_have_text('Product 5 was renamed to "Desk lamp".')
    expect(page.get_by_test_id("products").locator("tbody tr")).to_have_text([re.compile(r"5\s*Desk lamp")])
    shoot(page, "product-renamed")

    response = page.goto(f"{home}?added=99")
    assert response.status == 200
    expect(page.get_by_test_id("products")).to_be_visible()
    expect(banner).to_have_count(0)
