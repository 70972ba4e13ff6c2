'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { toCents, formatCents } = require('../src/money');

test('toCents reads catalogue prices', () => {
  assert.equal(toCents('12.50'), 1250);
  assert.equal(toCents('3'), 300);
  assert.equal(toCents(' 7.5 '), 750);
  assert.equal(toCents(0.05), 5);
});

test('toCents rejects anything else', () => {
  for (const bad of ['', 'abc', '1.234', '-1', '1,50']) {
    assert.throws(() => toCents(bad), /invalid price/, bad);
  }
});

test('formatCents', () => {
  assert.equal(formatCents(1999), '19.99');
  assert.equal(formatCents(5), '0.05');
  assert.equal(formatCents(0), '0.00');
  assert.equal(formatCents(-250), '-2.50');
});
