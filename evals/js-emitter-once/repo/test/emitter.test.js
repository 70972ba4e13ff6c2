'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Emitter } = require('../emitter');

test('on, emit and off still work', () => {
  const e = new Emitter();
  const seen = [];
  const f = (x) => seen.push(x);
  e.on('save', f);
  assert.equal(e.emit('save', 1), true);
  e.off('save', f);
  assert.equal(e.emit('save', 2), false);
  assert.deepEqual(seen, [1]);
});

test('once runs a single time', () => {
  const e = new Emitter();
  const seen = [];
  e.once('ready', (a, b) => seen.push([a, b]));
  assert.equal(e.listenerCount('ready'), 1);
  assert.equal(e.emit('ready', 1, 2), true);
  assert.equal(e.emit('ready', 3, 4), false);
  assert.deepEqual(seen, [[1, 2]]);
  assert.equal(e.listenerCount('ready'), 0);
});

test('once keeps its place among other listeners', () => {
  const e = new Emitter();
  const seen = [];
  e.on('x', () => seen.push('a'))
    .once('x', () => seen.push('once'))
    .on('x', () => seen.push('b'));
  e.emit('x');
  e.emit('x');
  assert.deepEqual(seen, ['a', 'once', 'b', 'a', 'b']);
});

test('off with the original function cancels a once listener', () => {
  const e = new Emitter();
  let calls = 0;
  const f = () => calls++;
  e.once('tick', f);
  e.off('tick', f);
  assert.equal(e.emit('tick'), false);
  assert.equal(calls, 0);
});

test('a once listener that emits again is not called twice', () => {
  const e = new Emitter();
  let calls = 0;
  e.once('change', function () {
    calls++;
    this.emit('change');
  });
  e.emit('change');
  assert.equal(calls, 1);
});

test('this and arguments are passed through', () => {
  const e = new Emitter();
  let self = null;
  e.once('x', function () {
    self = this;
  });
  e.emit('x');
  assert.equal(self, e);
  assert.throws(() => e.once('x', 'nope'), TypeError);
});
