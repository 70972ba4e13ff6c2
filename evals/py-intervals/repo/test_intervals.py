import unittest

from intervals import gaps, merge, total_length


class MergeTest(unittest.TestCase):
    def test_empty(self):
        self.assertEqual(merge([]), [])

    def test_overlapping(self):
        self.assertEqual(merge([(1, 4), (2, 6), (8, 9)]), [(1, 6), (8, 9)])

    def test_touching_intervals_merge(self):
        self.assertEqual(merge([(1, 3), (3, 5)]), [(1, 5)])
        self.assertEqual(merge([(5, 7), (1, 3), (3, 5)]), [(1, 7)])

    def test_unsorted_and_nested(self):
        self.assertEqual(merge([(10, 12), (0, 20), (5, 6)]), [(0, 20)])

    def test_invalid(self):
        with self.assertRaises(ValueError):
            merge([(3, 1)])

    def test_total_length(self):
        self.assertEqual(total_length([(0, 2), (2, 4), (1, 3)]), 4)

    def test_gaps(self):
        self.assertEqual(gaps([(9, 10), (10, 12), (13, 17)]), [(12, 13)])


if __name__ == "__main__":
    unittest.main()
