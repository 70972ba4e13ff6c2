import unittest
from datetime import date
from decimal import Decimal

from importer import RowError, monthly_totals, read_orders

EXPORT = """\
order,date,customer,amount
1001,2024-02-28,Ana,19.90
1002,05/03/2024,Ben,5.00
1003,25/03/2024,Chloe,12.50
1004,1/4/2024,Dan,100.00
1005,2024-04-30,Eve,0.10
"""


class ImporterTest(unittest.TestCase):
    def test_dates_are_day_first(self):
        orders = read_orders(EXPORT)
        self.assertEqual([o["date"] for o in orders], [
            date(2024, 2, 28),
            date(2024, 3, 5),
            date(2024, 3, 25),
            date(2024, 4, 1),
            date(2024, 4, 30),
        ])

    def test_monthly_totals(self):
        totals = monthly_totals(read_orders(EXPORT))
        self.assertEqual(totals, {
            "2024-02": Decimal("19.90"),
            "2024-03": Decimal("17.50"),
            "2024-04": Decimal("100.10"),
        })
        self.assertEqual(list(totals), ["2024-02", "2024-03", "2024-04"])

    def test_bad_rows_name_the_line(self):
        bad_date = "order,date,customer,amount\n1,2024-01-01,A,1\n2,31/02/2024,B,1\n"
        with self.assertRaisesRegex(RowError, "line 3"):
            read_orders(bad_date)
        bad_amount = "order,date,customer,amount\n1,2024-01-01,A,a lot\n"
        with self.assertRaisesRegex(RowError, "line 2"):
            read_orders(bad_amount)
        with self.assertRaises(RowError):
            read_orders("id,when,who,sum\n")


if __name__ == "__main__":
    unittest.main()
