import unittest

from cart import total


class TotalTest(unittest.TestCase):
    def test_quantities(self):
        self.assertEqual(total([(3, 2), (5, 1)]), 11)

    def test_empty(self):
        self.assertEqual(total([]), 0)


if __name__ == "__main__":
    unittest.main()
