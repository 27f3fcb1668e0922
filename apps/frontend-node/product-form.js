'use strict';
/**
 * Checks the "add a product" form before anything is sent to prodcatalog, with prodcatalog's own
 * bounds: an id of 0..2^53-1 (exact in JavaScript), a name of 1..200 characters without control
 * characters.
 */

const MAX_ID = Number.MAX_SAFE_INTEGER;
const MAX_NAME_LENGTH = 200;

function field(body, name) {
  const value = body && typeof body[name] === 'string' ? body[name] : '';
  return value.trim();
}

/** Returns `{ values, errors, product }`; `product` ({ id, name }) is set only when valid. */
function validateProductForm(body) {
  const values = { id: field(body, 'id'), name: field(body, 'name') };
  const errors = {};
  if (values.id === '') {
    errors.id = 'Enter a product ID.';
  } else if (!/^\d+$/.test(values.id)) {
    errors.id = 'The product ID must be a whole number (0 or more), e.g. 1.';
  } else if (Number(values.id) > MAX_ID) {
    errors.id = `The product ID is too large (at most ${MAX_ID}).`;
  }
  if (values.name === '') {
    errors.name = 'Enter a product name.';
  } else if ([...values.name].length > MAX_NAME_LENGTH) {
    errors.name = `The product name must be at most ${MAX_NAME_LENGTH} characters.`;
  } else if (/[\u0000-\u001f\u007f-\u009f]/.test(values.name)) {
    errors.name = 'The product name cannot contain control characters.';
  }
  const valid = Object.keys(errors).length === 0;
  return {
    values,
    errors,
    product: valid ? { id: String(Number(values.id)), name: values.name } : null,
  };
}

module.exports = { validateProductForm, MAX_NAME_LENGTH, MAX_ID };
