'use strict';
/**
 * OpenTelemetry tracing, configured only by the standard OTEL_* environment variables.
 *
 * server.js requires this module before anything loads express or node:http, so the
 * instrumentations can patch them; outgoing fetch() calls (undici) are traced through
 * diagnostics channels. Trace ids are X-Ray compatible, so the same spans can land in AWS X-Ray.
 * Shared by apps/proddetail and apps/frontend-node (each image copies this package beside the app).
 */
const { diag, DiagConsoleLogger } = require('@opentelemetry/api');
const {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
  diagLogLevelFromString,
} = require('@opentelemetry/core');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { AWSXRayIdGenerator } = require('@opentelemetry/id-generator-aws-xray');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
const { AWSXRayPropagator } = require('@opentelemetry/propagator-aws-xray');
const { detectResources, envDetector, resourceFromAttributes } = require('@opentelemetry/resources');
const {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
} = require('@opentelemetry/sdk-trace-node');

const DEFAULT_PROPAGATORS = 'tracecontext,baggage,xray';
const PROPAGATORS = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
  xray: () => new AWSXRayPropagator(),
};
const EXPORTERS = ['otlp', 'console', 'none'];
const OTLP_PROTOCOL = 'http/protobuf';
// Kubelet probes hit /ping every few seconds; tracing them would bury the useful traces.
const UNTRACED_PATHS = new Set(['/ping']);

class TracingConfigError extends Error {}

function listFromEnv(value, fallback) {
  const raw = value === undefined || value.trim() === '' ? fallback : value;
  return [...new Set(raw.split(',').map((item) => item.trim().toLowerCase()).filter(Boolean))];
}

/** Reads the OTEL_* variables this module honours; unknown values are a start-up error. */
function tracingConfig(env = process.env) {
  const disabled = (env.OTEL_SDK_DISABLED || '').trim().toLowerCase() === 'true';
  const exporters = listFromEnv(env.OTEL_TRACES_EXPORTER, 'otlp');
  for (const name of exporters) {
    if (!EXPORTERS.includes(name)) {
      throw new TracingConfigError(
        `OTEL_TRACES_EXPORTER: unsupported exporter "${name}" (supported: ${EXPORTERS.join(', ')})`);
    }
  }
  const propagators = listFromEnv(env.OTEL_PROPAGATORS, DEFAULT_PROPAGATORS);
  for (const name of propagators) {
    if (name !== 'none' && !(name in PROPAGATORS)) {
      throw new TracingConfigError(
        `OTEL_PROPAGATORS: unsupported propagator "${name}" ` +
        `(supported: ${Object.keys(PROPAGATORS).join(', ')}, none)`);
    }
  }
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL ||
    OTLP_PROTOCOL).trim();
  if (exporters.includes('otlp') && protocol !== OTLP_PROTOCOL) {
    throw new TracingConfigError(
      `OTEL_EXPORTER_OTLP_PROTOCOL: unsupported protocol "${protocol}" (supported: ${OTLP_PROTOCOL})`);
  }
  return {
    disabled,
    exporters: exporters.includes('none') ? [] : exporters,
    propagators: propagators.includes('none') ? [] : propagators,
  };
}

function spanExporter(name) {
  return name === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter();
}

/**
 * Starts tracing for this process and returns `{ shutdown }`, which flushes pending spans.
 * OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) overrides defaultServiceName.
 */
function startTracing({ defaultServiceName, env = process.env }) {
  const config = tracingConfig(env);
  if (config.disabled) {
    return { shutdown: async () => {} };
  }
  const logLevel = diagLogLevelFromString(env.OTEL_LOG_LEVEL || 'warn');
  diag.setLogger(new DiagConsoleLogger(), { logLevel });

  const resource = resourceFromAttributes({ 'service.name': defaultServiceName })
    .merge(detectResources({ detectors: [envDetector] }));
  // With OTEL_TRACES_EXPORTER=none spans are still created, so trace context keeps flowing
  // from the caller to this service's own backends; they are just not exported.
  const provider = new NodeTracerProvider({
    resource,
    idGenerator: new AWSXRayIdGenerator(),
    spanProcessors: config.exporters.map((name) => new BatchSpanProcessor(spanExporter(name))),
  });
  provider.register({
    propagator: new CompositePropagator({
      propagators: config.propagators.map((name) => PROPAGATORS[name]()),
    }),
  });
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          UNTRACED_PATHS.has(new URL(request.url || '/', 'http://localhost').pathname),
      }),
      new ExpressInstrumentation(),
      new UndiciInstrumentation(),
    ],
  });
  return { shutdown: () => provider.shutdown() };
}

module.exports = { startTracing, tracingConfig, TracingConfigError, DEFAULT_PROPAGATORS };
