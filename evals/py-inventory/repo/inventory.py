"""Warehouse stock levels."""


class InsufficientStock(Exception):
    """Raised when an order asks for more items than are in stock."""


class Inventory:
    def __init__(self):
        self._stock = {}
        self._prices = {}

    def add(self, sku, qty, unit_price=None):
        """Put `qty` items of `sku` into stock; returns the new quantity."""
        if qty < 1:
            raise ValueError("qty must be at least 1")
        self._stock[sku] = self._stock.get(sku, 0) + qty
        if unit_price is not None:
            self._prices[sku] = unit_price
        return self._stock[sku]

    def count(self, sku):
        return self._stock.get(sku, 0)

    def skus(self):
        """The skus in stock, sorted."""
        return sorted(self._stock)

    def total_value(self):
        """Stock value of the skus that have a price."""
        return sum(qty * self._prices.get(sku, 0) for sku, qty in self._stock.items())
