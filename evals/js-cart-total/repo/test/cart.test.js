'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Cart } = require('../src/cart');

test('total of three items at 19.99', () => {
  const cart = new Cart();
  cart.add('tee', 'T-shirt', '19.99', 3);
  assert.equal(cart.totalCents(), 5997);
  assert.deepEqual(cart.receipt(), ['3 x T-shirt  59.97', 'Total  59.97']);
});

test('every catalogue price is taken exactly', () => {
  const cart = new Cart();
  cart.add('gum', 'Gum', '0.29');
  cart.add('pen', 'Pen', '1.15');
  cart.add('mug', 'Mug', '4.35', 2);
  cart.add('gum', 'Gum', '0.29', 2);
  assert.equal(cart.totalCents(), 87 + 115 + 870);
  assert.deepEqual(cart.receipt(), [
    '3 x Gum  0.87',
    '1 x Pen  1.15',
    '2 x Mug  8.70',
    'Total  10.72',
  ]);
});

test('all prices from 0.00 to 99.99 convert exactly', () => {
  const cart = new Cart();
  for (let cents = 0; cents < 10000; cents++) {
    const price = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
    cart.add(`sku${cents}`, 'item', price);
    assert.equal(cart.lines.get(`sku${cents}`).unitCents, cents, price);
  }
});

test('removing and bad quantities', () => {
  const cart = new Cart();
  cart.add('a', 'A', '2.00');
  cart.add('b', 'B', '3.00');
  cart.remove('a');
  assert.equal(cart.totalCents(), 300);
  assert.throws(() => cart.add('c', 'C', '1.00', 0), /invalid quantity/);
  assert.throws(() => cart.add('c', 'C', '1.00', 1.5), /invalid quantity/);
});
