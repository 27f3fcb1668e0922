"""OpenTelemetry for one app instance, configured only by the standard OTEL_* variables.

- service name: OTEL_SERVICE_NAME, else `service.name` in OTEL_RESOURCE_ATTRIBUTES, else Product-Catalog;
- export: OTEL_TRACES_EXPORTER (`otlp` = OTLP over HTTP/protobuf, default; `console`; `none`), the
  OTLP exporter, batch processor and sampler read their own OTEL_EXPORTER_OTLP_*, OTEL_BSP_* and
  OTEL_TRACES_SAMPLER* variables; OTEL_SDK_DISABLED=true turns tracing off;
- propagation: OTEL_PROPAGATORS, default `tracecontext,baggage,xray`;
- trace ids: X-Ray-compatible (time-prefixed) so X-Ray accepts the spans as they are.

The tracer provider belongs to the app (no global set-once state), so each gunicorn worker builds
its own after fork and its batch-export thread lives in the worker. The propagator is OpenTelemetry's
process-wide text map, which the Flask instrumentation reads, so it is set here too.
"""

from __future__ import annotations

from typing import Mapping

from opentelemetry import propagate, trace
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.util._importlib_metadata import entry_points

from .settings import ConfigError

DEFAULT_SERVICE_NAME = "Product-Catalog"
DEFAULT_PROPAGATORS = "tracecontext,baggage,xray"
#: Kubernetes probes hit this every few seconds; tracing them would drown the real traces.
DEFAULT_EXCLUDED_URLS = "products/ping"
_OTLP_PROTOCOL = "http/protobuf"


def _names(value: str | None, default: str) -> list[str]:
    return [n.strip().lower() for n in (value if value and value.strip() else default).split(",") if n.strip()]


def build_propagator(env: Mapping[str, str]) -> TextMapPropagator:
    """The composite of OTEL_PROPAGATORS (entry points, e.g. `xray` from opentelemetry-propagator-aws-xray)."""
    names = _names(env.get("OTEL_PROPAGATORS"), DEFAULT_PROPAGATORS)
    propagators = []
    for name in names:
        if name == "none":
            continue
        found = list(entry_points(group="opentelemetry_propagator", name=name))
        if not found:
            raise ConfigError("OTEL_PROPAGATORS", env.get("OTEL_PROPAGATORS"),
                              f"a comma-separated list of installed propagators; {name!r} is not installed")
        propagators.append(found[0].load()())
    return CompositePropagator(propagators)


def install_propagator(env: Mapping[str, str]) -> TextMapPropagator:
    """Build the propagator and make it OpenTelemetry's process-wide text map."""
    propagator = build_propagator(env)
    propagate.set_global_textmap(propagator)
    return propagator


def _exporters(env: Mapping[str, str]) -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    for name in _names(env.get("OTEL_TRACES_EXPORTER"), "otlp"):
        if name == "none":
            continue
        if name in ("otlp", "otlp_proto_http"):
            for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
                protocol = (env.get(variable) or "").strip()
                if protocol and protocol != _OTLP_PROTOCOL:
                    raise ConfigError(variable, protocol, f"{_OTLP_PROTOCOL} (the only OTLP protocol this app ships)")
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
        else:
            raise ConfigError("OTEL_TRACES_EXPORTER", env.get("OTEL_TRACES_EXPORTER"), "otlp, console or none")
    return exporters


def build_tracer_provider(env: Mapping[str, str]) -> trace.TracerProvider:
    """A provider exporting in batches to the configured exporters (none → spans are only propagated)."""
    if (env.get("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return trace.NoOpTracerProvider()
    detected = Resource.create()  # OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME from the process
    name = (env.get("OTEL_SERVICE_NAME") or "").strip()
    if not name:
        detected_name = str(detected.attributes.get(SERVICE_NAME, ""))
        name = detected_name if detected_name and not detected_name.startswith("unknown_service") else DEFAULT_SERVICE_NAME
    provider = TracerProvider(resource=detected.merge(Resource({SERVICE_NAME: name})),
                              id_generator=AwsXRayIdGenerator())
    for exporter in _exporters(env):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def excluded_urls(env: Mapping[str, str]) -> str:
    """URLs the Flask instrumentation skips (OpenTelemetry's own variables, else the health check)."""
    return (env.get("OTEL_PYTHON_FLASK_EXCLUDED_URLS") or env.get("OTEL_PYTHON_EXCLUDED_URLS")
            or DEFAULT_EXCLUDED_URLS)
