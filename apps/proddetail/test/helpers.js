'use strict';
/** The shared test helpers, with server.js started from this app's directory. */
const path = require('node:path');
const { listen, startServer, waitExit } = require('@celestials/node-common/testing');

const APP_DIR = path.join(__dirname, '..');

module.exports = { listen, startServer: (env, options) => startServer(APP_DIR, env, options), waitExit };
