'use strict';
/** The shared test helpers, with server.js started from this app's directory. */
const path = require('node:path');
const { listen, stalledRequest, startServer, waitExit } = require('@celestials/node-common/testing');

const APP_DIR = path.join(__dirname, '..');

module.exports = { listen, stalledRequest, startServer: (env, options) => startServer(APP_DIR, env, options), waitExit };
