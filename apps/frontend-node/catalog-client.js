'use strict';
/**
 * Talks to prodcatalog with a bounded timeout on every call (connect, headers and body), and turns
 * every way it can fail into an error the page can explain: the original front end hung instead.
 */

const MAX_BODY_CHARS = 1024 * 1024;
// Answers that mean "this product is not acceptable"; any other status is prodcatalog's problem.
const REJECTION_STATUSES = new Set([400, 409, 413, 422]);

/** prodcatalog could not be used: down, too slow, or it answered something unusable (→ 502). */
class BackendError extends Error {}

/** prodcatalog refused the request itself (a 4xx), with its own explanation. */
class RejectedError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

const NETWORK_ERRORS = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_SOCKET: 'connection closed',
};

function describeFailure(err, timeoutMs) {
  if (err.name === 'TimeoutError') {
    return `prodcatalog did not answer within ${timeoutMs} ms`;
  }
  const code = err.cause && err.cause.code;
  const reason = NETWORK_ERRORS[code] || code || (err.cause && err.cause.message) || err.message;
  return `cannot reach prodcatalog (${reason})`;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Normalises prodcatalog's `details` (proddetail's answer, or the degraded shape). */
function parseDetail(details) {
  if (isPlainObject(details) && details.available === false) {
    const reason = typeof details.reason === 'string' && details.reason.trim()
      ? details.reason.trim() : 'no reason given';
    return { state: 'unavailable', reason };
  }
  if (isPlainObject(details) && (typeof details.version === 'string' || Number.isInteger(details.version)) &&
      Array.isArray(details.vendors) && details.vendors.every((v) => typeof v === 'string')) {
    return { state: 'ok', version: String(details.version), vendors: details.vendors };
  }
  return { state: 'unavailable', reason: 'prodcatalog returned catalog details in an unknown shape' };
}

function parseProducts(products) {
  if (!isPlainObject(products)) {
    return null;
  }
  return Object.entries(products)
    .map(([id, name]) => ({ id, name: String(name) }))
    .sort((a, b) => (Number(a.id) - Number(b.id)) || a.id.localeCompare(b.id));
}

function createCatalogClient({ baseUrl, timeoutMs, fetchImpl = globalThis.fetch }) {
  async function call(url, init) {
    let response;
    let text;
    try {
      response = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      if (Number(response.headers.get('content-length')) > MAX_BODY_CHARS) {
        await response.body?.cancel();
        throw new BackendError('prodcatalog answered a body that is too large');
      }
      text = await response.text();
    } catch (err) {
      throw err instanceof BackendError ? err : new BackendError(describeFailure(err, timeoutMs));
    }
    if (text.length > MAX_BODY_CHARS) {
      throw new BackendError('prodcatalog answered a body that is too large');
    }
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { status: response.status, body };
  }

  function backendMessage(body) {
    if (isPlainObject(body)) {
      for (const key of ['error', 'message', 'detail']) {
        if (typeof body[key] === 'string' && body[key].trim()) {
          return body[key].trim();
        }
      }
    }
    return null;
  }

  return {
    /** GET /products/ → { products: [{ id, name }], detail }. */
    async listProducts() {
      const { status, body } = await call(baseUrl, { headers: { accept: 'application/json' } });
      if (status !== 200) {
        const message = backendMessage(body);
        throw new BackendError(`prodcatalog answered HTTP ${status}${message ? `: ${message}` : ''}`);
      }
      const products = isPlainObject(body) ? parseProducts(body.products) : null;
      if (!products) {
        throw new BackendError('prodcatalog answered a product list this page cannot read');
      }
      return { products, detail: parseDetail(body.details) };
    },

    /** POST /products/<id> with {"name"}, as the original front end did. */
    async addProduct({ id, name }) {
      const { status, body } = await call(`${baseUrl}${encodeURIComponent(id)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (status >= 200 && status < 300) {
        return body;
      }
      const message = backendMessage(body);
      if (REJECTION_STATUSES.has(status)) {
        throw new RejectedError(message || `prodcatalog refused the product (HTTP ${status})`, status);
      }
      throw new BackendError(`prodcatalog answered HTTP ${status}${message ? `: ${message}` : ''}`);
    },
  };
}

module.exports = { createCatalogClient, BackendError, RejectedError, parseDetail };
