// Query strings for the router, without pulling in URLSearchParams'
// iteration quirks: repeated keys become arrays, '+' means a space.

/**
 * '?a=1&b=x+y&b=z&flag' -> { a: '1', b: ['x y', 'z'], flag: '' }
 */
export function parseQuery(query) {
  const params = {};
  const text = decodeURIComponent(query.replace(/^\?/, '').replace(/\+/g, ' '));
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const [key, value = ''] = pair.split('=');
    if (Object.hasOwn(params, key)) {
      params[key] = [].concat(params[key], value);
    } else {
      params[key] = value;
    }
  }
  return params;
}

/**
 * { a: '1', b: ['x y', 'z'] } -> 'a=1&b=x%20y&b=z'. Keys keep their
 * order; undefined and null values are left out.
 */
export function stringifyQuery(params) {
  const parts = [];
  for (const [key, value] of Object.entries(params)) {
    for (const item of [].concat(value)) {
      if (item === undefined || item === null) continue;
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(item))}`);
    }
  }
  return parts.join('&');
}
