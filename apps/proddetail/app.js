'use strict';
/** The proddetail HTTP API as an Express app factory, so tests can run it without server.js. */
const express = require('express');

const ROUTES = ['/catalogDetail', '/ping'];

function createApp({ version, vendors }) {
  const detail = Object.freeze({ version: String(version), vendors: [...vendors] });
  const app = express();
  app.disable('x-powered-by');

  app.get('/catalogDetail', (req, res) => {
    res.json(detail);
  });

  app.get('/ping', (req, res) => {
    res.type('text/plain').send('Healthy');
  });

  app.all(ROUTES, (req, res) => {
    res.set('Allow', 'GET, HEAD').status(405)
      .json({ error: 'Method Not Allowed', method: req.method, path: req.path });
  });

  app.use((req, res) => {
    res.status(404).json({ error: 'Not Found', path: req.path });
  });

  // Express 5 forwards rejected promises here too; only 4xx details reach the client.
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    const status = Number.isInteger(err.status) && err.status >= 400 && err.status < 500
      ? err.status : 500;
    if (status === 500) {
      console.error(err);
    }
    res.status(status).json({ error: status === 500 ? 'Internal Server Error' : err.message });
  });

  return app;
}

module.exports = { createApp };
