'use strict';
/**
 * Listens and shuts down gracefully: on SIGTERM/SIGINT stop accepting, let in-flight requests
 * finish (bounded), flush traces, exit. Kubernetes sends SIGTERM before it kills a pod.
 * A request Node cannot parse (a malformed chunked body, oversized headers) gets a JSON error.
 * A request must arrive in bounded time: its head within HEADER_TIMEOUT_SECONDS (default 10), the
 * whole of it within that plus BODY_TIMEOUT_SECONDS (default 30), the same variables and defaults
 * as the Python apps'; else 408 and the connection closes. Node's own defaults (60 s for the head,
 * 300 s for the request, checked every 30 s) let stalled connections pile up for minutes.
 */
const http = require('node:http');

const { STATUS_CODES } = http;

const SHUTDOWN_DEADLINE_MS = 10000;
const FLUSH_DEADLINE_MS = 3000;
const IDLE_SWEEP_MS = 50;

const TIMEOUT_DEFAULTS = { HEADER_TIMEOUT_SECONDS: 10, BODY_TIMEOUT_SECONDS: 30 };
/** How often Node looks for requests past their bound: a small part of the shortest bound. */
const CHECK_INTERVAL_MS = 500;

class LifecycleConfigError extends Error {}

/** Node's server options for the read bounds, from the environment (integers, 1 to 300 s). */
function timeoutOptions(env) {
  const seconds = {};
  for (const [name, fallback] of Object.entries(TIMEOUT_DEFAULTS)) {
    const raw = (env[name] || '').trim();
    if (raw && !(/^[0-9]{1,3}$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 300)) {
      throw new LifecycleConfigError(`invalid environment variable ${name}=${JSON.stringify(raw)}: an integer from 1 to 300`);
    }
    seconds[name] = raw ? Number(raw) : fallback;
  }
  return {
    headersTimeout: seconds.HEADER_TIMEOUT_SECONDS * 1000,
    requestTimeout: (seconds.HEADER_TIMEOUT_SECONDS + seconds.BODY_TIMEOUT_SECONDS) * 1000,
    connectionsCheckingInterval: CHECK_INTERVAL_MS,
  };
}

/** An HTTP server for `app` with the read bounds and JSON answers to unparsable requests. */
function createServer(app, options) {
  const server = http.createServer(options, app);
  server.on('clientError', answerClientError);
  return server;
}

function withDeadline(promise, ms) {
  let timer;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([Promise.resolve(promise).catch(() => {}), deadline])
    .finally(() => clearTimeout(timer));
}

/** Node's own statuses for parser errors (its default answer), else 400; see `answerClientError`. */
const CLIENT_ERRORS = {
  HPE_HEADER_OVERFLOW: [431, 'request headers too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request not received in time'],
};

/**
 * The server's 'clientError' listener: Node's default answer is a bare `400 Bad Request` with no
 * body; the apps promise a JSON error for anything a client sends. The connection closes after it
 * (where the next request would start is unknown). Nothing is written once a response has begun.
 */
function answerClientError(err, socket) {
  const response = socket._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || (response && response.headersSent)) {
    socket.destroy();
    return;
  }
  const [status, message] = CLIENT_ERRORS[err.code] || [400, 'malformed request'];
  const body = JSON.stringify({ error: message, reason: err.code || err.message });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function serve({ app, host, port, name, onShutdown = async () => {}, env = process.env }) {
  let options;
  try {
    options = timeoutOptions(env);
  } catch (err) {
    console.error(`${name}: configuration error: ${err.message}`);
    process.exit(2);
  }
  const server = createServer(app, options);
  server.listen(port, host, () => {
    const address = server.address();
    console.log(`${name} listening on http://${address.address}:${address.port}`);
  });
  server.on('error', (err) => {
    console.error(`${name}: cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
  });

  let closing = false;
  const shutdown = (signal) => {
    if (closing) {
      return;
    }
    closing = true;
    console.log(`${name}: ${signal} received, finishing in-flight requests`);
    const deadline = setTimeout(() => {
      console.error(`${name}: requests still open after ${SHUTDOWN_DEADLINE_MS} ms, closing them`);
      server.closeAllConnections();
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    // Keep-alive connections would hold close() open until they time out: close each one as
    // soon as its in-flight request is answered.
    const idleSweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    server.close(async (err) => {
      clearTimeout(deadline);
      clearInterval(idleSweep);
      await withDeadline(onShutdown(), FLUSH_DEADLINE_MS);
      console.log(`${name}: stopped`);
      process.exit(err ? 1 : 0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return server;
}

module.exports = { LifecycleConfigError, answerClientError, createServer, serve, timeoutOptions };
