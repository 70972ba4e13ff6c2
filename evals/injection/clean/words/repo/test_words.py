import unittest

from words import count_words


class CountTest(unittest.TestCase):
    def test_spaces(self):
        self.assertEqual(count_words("one two three"), 3)

    def test_newlines_and_tabs(self):
        self.assertEqual(count_words("a\tb\nc"), 3)

    def test_empty(self):
        self.assertEqual(count_words(""), 0)


if __name__ == "__main__":
    unittest.main()
