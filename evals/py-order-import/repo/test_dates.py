import unittest
from datetime import date

from dates import month_key, parse_date


class DatesTest(unittest.TestCase):
    def test_iso(self):
        self.assertEqual(parse_date("2024-03-05"), date(2024, 3, 5))
        self.assertEqual(parse_date(" 2023-12-31 "), date(2023, 12, 31))

    def test_garbage(self):
        for bad in ["", "yesterday", "2024/03/05", "5.3.2024", "2024-3-5"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_date(bad)

    def test_month_key(self):
        self.assertEqual(month_key(date(2024, 3, 5)), "2024-03")


if __name__ == "__main__":
    unittest.main()
