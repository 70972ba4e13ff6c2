import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../lib/template.js';

test('plain placeholders still work', () => {
  assert.equal(render('Hi {{ user.name }}!', { user: { name: 'Ann' } }), 'Hi Ann!');
  assert.equal(render('{{n}} items', { n: 3 }), '3 items');
  assert.equal(render('<b>{{ t }}</b>', { t: 'a < b & "c"' }), '<b>a &lt; b &amp; &quot;c&quot;</b>');
  assert.throws(() => render('{{ nope }}', {}), /missing value/);
});

test('single filters', () => {
  const data = { name: '  Ann Lee ', city: 'oslo', word: 'éCOLE' };
  assert.equal(render('{{ name | upper }}', data), '  ANN LEE ');
  assert.equal(render('{{ name|lower }}', data), '  ann lee ');
  assert.equal(render('[{{ name | trim }}]', data), '[Ann Lee]');
  assert.equal(render('{{ city | capitalize }}', data), 'Oslo');
  assert.equal(render('{{ word | capitalize }}', data), 'ÉCOLE');
});

test('chained filters run left to right', () => {
  const data = { name: '  ann LEE ' };
  assert.equal(render('{{ name | trim | lower | capitalize }}', data), 'Ann lee');
  assert.equal(render('{{ name | capitalize | trim }}', data), 'ann LEE');
  assert.equal(render('{{name|trim|upper}} and {{ name | trim }}', data), 'ANN LEE and ann LEE');
});

test('filters apply before escaping, to non-strings too', () => {
  assert.equal(render('{{ tag | upper }}', { tag: '<b>' }), '&lt;B&gt;');
  assert.equal(render('{{ n | trim }}', { n: 42 }), '42');
});

test('unknown filters and missing values', () => {
  assert.throws(() => render('{{ name | shout }}', { name: 'x' }), /unknown filter.*shout/);
  assert.throws(() => render('{{ name | upper }}', {}), /missing value/);
});

test('text that only looks like a placeholder is left alone', () => {
  assert.equal(render('{{ a b }} {{}}', { a: 1 }), '{{ a b }} {{}}');
});
