"""Shared fixtures: the app on a temporary SQLite file, an in-memory span exporter, stub proddetails.

Servers bind only to 127.0.0.1 ports 18000-18099 (this app's test range).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from opentelemetry import propagate
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

# The app package and the stub helpers, importable under --import-mode=importlib.
APP_DIR = Path(__file__).resolve().parents[1]
for path in (APP_DIR, APP_DIR / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from prodcatalog import create_app  # noqa: E402

from prodcatalog_stubs import CATALOG_DETAIL_V1, ProddetailStub, closed_port  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_global_propagator():
    """create_app sets OpenTelemetry's process-wide propagator; leave it as we found it for other tests."""
    saved = propagate.get_global_textmap()
    yield
    propagate.set_global_textmap(saved)


@pytest.fixture
def span_exporter():
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(span_exporter):
    provider = TracerProvider(resource=Resource({"service.name": "Product-Catalog"}),
                              id_generator=AwsXRayIdGenerator())
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def proddetail():
    """A proddetail answering v1's catalog detail; tests change `behaviour` to break it."""
    with ProddetailStub(CATALOG_DETAIL_V1) as stub:
        yield stub


@pytest.fixture
def make_app(tmp_path, tracer_provider, proddetail):
    """Build apps on one SQLite file (two calls = two instances on the same store)."""

    def build(**overrides):
        config = {"SQLITE_PATH": str(tmp_path / "products.db"), "AGG_APP_URL": proddetail.url,
                  "PROXY_TIMEOUT_SECONDS": "2", "STORAGE_BACKEND": "sqlite",
                  "OTEL_PROPAGATORS": "tracecontext,baggage,xray", "TRACER_PROVIDER": tracer_provider}
        config.update(overrides)
        return create_app(config)

    return build


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def refused_url():
    """A proddetail URL on a loopback port where nothing listens."""
    return f"http://127.0.0.1:{closed_port()}/catalogDetail"
