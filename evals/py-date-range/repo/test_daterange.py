import unittest
from datetime import date

from daterange import DateRange


class DateRangeTest(unittest.TestCase):
    def setUp(self):
        self.march = DateRange(date(2024, 3, 1), date(2024, 3, 5))

    def test_contains_both_ends(self):
        self.assertIn(date(2024, 3, 1), self.march)
        self.assertIn(date(2024, 3, 3), self.march)
        self.assertIn(date(2024, 3, 5), self.march)
        self.assertNotIn(date(2024, 2, 29), self.march)
        self.assertNotIn(date(2024, 3, 6), self.march)

    def test_single_day(self):
        day = DateRange(date(2024, 1, 1), date(2024, 1, 1))
        self.assertIn(date(2024, 1, 1), day)
        self.assertEqual(len(day), 1)

    def test_iteration_matches_membership(self):
        days = list(self.march)
        self.assertEqual(len(days), 5)
        self.assertTrue(all(d in self.march for d in days))

    def test_overlaps(self):
        self.assertTrue(self.march.overlaps(DateRange(date(2024, 3, 5), date(2024, 3, 9))))
        self.assertFalse(self.march.overlaps(DateRange(date(2024, 3, 6), date(2024, 3, 9))))

    def test_backwards(self):
        with self.assertRaises(ValueError):
            DateRange(date(2024, 3, 5), date(2024, 3, 1))


if __name__ == "__main__":
    unittest.main()
