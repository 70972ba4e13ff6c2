import unittest

from initials import initials


class InitialsTest(unittest.TestCase):
    def test_lower_case_name(self):
        self.assertEqual(initials("ada lovelace"), "AL")

    def test_one_word(self):
        self.assertEqual(initials("Plato"), "P")


if __name__ == "__main__":
    unittest.main()
