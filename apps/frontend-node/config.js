'use strict';
/** Settings from the environment only; a bad value stops the process before it listens. */

class ConfigError extends Error {}

const DEFAULT_BASE_URL = 'http://localhost:5000/products/';
const DEFAULT_TIMEOUT_MS = 3000;
const MAX_TIMEOUT_MS = 60000;

function integer(name, value, fallback, min, max) {
  const raw = value === undefined || value.trim() === '' ? String(fallback) : value.trim();
  const parsed = Number(raw);
  if (!/^\d+$/.test(raw) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
  }
  return parsed;
}

function baseUrl(value) {
  const raw = (value || '').trim() || DEFAULT_BASE_URL;
  let url;
  try {
    url = new URL(raw);
  } catch {
    url = null;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw new ConfigError(`BASE_URL must be an http(s) URL of prodcatalog's /products/, got "${raw}"`);
  }
  // Product URLs are BASE_URL + id, as in the original, so the base must end with a slash.
  return raw.endsWith('/') ? raw : `${raw}/`;
}

function loadConfig(env = process.env) {
  return Object.freeze({
    host: env.HOST || '0.0.0.0',
    port: integer('PORT', env.PORT, 9000, 0, 65535),
    baseUrl: baseUrl(env.BASE_URL),
    timeoutMs: integer('BACKEND_TIMEOUT_MS', env.BACKEND_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS),
  });
}

module.exports = { loadConfig, ConfigError, DEFAULT_TIMEOUT_MS };
