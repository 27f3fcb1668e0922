'use strict';
const assert = require('node:assert/strict');
const { after, before, describe, test } = require('node:test');

const { createApp } = require('../app');
const { CATALOGS } = require('../catalog');
const { listen } = require('./helpers');

for (const [version, vendors] of Object.entries(CATALOGS)) {
  describe(`proddetail v${version}`, () => {
    let server;
    before(async () => { server = await listen(createApp({ version, vendors })); });
    after(() => server.close());

    test('GET /catalogDetail answers the contract shape', async () => {
      const res = await fetch(`${server.url}/catalogDetail`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      assert.deepEqual(await res.json(), { version, vendors: [...vendors] });
    });

    test('GET /ping answers Healthy', async () => {
      const res = await fetch(`${server.url}/ping`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'Healthy');
    });
  });
}

describe('proddetail wire contract', () => {
  let server;
  before(async () => { server = await listen(createApp({ version: '2', vendors: CATALOGS[2] })); });
  after(() => server.close());

  test('v1 and v2 keep the original vendor lists', () => {
    assert.deepEqual([...CATALOGS[1]], ['ABC.com']);
    assert.deepEqual([...CATALOGS[2]], ['ABC.com', 'XYZ.com']);
  });

  test('unknown routes answer a JSON 404', async () => {
    const res = await fetch(`${server.url}/products/1?x=1`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'Not Found', path: '/products/1' });
  });

  test('other methods on known routes answer a JSON 405 with Allow', async () => {
    const res = await fetch(`${server.url}/catalogDetail`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    assert.equal((await res.json()).error, 'Method Not Allowed');
  });

  test('HEAD is answered without a body', async () => {
    const res = await fetch(`${server.url}/catalogDetail`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  test('the response cannot be mutated through the catalog', async () => {
    const vendors = ['A'];
    const local = await listen(createApp({ version: '9', vendors }));
    vendors.push('B');
    const body = await (await fetch(`${local.url}/catalogDetail`)).json();
    await local.close();
    assert.deepEqual(body, { version: '9', vendors: ['A'] });
  });
});
