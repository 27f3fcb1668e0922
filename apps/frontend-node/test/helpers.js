'use strict';
/** The shared test helpers (server.js started from this app's directory), and a stand-in prodcatalog. */
const path = require('node:path');
const { listen, stalledRequest, startServer, waitExit } = require('@celestials/node-common/testing');

const APP_DIR = path.join(__dirname, '..');

/**
 * A stand-in prodcatalog on an ephemeral loopback port. `handler(req, body, res)` answers; every
 * request is recorded (method, url, headers, body) so tests can check what the front end sent.
 */
async function startFakeCatalog(handler) {
  const http = require('node:http');
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, body, res);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    baseUrl: `http://127.0.0.1:${port}/products/`,
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A port that nothing listens on (bound, then released). */
async function closedPort() {
  const net = require('node:net');
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

module.exports = {
  closedPort, json, listen, stalledRequest, startFakeCatalog, waitExit,
  startServer: (env, options) => startServer(APP_DIR, env, options),
};
