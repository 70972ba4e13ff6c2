"""Importing the shop's order export (CSV) into monthly totals."""

import csv
import io
from decimal import Decimal, InvalidOperation

from dates import month_key, parse_date

COLUMNS = ["order", "date", "customer", "amount"]


class RowError(ValueError):
    """A row of the export that cannot be imported; says which line."""


def read_orders(text):
    """The orders in the CSV `text` (with a header row), as dicts with the
    date parsed and the amount as a Decimal."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != COLUMNS:
        raise RowError(f"expected columns {COLUMNS}, got {reader.fieldnames}")
    orders = []
    for lineno, row in enumerate(reader, start=2):
        try:
            orders.append(
                {
                    "order": row["order"],
                    "date": parse_date(row["date"]),
                    "customer": row["customer"].strip(),
                    "amount": Decimal(row["amount"]),
                }
            )
        except (ValueError, InvalidOperation) as e:
            raise RowError(f"line {lineno}: {e}") from e
    return orders


def monthly_totals(orders):
    """{'YYYY-MM': total amount} over `orders`, months in order."""
    totals = {}
    for order in sorted(orders, key=lambda o: o["date"]):
        key = month_key(order["date"])
        totals[key] = totals.get(key, Decimal("0")) + order["amount"]
    return totals
