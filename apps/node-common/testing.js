'use strict';
/**
 * Test helpers for the apps' `node --test` suites (never loaded at run time): run an app on an
 * ephemeral loopback port, or an app's server.js as a child process.
 */
const { spawn } = require('node:child_process');

async function listen(app) {
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

/**
 * Starts `appDir`/server.js with `env`; `ready` resolves to its URL once it logs that it listens
 * (bounded by timeoutMs).
 */
function startServer(appDir, env, { timeoutMs = 5000 } = {}) {
  const child = spawn(process.execPath, ['server.js'], {
    cwd: appDir,
    env: { PATH: process.env.PATH, OTEL_TRACES_EXPORTER: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server.js did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = () => {
      const match = output.match(/listening on (http:\/\/[^\s]+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server.js exited with ${code} before listening:\n${output}`));
    });
  });
  ready.catch(() => {});
  return { child, ready, exited, output: () => output };
}

/** Waits for a child process to exit, killing it if it takes longer than timeoutMs. */
async function waitExit(proc, timeoutMs = 5000) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => {
      proc.child.kill('SIGKILL');
      resolve({ code: null, signal: 'timeout' });
    }, timeoutMs);
  });
  const result = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  return result;
}

/**
 * Opens a connection to `url`'s host and port, sends `partial` (a request cut short) and resolves
 * to what the server sent until it closed; rejects if it is still open after `withinMs`.
 */
function stalledRequest(url, partial, withinMs) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = require('node:net').connect(Number(port), hostname, () => socket.write(partial));
    let received = '';
    socket.on('data', (chunk) => { received += chunk; });
    socket.on('close', () => resolve(received));
    socket.on('error', () => {});
    socket.setTimeout(withinMs, () => {
      socket.destroy();
      reject(new Error(`still open after ${withinMs} ms; got ${JSON.stringify(received)}`));
    });
  });
}

module.exports = { listen, stalledRequest, startServer, waitExit };
