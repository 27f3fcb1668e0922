'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { ConfigError, loadConfig } = require('../config');

test('defaults follow the run contract', () => {
  assert.deepEqual({ ...loadConfig({}) },
    { host: '0.0.0.0', port: 9000, baseUrl: 'http://localhost:5000/products/', timeoutMs: 3000 });
});

test('BASE_URL gets the trailing slash product URLs are built on', () => {
  assert.equal(loadConfig({ BASE_URL: 'http://prodcatalog:5000/products' }).baseUrl,
    'http://prodcatalog:5000/products/');
  assert.equal(loadConfig({ BASE_URL: 'https://x/products/' }).baseUrl, 'https://x/products/');
});

for (const bad of ['prodcatalog:5000/products/', 'ftp://x/products/', 'not a url']) {
  test(`BASE_URL ${bad} is refused`, () => {
    assert.throws(() => loadConfig({ BASE_URL: bad }),
      (err) => err instanceof ConfigError && /BASE_URL must be an http\(s\) URL/.test(err.message));
  });
}

test('BACKEND_TIMEOUT_MS is a bounded positive integer', () => {
  assert.equal(loadConfig({ BACKEND_TIMEOUT_MS: '250' }).timeoutMs, 250);
  for (const bad of ['0', '60001', '1.5', 'soon', '-3']) {
    assert.throws(() => loadConfig({ BACKEND_TIMEOUT_MS: bad }), /BACKEND_TIMEOUT_MS must be an integer/);
  }
});

test('PORT is checked', () => {
  assert.equal(loadConfig({ PORT: '18120' }).port, 18120);
  assert.throws(() => loadConfig({ PORT: '70000' }), /PORT must be an integer/);
});
