'use strict';
/**
 * Listens and shuts down gracefully: on SIGTERM/SIGINT stop accepting, let in-flight requests
 * finish (bounded), flush traces, exit. Kubernetes sends SIGTERM before it kills a pod.
 * A request Node cannot parse (a malformed chunked body, oversized headers) gets a JSON error.
 */
const { STATUS_CODES } = require('node:http');

const SHUTDOWN_DEADLINE_MS = 10000;
const FLUSH_DEADLINE_MS = 3000;
const IDLE_SWEEP_MS = 50;

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

function serve({ app, host, port, name, onShutdown = async () => {} }) {
  const server = app.listen(port, host, () => {
    const address = server.address();
    console.log(`${name} listening on http://${address.address}:${address.port}`);
  });
  server.on('clientError', answerClientError);
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

module.exports = { answerClientError, serve };
