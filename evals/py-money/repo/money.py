"""Money arithmetic for invoices, in Decimal (never float)."""

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")


def to_cents(amount):
    """Round an amount (str, int or Decimal) to whole cents.

    Half a cent rounds away from zero: 2.345 -> 2.35, -2.345 -> -2.35.
    """
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_EVEN)


def add_tax(net, rate_percent):
    """Gross amount for `net` plus `rate_percent` percent tax, in cents."""
    return to_cents(Decimal(net) * (1 + Decimal(rate_percent) / 100))


def split(total, parts):
    """Split `total` into `parts` amounts that differ by at most one cent
    and add up exactly to `total` (larger amounts first)."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    cents = int(to_cents(total) / CENT)
    base, extra = divmod(cents, parts)
    return [(base + (1 if i < extra else 0)) * CENT for i in range(parts)]
