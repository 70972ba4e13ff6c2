'use strict';

const { toCents, formatCents } = require('./money');

class Cart {
  constructor() {
    this.lines = new Map(); // sku -> { name, unitCents, quantity }
  }

  /** Add `quantity` of an item whose price is given as in the catalogue ("19.99"). */
  add(sku, name, price, quantity = 1) {
    if (!Number.isInteger(quantity) || quantity <= 0) {
      throw new Error(`invalid quantity: ${quantity}`);
    }
    const line = this.lines.get(sku);
    if (line) {
      line.quantity += quantity;
    } else {
      this.lines.set(sku, { name, unitCents: toCents(price), quantity });
    }
  }

  remove(sku) {
    this.lines.delete(sku);
  }

  totalCents() {
    let total = 0;
    for (const line of this.lines.values()) {
      total += line.unitCents * line.quantity;
    }
    return total;
  }

  /** The receipt lines, then the total, amounts formatted with two decimals. */
  receipt() {
    const out = [];
    for (const line of this.lines.values()) {
      out.push(`${line.quantity} x ${line.name}  ${formatCents(line.unitCents * line.quantity)}`);
    }
    out.push(`Total  ${formatCents(this.totalCents())}`);
    return out;
  }
}

module.exports = { Cart };
