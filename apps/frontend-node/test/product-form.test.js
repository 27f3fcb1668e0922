'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { validateProductForm } = require('../product-form');

test('a valid form yields the product with a canonical id', () => {
  assert.deepEqual(validateProductForm({ id: '0042', name: ' Widget ' }), {
    values: { id: '0042', name: 'Widget' }, errors: {}, product: { id: '42', name: 'Widget' },
  });
  assert.deepEqual(validateProductForm({ id: '0', name: 'Zero' }).product, { id: '0', name: 'Zero' });
  assert.equal(validateProductForm({ id: '000000000000000001', name: 'One' }).product.id, '1');
  assert.deepEqual(validateProductForm({ id: '9007199254740991', name: 'é'.repeat(200) }).product,
    { id: '9007199254740991', name: 'é'.repeat(200) });
});

test('missing or non-string fields are errors, not crashes', () => {
  for (const body of [undefined, {}, { id: ['1'], name: { x: 1 } }]) {
    const result = validateProductForm(body);
    assert.equal(result.product, null);
    assert.deepEqual(Object.keys(result.errors).sort(), ['id', 'name']);
  }
});
