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
