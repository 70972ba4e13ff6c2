import io
import unittest

from wordcount import main


class WordCountTest(unittest.TestCase):
    def test_counts(self):
        out = io.StringIO()
        self.assertEqual(main([], stdin=io.StringIO("one two\nthree\n"), stdout=out), 0)
        self.assertEqual(out.getvalue(), "2 3 14\n")


if __name__ == "__main__":
    unittest.main()
