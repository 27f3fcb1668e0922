'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { TracingConfigError, tracingConfig } = require('@celestials/node-common/tracing');

test('defaults: OTLP export, tracecontext + baggage + xray propagation', () => {
  assert.deepEqual(tracingConfig({}), {
    disabled: false, exporters: ['otlp'], propagators: ['tracecontext', 'baggage', 'xray'],
  });
});

test('OTEL_TRACES_EXPORTER=none exports nothing but keeps propagating', () => {
  const config = tracingConfig({ OTEL_TRACES_EXPORTER: 'none' });
  assert.deepEqual(config.exporters, []);
  assert.deepEqual(config.propagators, ['tracecontext', 'baggage', 'xray']);
});

test('lists are trimmed, lower-cased and de-duplicated', () => {
  const config = tracingConfig({ OTEL_TRACES_EXPORTER: ' OTLP, console ,otlp',
    OTEL_PROPAGATORS: 'xray, TraceContext' });
  assert.deepEqual(config.exporters, ['otlp', 'console']);
  assert.deepEqual(config.propagators, ['xray', 'tracecontext']);
});

test('OTEL_PROPAGATORS=none turns propagation off', () => {
  assert.deepEqual(tracingConfig({ OTEL_PROPAGATORS: 'none' }).propagators, []);
});

test('OTEL_SDK_DISABLED=true is honoured', () => {
  assert.equal(tracingConfig({ OTEL_SDK_DISABLED: 'TRUE' }).disabled, true);
  assert.equal(tracingConfig({ OTEL_SDK_DISABLED: 'false' }).disabled, false);
});

test('unsupported values are refused with the variable named', () => {
  assert.throws(() => tracingConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }),
    (err) => err instanceof TracingConfigError && /OTEL_TRACES_EXPORTER.*"zipkin"/.test(err.message));
  assert.throws(() => tracingConfig({ OTEL_PROPAGATORS: 'tracecontext,b3' }),
    (err) => err instanceof TracingConfigError && /OTEL_PROPAGATORS.*"b3"/.test(err.message));
  assert.throws(() => tracingConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    (err) => err instanceof TracingConfigError && /protocol "grpc"/.test(err.message));
  assert.throws(() => tracingConfig({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }),
    TracingConfigError);
});

test('the OTLP protocol only matters when exporting over OTLP', () => {
  assert.deepEqual(
    tracingConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).exporters, []);
});
