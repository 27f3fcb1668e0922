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
