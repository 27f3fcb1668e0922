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

  /** Renders the home page; any backend failure becomes an error panel and a 502, never a hang. */
  async function renderHome(res, { status = 200, form = {}, errors = {}, notice = null, problem = null }) {
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
      notice,
      backendError,
    });
  }

  app.get('/', async (req, res) => {
    const added = typeof req.query.added === 'string' && /^\d{1,9}$/.test(req.query.added)
      ? req.query.added : null;
    await renderHome(res, { notice: added ? `Product ${added} was added.` : null });
  });

  app.post('/products', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const { values, errors, product } = validateProductForm(req.body);
    if (!product) {
      // The list is re-read so the page keeps its context; nothing is written to prodcatalog.
      await renderHome(res, { status: 400, form: values, errors });
      return;
    }
    try {
      await catalog.addProduct(product);
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
    res.redirect(303, `/?added=${product.id}`);
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

module.exports = { createApp };
