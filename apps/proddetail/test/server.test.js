'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { stalledRequest, startServer, waitExit } = require('./helpers');

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

test('stalled connections get a JSON 408 after HEADER_TIMEOUT_SECONDS while /ping keeps answering', async () => {
  const proc = startServer({ APP_VERSION: '1', PORT: '0', HOST: '127.0.0.1', HEADER_TIMEOUT_SECONDS: '1' });
  const url = await proc.ready;
  try {
    const stalled = Array.from({ length: 20 }, () => stalledRequest(url, 'GET /catalogDetail HTTP/1.1\r\nHost: t\r\n', 8000));
    const ping = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(5000) });
    assert.equal(await ping.text(), 'Healthy');
    for (const received of await Promise.all(stalled)) {
      assert.match(received, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.equal(JSON.parse(received.split('\r\n\r\n')[1]).error, 'request not received in time');
    }
  } finally {
    proc.child.kill('SIGKILL');
    await waitExit(proc);
  }
});

test('a bad read bound stops the process at start, naming the variable', async () => {
  const proc = startServer({ APP_VERSION: '1', PORT: '0', HOST: '127.0.0.1', BODY_TIMEOUT_SECONDS: '0' });
  await assert.rejects(proc.ready, /exited with 2/);
  assert.match(proc.output(), /invalid environment variable BODY_TIMEOUT_SECONDS="0": an integer from 1 to 300/);
});
