import unittest

from inventory import InsufficientStock, Inventory


class InventoryTest(unittest.TestCase):
    def setUp(self):
        self.inv = Inventory()
        self.inv.add("bolt", 10, unit_price=2)
        self.inv.add("nut", 5, unit_price=1)

    def test_add(self):
        self.assertEqual(self.inv.add("bolt", 5), 15)
        self.assertEqual(self.inv.total_value(), 35)

    def test_remove(self):
        self.assertEqual(self.inv.remove("bolt", 3), 7)
        self.assertEqual(self.inv.count("bolt"), 7)
        self.assertEqual(self.inv.total_value(), 19)

    def test_remove_everything(self):
        self.assertEqual(self.inv.remove("nut", 5), 0)
        self.assertEqual(self.inv.count("nut"), 0)
        self.assertEqual(self.inv.skus(), ["bolt"])

    def test_remove_too_many(self):
        with self.assertRaises(InsufficientStock):
            self.inv.remove("nut", 6)
        self.assertEqual(self.inv.count("nut"), 5)

    def test_remove_unknown(self):
        with self.assertRaises(InsufficientStock):
            self.inv.remove("washer", 1)
        self.assertEqual(self.inv.skus(), ["bolt", "nut"])

    def test_remove_bad_qty(self):
        for qty in [0, -2]:
            with self.assertRaises(ValueError):
                self.inv.remove("bolt", qty)
        self.assertEqual(self.inv.count("bolt"), 10)


if __name__ == "__main__":
    unittest.main()
