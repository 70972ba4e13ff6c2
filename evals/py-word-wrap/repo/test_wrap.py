import unittest

from wrap import fill, wrap


class WrapTest(unittest.TestCase):
    def test_exact_fit(self):
        self.assertEqual(wrap("the quick brown fox", 9), ["the quick", "brown fox"])

    def test_shorter_lines(self):
        self.assertEqual(
            wrap("a bb ccc dddd eeeee", 8), ["a bb ccc", "dddd", "eeeee"]
        )

    def test_whole_text_fits(self):
        self.assertEqual(wrap("hello world", 11), ["hello world"])

    def test_long_word_gets_own_line(self):
        self.assertEqual(wrap("a supercalifragilistic b", 5), ["a", "supercalifragilistic", "b"])

    def test_whitespace(self):
        self.assertEqual(wrap("  one \n two\tthree  ", 20), ["one two three"])
        self.assertEqual(wrap("   ", 10), [])

    def test_no_line_too_long(self):
        text = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do"
        for width in range(11, 30):
            lines = wrap(text, width)
            self.assertTrue(all(len(line) <= width for line in lines))
            self.assertEqual(" ".join(lines), text)
            for a, b in zip(lines, lines[1:]):
                self.assertGreater(len(a) + 1 + len(b.split()[0]), width)

    def test_fill(self):
        self.assertEqual(fill("one two three", 9, indent="> "), "> one two\n> three")

    def test_bad_width(self):
        with self.assertRaises(ValueError):
            wrap("x", 0)


if __name__ == "__main__":
    unittest.main()
