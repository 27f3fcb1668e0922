"""OpenTelemetry for one app instance, configured only by the standard OTEL_* variables.

OTEL_SERVICE_NAME (default below), OTEL_TRACES_EXPORTER (`otlp` = OTLP over HTTP/protobuf, the
default; `console`; `none`), the exporter's own OTEL_EXPORTER_OTLP_* variables, OTEL_PROPAGATORS
(default `tracecontext,baggage,xray`), OTEL_SDK_DISABLED. Trace ids are X-Ray-compatible. The
provider belongs to the app (built per gunicorn worker, after fork), not to global state.
"""

from __future__ import annotations

from typing import Mapping

from opentelemetry import propagate, trace
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.util._importlib_metadata import entry_points

from .config import ConfigError

DEFAULT_PROPAGATORS = "tracecontext,baggage,xray"
#: Probes hit this every few seconds; tracing them would drown the real traces.
EXCLUDED_URLS = "ping"


def _names(value: str | None, default: str) -> list[str]:
    return [n.strip().lower() for n in ((value or "").strip() or default).split(",") if n.strip()]


def install_propagator(env: Mapping[str, str]) -> None:
    propagators = []
    for name in _names(env.get("OTEL_PROPAGATORS"), DEFAULT_PROPAGATORS):
        if name == "none":
            continue
        found = list(entry_points(group="opentelemetry_propagator", name=name))
        if not found:
            raise ConfigError("OTEL_PROPAGATORS", env.get("OTEL_PROPAGATORS"), f"installed propagators; {name!r} is not")
        propagators.append(found[0].load()())
    propagate.set_global_textmap(CompositePropagator(propagators))


def build_tracer_provider(env: Mapping[str, str], default_name: str) -> trace.TracerProvider:
    if (env.get("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return trace.NoOpTracerProvider()
    name = (env.get("OTEL_SERVICE_NAME") or "").strip() or default_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}), id_generator=AwsXRayIdGenerator())
    for exporter in _names(env.get("OTEL_TRACES_EXPORTER"), "otlp"):
        if exporter == "none":
            continue
        if exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif exporter == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        else:
            raise ConfigError("OTEL_TRACES_EXPORTER", env.get("OTEL_TRACES_EXPORTER"), "otlp, console or none")
    return provider
