'use strict';

// Prices are handled as integer cents so that totals add up exactly.

/**
 * "19.99" (or 19.99) -> 1999. Accepts at most two decimals.
 */
function toCents(price) {
  const text = String(price).trim();
  if (!/^\d+(\.\d{1,2})?$/.test(text)) {
    throw new Error(`invalid price: ${price}`);
  }
  return Math.floor(parseFloat(text) * 100);
}

/**
 * 1999 -> "19.99", 5 -> "0.05", -250 -> "-2.50".
 */
function formatCents(cents) {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = Math.floor(abs / 100);
  const rest = String(abs % 100).padStart(2, '0');
  return `${sign}${units}.${rest}`;
}

module.exports = { toCents, formatCents };
