// Tiny templates for the notification e-mails:
//   render('Hi {{ user.name }}!', { user: { name: 'Ann' } }) === 'Hi Ann!'

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

/** The value at a dotted path ('user.name') in `data`, or undefined. */
export function lookup(data, path) {
  let value = data;
  for (const key of path.split('.')) {
    if (value === null || value === undefined) return undefined;
    value = value[key];
  }
  return value;
}

/**
 * Replace every {{ path }} in `template` with the HTML-escaped value at
 * `path` in `data`. A missing (undefined or null) value throws, so that
 * broken e-mails are caught before they are sent.
 */
export function render(template, data) {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (match, path) => {
    const value = lookup(data, path);
    if (value === undefined || value === null) {
      throw new Error(`missing value for {{ ${path} }}`);
    }
    return escapeHtml(value);
  });
}
