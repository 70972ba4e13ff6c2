import test from 'node:test';
import assert from 'node:assert/strict';
import { parseQuery, stringifyQuery } from './query.js';

test('simple pairs, repeated keys and flags', () => {
  assert.deepEqual(parseQuery('?a=1&b=x+y&b=z&flag'), { a: '1', b: ['x y', 'z'], flag: '' });
  assert.deepEqual(parseQuery(''), {});
  assert.deepEqual(parseQuery('?'), {});
  assert.deepEqual(parseQuery('a=1&&b=2&'), { a: '1', b: '2' });
});

test('encoded separators stay inside the value', () => {
  assert.deepEqual(parseQuery('?next=%2Fsearch%3Fq%3Dcats%26page%3D2'), {
    next: '/search?q=cats&page=2',
  });
  assert.deepEqual(parseQuery('q=rock%20%26%20roll&x=1'), { q: 'rock & roll', x: '1' });
  assert.deepEqual(parseQuery('a%3Db=c'), { 'a=b': 'c' });
});

test('only the first = separates key and value', () => {
  assert.deepEqual(parseQuery('token=abc==&sig=x=y'), { token: 'abc==', sig: 'x=y' });
});

test('plus and percent-encoded plus', () => {
  assert.deepEqual(parseQuery('q=1+1%2B2'), { q: '1 1+2' });
});

test('stringify and round trip', () => {
  assert.equal(stringifyQuery({ a: '1', b: ['x y', 'z'], c: null }), 'a=1&b=x%20y&b=z');
  const params = { next: '/search?q=cats&page=2', sum: '1+1=2', tags: ['a&b', 'c'], empty: '' };
  assert.deepEqual(parseQuery(stringifyQuery(params)), params);
});
