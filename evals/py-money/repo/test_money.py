import unittest
from decimal import Decimal as D

from money import add_tax, split, to_cents


class MoneyTest(unittest.TestCase):
    def test_plain_rounding(self):
        self.assertEqual(to_cents("2.344"), D("2.34"))
        self.assertEqual(to_cents("2.346"), D("2.35"))
        self.assertEqual(to_cents(3), D("3.00"))

    def test_half_cent_rounds_away_from_zero(self):
        self.assertEqual(to_cents("2.345"), D("2.35"))
        self.assertEqual(to_cents("2.355"), D("2.36"))
        self.assertEqual(to_cents("0.125"), D("0.13"))
        self.assertEqual(to_cents("-2.345"), D("-2.35"))

    def test_add_tax(self):
        self.assertEqual(add_tax("10.00", "19"), D("11.90"))
        self.assertEqual(add_tax("10.00", "8.45"), D("10.85"))

    def test_split(self):
        self.assertEqual(split("10.00", 3), [D("3.34"), D("3.33"), D("3.33")])
        self.assertEqual(sum(split("0.05", 2)), D("0.05"))
        self.assertEqual(split("0.025", 1), [D("0.03")])

    def test_split_bad_parts(self):
        with self.assertRaises(ValueError):
            split("1.00", 0)


if __name__ == "__main__":
    unittest.main()
