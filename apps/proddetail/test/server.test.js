'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { startServer, waitExit } = require('./helpers');

test('an invalid APP_VERSION stops the process at start with a clear message', async () => {
  const proc = startServer({ APP_VERSION: '7', PORT: '0', HOST: '127.0.0.1' });
  await assert.rejects(proc.ready, /exited with 2/);
  assert.match(proc.output(), /APP_VERSION must be one of 1, 2.*got "7"/);
});

test('an unsupported OTEL_PROPAGATORS value stops the process at start', async () => {
  const proc = startServer({ APP_VERSION: '1', PORT: '0', HOST: '127.0.0.1', OTEL_PROPAGATORS: 'b3' });
  await assert.rejects(proc.ready, /exited with 2/);
  assert.match(proc.output(), /OTEL_PROPAGATORS: unsupported propagator "b3"/);
});

test('serves the baked version, then SIGTERM stops accepting and exits 0', async () => {
  const proc = startServer({ APP_VERSION: '2', PORT: '0', HOST: '127.0.0.1' });
  const url = await proc.ready;
  const body = await (await fetch(`${url}/catalogDetail`)).json();
  assert.deepEqual(body, { version: '2', vendors: ['ABC.com', 'XYZ.com'] });

  proc.child.kill('SIGTERM');
  const { code } = await waitExit(proc);
  assert.equal(code, 0, proc.output());
  assert.match(proc.output(), /SIGTERM received/);
  await assert.rejects(fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) }));
});

test('spans carry the default service name of the version and are flushed on SIGTERM', async () => {
  const proc = startServer({ APP_VERSION: '2', PORT: '0', HOST: '127.0.0.1', OTEL_TRACES_EXPORTER: 'console',
    OTEL_BSP_SCHEDULE_DELAY: '60000' });
  const url = await proc.ready;
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  await fetch(`${url}/catalogDetail`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
  await fetch(`${url}/ping`);
  proc.child.kill('SIGTERM');
  const { code } = await waitExit(proc);
  assert.equal(code, 0, proc.output());
  // The batch delay is a minute, so these spans were printed by the shutdown flush.
  assert.match(proc.output(), /'service\.name': 'Product-Detail-V2'/);
  assert.match(proc.output(), new RegExp(`traceId: '${traceId}'[\\s\\S]*name: 'GET /catalogDetail'`));
  assert.doesNotMatch(proc.output(), /'url\.path': '\/ping'/, 'health checks are not traced');
});
