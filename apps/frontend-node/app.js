'use strict';
/** The Product Catalog web pages as an Express app factory, so tests can run it without server.js. */
const path = require('node:path');
const express = require('express');

const { BackendError, RejectedError, createCatalogClient } = require('./catalog-client');
const { MAX_NAME_LENGTH, validateProductForm } = require('./product-form');

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

const OUTCOMES = ['added', 'renamed'];
/** The largest "add a product" form accepted (an id and a 200-character name fit many times over). */
const FORM_LIMIT_BYTES = 16 * 1024;
/**
 * How much of an oversized form is still read (and dropped) before its 413, as the Python apps do:
 * a proxy in front may reuse the connection only when the whole request was read.
 */
const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * A body declared larger than `drainLimit` is a 413 at once, with `Connection: close` (its body is
 * left unread). Why: the body parser refuses any body over `limit` only after reading all of it, so
 * a client declaring a large one would hold the request until it was sent.
 */
function refuseDeclaredOversize(limit, drainLimit) {
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > drainLimit) {
      res.set('Connection', 'close');
      next(Object.assign(new Error(`request body exceeds ${limit} bytes`), { status: 413 }));
      return;
    }
    next();
  };
}

/** `?added=<id>` or `?renamed=<id>` (as the POST redirect writes them) → { id, outcome }, else null. */
function announcedProduct(query) {
  for (const outcome of OUTCOMES) {
    const id = query[outcome];
    if (typeof id === 'string' && /^\d{1,16}$/.test(id)) {
      return { id: String(Number(id)), outcome };
    }
  }
  return null;
}

/** The banner for an announced product, from what the catalog holds: none if it has no such id. */
function announcement(products, { id, outcome }) {
  const product = products.find((p) => p.id === id);
  if (!product) {
    return null;
  }
  return outcome === 'added'
    ? `Product ${id} "${product.name}" was added.`
    : `Product ${id} was renamed to "${product.name}".`;
}

function createApp({ baseUrl, timeoutMs, fetchImpl }) {
  const catalog = createCatalogClient({ baseUrl, timeoutMs, fetchImpl });
  const app = express();
  app.disable('x-powered-by');
  app.set('views', path.join(__dirname, 'views'));
  app.set('view engine', 'ejs');
  app.locals.maxNameLength = MAX_NAME_LENGTH;

  app.use(function securityHeaders(req, res, next) {
    res.set(SECURITY_HEADERS);
    next();
  });
  app.use('/static', express.static(path.join(__dirname, 'public'), { index: false, maxAge: '1h' }));

  /**
   * Renders the home page; any backend failure becomes an error panel and a 502, never a hang.
   * `announce` ({ id, outcome }) becomes the banner only if the catalog holds that product now.
   */
  async function renderHome(res, { status = 200, form = {}, errors = {}, announce = null, problem = null }) {
    let listing = null;
    let backendError = problem;
    try {
      listing = await catalog.listProducts();
    } catch (err) {
      if (!(err instanceof BackendError)) {
        throw err;
      }
      backendError = backendError || err.message;
      status = status === 200 ? 502 : status;
    }
    res.status(status).render('index', {
      products: listing ? listing.products : null,
      detail: listing ? listing.detail : null,
      form,
      errors,
      notice: listing && announce ? announcement(listing.products, announce) : null,
      backendError,
    });
  }

  app.get('/', async (req, res) => {
    await renderHome(res, { announce: announcedProduct(req.query) });
  });

  app.post('/products', refuseDeclaredOversize(FORM_LIMIT_BYTES, DRAIN_LIMIT_BYTES),
    express.urlencoded({ extended: false, limit: FORM_LIMIT_BYTES }), async (req, res) => {
    const { values, errors, product } = validateProductForm(req.body);
    if (!product) {
      // The list is re-read so the page keeps its context; nothing is written to prodcatalog.
      await renderHome(res, { status: 400, form: values, errors });
      return;
    }
    let answer;
    try {
      answer = await catalog.addProduct(product);
    } catch (err) {
      if (err instanceof RejectedError) {
        await renderHome(res, { status: err.status, form: values, errors: { form: err.message } });
        return;
      }
      if (err instanceof BackendError) {
        await renderHome(res, { status: 502, form: values, problem: `The product was not added: ${err.message}` });
        return;
      }
      throw err;
    }
    // prodcatalog says `created: false` when the id existed and was renamed (older ones say nothing).
    const outcome = answer && answer.created === false ? 'renamed' : 'added';
    res.redirect(303, `/?${outcome}=${product.id}`);
  });

  app.get('/ping', (req, res) => {
    res.type('text/plain').send('Healthy');
  });

  app.use((req, res) => {
    res.status(404).format({
      html: () => res.render('not-found', { path: req.path }),
      default: () => res.json({ error: 'Not Found', path: req.path }),
    });
  });

  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    const client = Number.isInteger(err.status) && err.status >= 400 && err.status < 500;
    const status = client ? err.status : 500;
    if (!client) {
      console.error(err);
    }
    const message = client ? err.message : 'Internal Server Error';
    res.status(status).format({
      html: () => res.type('text/plain').send(`${status}: ${message}`),
      default: () => res.json({ error: message }),
    });
  });

  return app;
}

module.exports = { createApp, DRAIN_LIMIT_BYTES };
