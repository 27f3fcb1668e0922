import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

APP_DIR = Path(__file__).resolve().parent.parent
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))


@pytest.fixture
def spans():
    """The app's own provider (X-Ray ids, no exporter) recording into memory."""
    from colorteller.tracing import build_tracer_provider

    exporter = InMemorySpanExporter()
    provider = build_tracer_provider({"OTEL_TRACES_EXPORTER": "none"}, "Color-Teller-Red")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter
