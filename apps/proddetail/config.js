'use strict';
/** Settings from the environment only; a bad value stops the process before it listens. */
const { CATALOGS, VERSIONS } = require('./catalog');

class ConfigError extends Error {}

function port(value, fallback) {
  const raw = value === undefined || value === '' ? String(fallback) : value;
  const parsed = Number(raw);
  if (!/^\d+$/.test(raw) || parsed > 65535) {
    throw new ConfigError(`PORT must be an integer between 0 (any free port) and 65535, got "${raw}"`);
  }
  return parsed;
}

function loadConfig(env = process.env) {
  const version = (env.APP_VERSION || '').trim();
  if (!VERSIONS.includes(version)) {
    throw new ConfigError(
      `APP_VERSION must be one of ${VERSIONS.join(', ')} (baked into the image by ` +
      `--build-arg APP_VERSION), got "${env.APP_VERSION ?? ''}"`);
  }
  return Object.freeze({
    host: env.HOST || '0.0.0.0',
    port: port(env.PORT, 3000),
    version,
    vendors: CATALOGS[version],
  });
}

module.exports = { loadConfig, ConfigError };
