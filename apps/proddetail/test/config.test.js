'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { ConfigError, loadConfig } = require('../config');

test('defaults HOST and PORT, takes the vendors of APP_VERSION', () => {
  assert.deepEqual({ ...loadConfig({ APP_VERSION: '2' }) },
    { host: '0.0.0.0', port: 3000, version: '2', vendors: ['ABC.com', 'XYZ.com'] });
  const v1 = loadConfig({ APP_VERSION: ' 1 ', HOST: '127.0.0.1', PORT: '18100' });
  assert.equal(v1.version, '1');
  assert.equal(v1.host, '127.0.0.1');
  assert.equal(v1.port, 18100);
  assert.deepEqual([...v1.vendors], ['ABC.com']);
});

for (const bad of [undefined, '', '3', '1.0', 'v1', '01']) {
  test(`APP_VERSION ${JSON.stringify(bad)} is refused with a clear message`, () => {
    assert.throws(() => loadConfig(bad === undefined ? {} : { APP_VERSION: bad }),
      (err) => err instanceof ConfigError && /APP_VERSION must be one of 1, 2/.test(err.message));
  });
}

for (const bad of [' ', '65536', 'abc', '80.5', '-1']) {
  test(`PORT ${bad} is refused`, () => {
    assert.throws(() => loadConfig({ APP_VERSION: '1', PORT: bad }), ConfigError);
  });
}
