'use strict';
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { test } = require('node:test');

const { answerClientError } = require('../lifecycle');

/** Sends `raw` on a fresh connection and resolves to everything the server sent before closing. */
function exchange(port, raw) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
    let received = '';
    socket.on('data', (chunk) => { received += chunk; });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(5000, () => reject(new Error(`no close; got ${received}`)));
  });
}

async function serverWith(listener) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  if (listener) {
    server.on('clientError', listener);
  }
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const MALFORMED_CHUNKED = 'POST /x HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n'
  + 'Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n';

test('a malformed chunked body gets a JSON 400 and the connection closes', async () => {
  const server = await serverWith(answerClientError);
  try {
    const answer = await exchange(server.address().port, MALFORMED_CHUNKED);
    const [head, body] = answer.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(head, /\r\nContent-Type: application\/json\r\n/);
    assert.match(head, /\r\nConnection: close/);
    assert.deepEqual(JSON.parse(body), { error: 'malformed request', reason: 'HPE_INVALID_CHUNK_SIZE' });
  } finally {
    server.close();
  }
});

test('oversized headers keep Node\'s 431, as JSON', async () => {
  const server = await serverWith(answerClientError);
  try {
    const answer = await exchange(server.address().port, `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.equal(JSON.parse(answer.split('\r\n\r\n')[1]).error, 'request headers too large');
  } finally {
    server.close();
  }
});

test('without the listener Node answers a bare 400 (what the listener replaces)', async () => {
  const server = await serverWith(null);
  try {
    const answer = await exchange(server.address().port, MALFORMED_CHUNKED);
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal(answer.split('\r\n\r\n')[1], '');
  } finally {
    server.close();
  }
});

const { createServer, timeoutOptions } = require('../lifecycle');

/** Opens a connection, sends `partial`, and resolves to what the server sent until it closed. */
function stall(port, partial) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(partial));
    let received = '';
    socket.on('data', (chunk) => { received += chunk; });
    socket.on('close', () => resolve({ received, at: Date.now() }));
    socket.on('error', () => {});
    socket.setTimeout(20000, () => reject(new Error(`never closed; got ${received}`)));
    stall.sockets.push(socket);
  });
}
stall.sockets = [];

const STALLS = {
  'part of the request line': 'GET /pi',
  'headers without their end': 'GET /ping HTTP/1.1\r\nHost: t\r\nX-Slow: ',
  'part of a body': 'POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"name": ',
};
const STALLED = 20; // per kind
const SLACK_MS = 6000; // the server checks its bounds every 500 ms; a busy machine adds more

test('stalled requests get a JSON 408 after their bound while normal requests keep being answered', async () => {
  const env = { HEADER_TIMEOUT_SECONDS: '2', BODY_TIMEOUT_SECONDS: '2' };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  }, timeoutOptions(env));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  try {
    const started = Date.now();
    const stalled = Object.entries(STALLS).flatMap(([kind, partial]) => Array.from({ length: STALLED },
      () => stall(port, partial).then((outcome) => ({ kind, ...outcome }))));
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(5000) });
      assert.equal(await response.text(), 'ok');
    }
    const answeredAt = Date.now();
    const outcomes = await Promise.all(stalled);
    for (const { kind, received, at } of outcomes) {
      const bound = kind === 'part of a body' ? 4000 : 2000;
      assert.ok(at - started < bound + SLACK_MS, `${kind}: closed ${at - started} ms after it stalled`);
      assert.ok(at > answeredAt, `${kind}: still held while the normal requests were answered`);
      const [head, body] = received.split('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 408 Request Timeout\r\n/, kind);
      assert.deepEqual(JSON.parse(body), { error: 'request not received in time', reason: 'ERR_HTTP_REQUEST_TIMEOUT' });
    }
  } finally {
    stall.sockets.forEach((socket) => socket.destroy());
    server.closeAllConnections();
    server.close();
  }
});

test('the read bounds come from the environment, and a bad value is refused by name', () => {
  assert.deepEqual(timeoutOptions({}), { headersTimeout: 10000, requestTimeout: 40000, connectionsCheckingInterval: 500 });
  assert.deepEqual(timeoutOptions({ HEADER_TIMEOUT_SECONDS: '3', BODY_TIMEOUT_SECONDS: '7' }),
    { headersTimeout: 3000, requestTimeout: 10000, connectionsCheckingInterval: 500 });
  for (const bad of ['0', '301', '1.5', 'ten', '-1']) {
    assert.throws(() => timeoutOptions({ BODY_TIMEOUT_SECONDS: bad }),
      new RegExp(`invalid environment variable BODY_TIMEOUT_SECONDS="${bad.replace('.', '\\.')}": an integer from 1 to 300`));
  }
});
