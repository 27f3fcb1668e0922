'use strict';
const assert = require('node:assert/strict');
const { after, before, beforeEach, describe, test } = require('node:test');

const { createApp, DRAIN_LIMIT_BYTES } = require('../app');
const { closedPort, json, listen, startFakeCatalog } = require('./helpers');

const TIMEOUT_MS = 300;

/** Runs the front end against a fake prodcatalog whose answer each test sets in `state.answer`. */
function withFrontend() {
  const state = { answer: null };
  before(async () => {
    state.catalog = await startFakeCatalog((req, body, res) => state.answer(req, body, res));
    state.frontend = await listen(createApp({ baseUrl: state.catalog.baseUrl, timeoutMs: TIMEOUT_MS }));
  });
  beforeEach(() => { state.catalog.requests.length = 0; });
  after(async () => {
    await state.frontend.close();
    await state.catalog.close();
  });
  return state;
}

const LISTING = {
  products: { 2: 'Gadget', 10: 'Gizmo', 1: 'Widget' },
  details: { version: '1', vendors: ['ABC.com'] },
};

async function page(url, init) {
  const started = Date.now();
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, headers: res.headers, html: await res.text(), ms: Date.now() - started };
}

function form(fields) {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  };
}

describe('GET /', () => {
  const state = withFrontend();

  test('lists the products in id order with the catalog detail and the canary button', async () => {
    state.answer = (req, body, res) => json(res, 200, LISTING);
    const { status, html } = await page(`${state.frontend.url}/`);
    assert.equal(status, 200);
    assert.deepEqual(state.catalog.requests.map((r) => `${r.method} ${r.url}`), ['GET /products/']);
    const rows = [...html.matchAll(/<tr><td>(\d+)<\/td><td>([^<]*)<\/td><\/tr>/g)].map((m) => `${m[1]}=${m[2]}`);
    assert.deepEqual(rows, ['1=Widget', '2=Gadget', '10=Gizmo']);
    assert.match(html, /Product Catalog version 1 has vendors ABC\.com</);
    assert.match(html, /Answered by <span class="badge">proddetail v1<\/span>/);
    assert.match(html, /<form method="get" action="\/" class="canary">\s*<button type="submit" class="button">Canary Deployment<\/button>/);
  });

  test('shows every vendor of version 2', async () => {
    state.answer = (req, body, res) => json(res, 200, { ...LISTING, details: { version: '2', vendors: ['ABC.com', 'XYZ.com'] } });
    const { html } = await page(`${state.frontend.url}/`);
    assert.match(html, /Product Catalog version 2 has vendors ABC\.com, XYZ\.com</);
    assert.match(html, /proddetail v2/);
  });

  test('shows the degraded message when prodcatalog reports the detail unavailable', async () => {
    state.answer = (req, body, res) => json(res, 200,
      { products: { 1: 'Widget' }, details: { available: false, reason: 'proddetail did not answer' } });
    const { status, html } = await page(`${state.frontend.url}/`);
    assert.equal(status, 200);
    assert.match(html, /Catalog detail unavailable: proddetail did not answer/);
    assert.match(html, /<td>Widget<\/td>/);
    assert.doesNotMatch(html, /data-testid="backend-error"/);
  });

  test('an unknown detail shape is reported as unavailable, not trusted', async () => {
    state.answer = (req, body, res) => json(res, 200, { products: { 1: 'Widget' }, details: { vendors: 'ABC' } });
    const { html } = await page(`${state.frontend.url}/`);
    assert.match(html, /Catalog detail unavailable: prodcatalog returned catalog details in an unknown shape/);
  });

  test('escapes product names', async () => {
    state.answer = (req, body, res) => json(res, 200,
      { products: { 1: '<script>alert(1)</script>' }, details: LISTING.details });
    const { html } = await page(`${state.frontend.url}/`);
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  test('a backend error becomes a 502 error panel', async () => {
    state.answer = (req, body, res) => json(res, 500, { error: 'database is locked' });
    const { status, html } = await page(`${state.frontend.url}/`);
    assert.equal(status, 502);
    assert.match(html, /role="alert" data-testid="backend-error"/);
    assert.match(html, /prodcatalog answered HTTP 500: database is locked/);
    assert.match(html, /The product list could not be loaded/);
  });

  test('a garbage answer becomes a 502 error panel', async () => {
    state.answer = (req, body, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>oops'); };
    const { status, html } = await page(`${state.frontend.url}/`);
    assert.equal(status, 502);
    assert.match(html, /prodcatalog answered a product list this page cannot read/);
  });

  test('a slow backend is cut off at BACKEND_TIMEOUT_MS', async () => {
    state.answer = (req, body, res) => { setTimeout(() => json(res, 200, LISTING), 3000).unref(); };
    const { status, html, ms } = await page(`${state.frontend.url}/`);
    assert.equal(status, 502);
    assert.match(html, new RegExp(`prodcatalog did not answer within ${TIMEOUT_MS} ms`));
    assert.ok(ms < 2000, `answered after ${ms} ms`);
  });

  test('a body that stalls after the headers is cut off too', async () => {
    state.answer = (req, body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"products": {');
    };
    const { status, html, ms } = await page(`${state.frontend.url}/`);
    assert.equal(status, 502);
    assert.match(html, /did not answer within/);
    assert.ok(ms < 2000, `answered after ${ms} ms`);
  });

  test('shows the notice for a product the catalog holds, added or renamed', async () => {
    state.answer = (req, body, res) => json(res, 200, LISTING);
    const added = await page(`${state.frontend.url}/?added=1`);
    assert.match(added.html, /role="status" data-testid="notice">\s*<p>Product 1 &#34;Widget&#34; was added\.<\/p>/);
    const renamed = await page(`${state.frontend.url}/?renamed=010`);
    assert.match(renamed.html, /<p>Product 10 was renamed to &#34;Gizmo&#34;\.<\/p>/);
  });

  test('no notice for an id the catalog does not hold, or a malformed one', async () => {
    state.answer = (req, body, res) => json(res, 200, LISTING);
    for (const query of ['added=7', 'renamed=999', 'added=<b>', 'added=1.5']) {
      const { status, html } = await page(`${state.frontend.url}/?${query}`);
      assert.equal(status, 200);
      assert.doesNotMatch(html, /data-testid="notice"/, query);
    }
  });

  test('an empty catalog still shows the catalog detail and the canary button', async () => {
    state.answer = (req, body, res) => json(res, 200, { products: {}, details: { version: '2', vendors: ['ABC.com', 'XYZ.com'] } });
    const { status, html } = await page(`${state.frontend.url}/`);
    assert.equal(status, 200);
    assert.match(html, /No products yet/);
    assert.match(html, /data-testid="catalog-detail"/);
    assert.match(html, /Product Catalog version 2 has vendors ABC\.com, XYZ\.com</);
    assert.match(html, />Canary Deployment<\/button>/);
  });
});

describe('GET / with prodcatalog down', () => {
  test('renders a 502 error panel at once', async () => {
    const port = await closedPort();
    const frontend = await listen(createApp({ baseUrl: `http://127.0.0.1:${port}/products/`, timeoutMs: 2000 }));
    try {
      const { status, html, ms } = await page(`${frontend.url}/`);
      assert.equal(status, 502);
      assert.match(html, /cannot reach prodcatalog \(connection refused\)/);
      assert.ok(ms < 1500, `answered after ${ms} ms`);
    } finally {
      await frontend.close();
    }
  });
});

describe('POST /products', () => {
  const state = withFrontend();

  test('an existing id renamed by prodcatalog (created: false) redirects to the renamed notice', async () => {
    state.answer = (req, body, res) => json(res, 200, { status: 'New Product added to Product Catalog', name: 'Widget', created: false });
    const res = await page(`${state.frontend.url}/products`, form({ id: '7', name: 'Widget' }));
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/?renamed=7');
  });

  test('posts {"name"} to BASE_URL + id, then redirects back with 303', async () => {
    state.answer = (req, body, res) => json(res, 200, { status: 'New Product added to Product Catalog', name: 'Widget', created: true });
    const res = await page(`${state.frontend.url}/products`, form({ id: ' 007 ', name: '  Widget ' }));
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/?added=7');
    assert.equal(state.catalog.requests.length, 1);
    const [sent] = state.catalog.requests;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, '/products/7');
    assert.match(sent.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(sent.body), { name: 'Widget' });
  });

  const invalid = [
    [{ id: '', name: 'Widget' }, /Enter a product ID\./],
    [{ id: 'abc', name: 'Widget' }, /must be a whole number/],
    [{ id: '1.5', name: 'Widget' }, /must be a whole number/],
    [{ id: '-1', name: 'Widget' }, /must be a whole number/],
    [{ id: '1e3', name: 'Widget' }, /must be a whole number/],
    [{ id: '9007199254740992', name: 'Widget' }, /The product ID is too large/],
    [{ id: '12345678901234567', name: 'Widget' }, /The product ID is too large/],
    [{ id: '3', name: '   ' }, /Enter a product name\./],
    [{ id: '3' }, /Enter a product name\./],
    [{ id: '3', name: 'x'.repeat(201) }, /at most 200 characters/],
    [{ id: '3', name: 'a\u0007b' }, /control characters/],
  ];
  for (const [fields, message] of invalid) {
    test(`refuses ${JSON.stringify(fields).slice(0, 60)} with 400 and writes nothing`, async () => {
      state.answer = (req, body, res) => json(res, 200, LISTING);
      const { status, html } = await page(`${state.frontend.url}/products`, form(fields));
      assert.equal(status, 400);
      assert.match(html, /role="alert" data-testid="form-errors"/);
      assert.match(html, message);
      assert.match(html, /aria-invalid="true"/);
      assert.deepEqual(state.catalog.requests.filter((r) => r.method !== 'GET'), []);
    });
  }

  test('keeps what the user typed when refusing it', async () => {
    state.answer = (req, body, res) => json(res, 200, LISTING);
    const { html } = await page(`${state.frontend.url}/products`, form({ id: 'x"y', name: 'Keep me' }));
    assert.match(html, /name="id"[^>]*value="x&#34;y"/);
    assert.match(html, /name="name"[^>]*value="Keep me"/);
  });

  test('a refusal from prodcatalog is shown with its own reason', async () => {
    state.answer = (req, body, res) => (req.method === 'POST'
      ? json(res, 400, { error: 'name must be a non-empty string' }) : json(res, 200, LISTING));
    const { status, html } = await page(`${state.frontend.url}/products`, form({ id: '4', name: 'Widget' }));
    assert.equal(status, 400);
    assert.match(html, /name must be a non-empty string/);
  });

  test('prodcatalog failing the write gives a 502 error panel', async () => {
    state.answer = (req, body, res) => (req.method === 'POST'
      ? json(res, 503, { error: 'storage unavailable' }) : json(res, 200, LISTING));
    const { status, html } = await page(`${state.frontend.url}/products`, form({ id: '4', name: 'Widget' }));
    assert.equal(status, 502);
    assert.match(html, /The product was not added: prodcatalog answered HTTP 503: storage unavailable/);
    assert.match(html, /<td>Widget<\/td>/);
  });

  test('prodcatalog hanging on the write is cut off', async () => {
    state.answer = (req, body, res) => (req.method === 'POST'
      ? undefined : json(res, 200, LISTING));
    const { status, html, ms } = await page(`${state.frontend.url}/products`, form({ id: '4', name: 'Widget' }));
    assert.equal(status, 502);
    assert.match(html, /The product was not added: prodcatalog did not answer within/);
    assert.ok(ms < 2000, `answered after ${ms} ms`);
  });

  test('an oversized form is refused with 413', async () => {
    state.answer = (req, body, res) => json(res, 200, LISTING);
    const res = await fetch(`${state.frontend.url}/products`, { ...form({ id: '1', name: 'x'.repeat(20000) }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } });
    assert.equal(res.status, 413);
    assert.equal(typeof (await res.json()).error, 'string');
    assert.equal(state.catalog.requests.length, 0);
  });

  test('a form declared over the drain limit is a 413 before its body is sent, and closes', async () => {
    state.answer = (req, body, res) => json(res, 200, LISTING);
    const answer = await rawRequest(state.frontend.url, 'POST /products HTTP/1.1\r\nHost: t\r\n'
      + 'Content-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\n'
      + `Content-Length: ${DRAIN_LIMIT_BYTES + 1}\r\n\r\nid=1`);
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /\r\nConnection: close\r\n/i);
    assert.equal(state.catalog.requests.length, 0);
  });

  test('a form in a Content-Encoding the front end does not decode is a 415', async () => {
    state.answer = (req, body, res) => json(res, 200, LISTING);
    const res = await fetch(`${state.frontend.url}/products`, { ...form({ id: '1', name: 'x' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'x-unknown',
        accept: 'application/json' } });
    assert.equal(res.status, 415);
    assert.equal(state.catalog.requests.length, 0);
  });
});

/** Sends `head` (and whatever body bytes it ends with) and returns what arrives until the server
 * answers and closes, or 5 s pass; the client never sends more. */
function rawRequest(url, head) {
  const net = require('node:net');
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const sock = net.connect(Number(port), hostname, () => sock.write(head));
    sock.setTimeout(5000, () => { sock.destroy(); resolve(answer); });
    sock.on('data', (chunk) => {
      answer += chunk;
      if (/\r\n\r\n/.test(answer)) { sock.destroy(); resolve(answer); }
    });
    sock.on('end', () => resolve(answer));
    sock.on('error', reject);
  });
}

describe('other routes', () => {
  const state = withFrontend();

  test('GET /ping answers Healthy', async () => {
    const res = await fetch(`${state.frontend.url}/ping`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Healthy');
  });

  test('the stylesheet is served locally', async () => {
    const res = await fetch(`${state.frontend.url}/static/styles.css`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/css/);
  });

  test('unknown routes answer 404: JSON for API clients, a page for browsers', async () => {
    const api = await fetch(`${state.frontend.url}/nope`, { headers: { accept: 'application/json' } });
    assert.equal(api.status, 404);
    assert.deepEqual(await api.json(), { error: 'Not Found', path: '/nope' });
    const browser = await fetch(`${state.frontend.url}/nope`, { headers: { accept: 'text/html' } });
    assert.equal(browser.status, 404);
    assert.match(await browser.text(), /<h1>Page not found<\/h1>/);
  });

  test('pages carry a restrictive Content-Security-Policy', async () => {
    const res = await fetch(`${state.frontend.url}/ping`);
    assert.match(res.headers.get('content-security-policy'), /default-src 'none'; style-src 'self'/);
  });
});
