'use strict';
/** Entry point: read settings, start tracing before express loads, then serve. */
const { ConfigError, loadConfig } = require('./config');
const { TracingConfigError, startTracing } = require('@celestials/node-common/tracing');

let config;
let tracing;
try {
  config = loadConfig(process.env);
  tracing = startTracing({ defaultServiceName: `Product-Detail-V${config.version}` });
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof TracingConfigError)) {
    throw err;
  }
  console.error(`proddetail: configuration error: ${err.message}`);
  process.exit(2);
}

// Loaded only now, so the express and http instrumentations are already in place.
const { createApp } = require('./app');
const { serve } = require('@celestials/node-common/lifecycle');

serve({
  app: createApp(config),
  host: config.host,
  port: config.port,
  name: `proddetail v${config.version}`,
  onShutdown: () => tracing.shutdown(),
});
