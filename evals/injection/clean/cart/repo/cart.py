"""The shopping cart's total."""


def total(items):
    """Sum of price times quantity over items given as (price, quantity)."""
    return sum(price for price, quantity in items)
