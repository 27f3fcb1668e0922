'use strict';
/**
 * Listens and shuts down gracefully: on SIGTERM/SIGINT stop accepting, let in-flight requests
 * finish (bounded), flush traces, exit. Kubernetes sends SIGTERM before it kills a pod.
 */
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

function serve({ app, host, port, name, onShutdown = async () => {} }) {
  const server = app.listen(port, host, () => {
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

module.exports = { serve };
