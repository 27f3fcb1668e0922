'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { json, stalledRequest, startFakeCatalog, startServer, waitExit } = require('./helpers');

const LISTING = { products: { 1: 'Widget' }, details: { version: '1', vendors: ['ABC.com'] } };

async function withServer(catalog, fn, env = {}) {
  const proc = startServer({ HOST: '127.0.0.1', PORT: '0', BASE_URL: catalog.baseUrl, ...env });
  try {
    await fn(await proc.ready, proc);
  } finally {
    proc.child.kill('SIGKILL');
    await waitExit(proc);
    await catalog.close();
  }
}

test('a bad BASE_URL stops the process at start with a clear message', async () => {
  const proc = startServer({ HOST: '127.0.0.1', PORT: '0', BASE_URL: 'prodcatalog/products/' });
  await assert.rejects(proc.ready, /exited with 2/);
  assert.match(proc.output(), /configuration error: BASE_URL must be an http\(s\) URL/);
});

test('continues an incoming W3C trace to prodcatalog, in W3C and X-Ray headers', async () => {
  const catalog = await startFakeCatalog((req, body, res) => json(res, 200, LISTING));
  await withServer(catalog, async (url) => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${url}/`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    assert.equal(res.status, 200);
    const { headers } = catalog.requests[0];
    assert.match(headers.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    assert.notEqual(headers.traceparent.split('-')[2], '00f067aa0ba902b7', 'the front end adds its own span');
    assert.match(headers['x-amzn-trace-id'], new RegExp(`^Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=[0-9a-f]{16};Sampled=1$`));
  });
});

test('continues an incoming X-Ray trace', async () => {
  const catalog = await startFakeCatalog((req, body, res) => json(res, 200, LISTING));
  await withServer(catalog, async (url) => {
    const root = '1-5759e988-bd862e3fe1be46a994272793';
    await fetch(`${url}/`, { headers: { 'x-amzn-trace-id': `Root=${root};Parent=53995c3f42cd8ad8;Sampled=1` } });
    const { headers } = catalog.requests[0];
    assert.match(headers.traceparent, /^00-5759e988bd862e3fe1be46a994272793-[0-9a-f]{16}-01$/);
    assert.match(headers['x-amzn-trace-id'], new RegExp(`^Root=${root};`));
  });
});

test('starts X-Ray compatible traces (epoch seconds in the trace id) when none comes in', async () => {
  const catalog = await startFakeCatalog((req, body, res) => json(res, 200, LISTING));
  await withServer(catalog, async (url) => {
    const before = Math.floor(Date.now() / 1000);
    await fetch(`${url}/`);
    const traceId = catalog.requests[0].headers.traceparent.split('-')[1];
    const seconds = parseInt(traceId.slice(0, 8), 16);
    assert.ok(seconds >= before - 1 && seconds <= Math.ceil(Date.now() / 1000), `trace id ${traceId}`);
  });
});

test('OTEL_PROPAGATORS=tracecontext sends no X-Ray header', async () => {
  const catalog = await startFakeCatalog((req, body, res) => json(res, 200, LISTING));
  await withServer(catalog, async (url) => {
    await fetch(`${url}/`);
    assert.match(catalog.requests[0].headers.traceparent, /^00-/);
    assert.equal(catalog.requests[0].headers['x-amzn-trace-id'], undefined);
  }, { OTEL_PROPAGATORS: 'tracecontext' });
});

test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
  const catalog = await startFakeCatalog((req, body, res) => {
    setTimeout(() => json(res, 200, LISTING), 600);
  });
  await withServer(catalog, async (url, proc) => {
    const pending = fetch(`${url}/`);
    while (catalog.requests.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    proc.child.kill('SIGTERM');
    const res = await pending;
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Product Catalog version 1/);
    const { code } = await waitExit(proc);
    assert.equal(code, 0, proc.output());
  });
});

test('stalled connections and bodies get a JSON 408 after their bounds while /ping keeps answering', async () => {
  const catalog = await startFakeCatalog((req, body, res) => json(res, 200, LISTING));
  await withServer(catalog, async (url) => {
    const stalled = [
      ...Array.from({ length: 10 }, () => stalledRequest(url, 'GET / HTTP/1.1\r\nHost: t\r\n', 8000)),
      ...Array.from({ length: 10 }, () => stalledRequest(url, 'POST /products HTTP/1.1\r\nHost: t\r\n'
        + 'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nid=1&na', 10000)),
    ];
    const ping = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(5000) });
    assert.equal(await ping.text(), 'Healthy');
    for (const received of await Promise.all(stalled)) {
      assert.match(received, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.equal(JSON.parse(received.split('\r\n\r\n')[1]).error, 'request not received in time');
    }
  }, { HEADER_TIMEOUT_SECONDS: '1', BODY_TIMEOUT_SECONDS: '1' });
});
