"""Failures a mesh must absorb: a backend gone, a stateful service restarted."""

from __future__ import annotations

import time
import uuid

from celestials.local.testing import get, post_form


def _eventually(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


def test_without_proddetail_the_frontend_answers_with_its_degraded_message(rehearsal, urls, product):
    stopped = rehearsal.stop_workload("proddetail-v1") + rehearsal.stop_workload("proddetail-v2")
    assert stopped == ["proddetail-v1", "proddetail-v1-envoy", "proddetail-v2", "proddetail-v2-envoy"]
    try:
        status, body = get(urls["gateway"], timeout=20)
        assert status == 200
        assert "Catalog detail unavailable" in body
        assert product[1] in body  # the products still list: only the detail is degraded
        assert "Product Catalog version" not in body
    finally:
        assert sorted(rehearsal.start_missing()) == sorted(stopped)
    assert _eventually(lambda: "Product Catalog version" in get(urls["gateway"])[1])


def test_restarting_prodcatalog_keeps_its_products(rehearsal, urls):
    product_id, name = str(uuid.uuid4().int % 10**9), f"Durable desk {uuid.uuid4().hex[:6]}"
    assert post_form(urls["gateway"] + "products", {"id": product_id, "name": name})[0] == 303
    assert name in get(urls["gateway"])[1]
    pid_before = rehearsal.read_state()["processes"]["prodcatalog"]["pid"]
    rehearsal.restart(["prodcatalog"])
    assert rehearsal.read_state()["processes"]["prodcatalog"]["pid"] != pid_before
    assert _eventually(lambda: name in get(urls["gateway"])[1]), "the product is gone after a restart"
