import io
import unittest

from sortlines import main


def run(args, text):
    out = io.StringIO()
    code = main(args, stdin=io.StringIO(text), stdout=out)
    return code, out.getvalue().splitlines()


class SortLinesTest(unittest.TestCase):
    def test_default(self):
        self.assertEqual(run([], "pear\napple\nfig\n"), (0, ["apple", "fig", "pear"]))

    def test_numeric_and_unique(self):
        self.assertEqual(run(["-n", "-u"], "10\n9\n10\n100\n"), (0, ["9", "10", "100"]))

    def test_reverse(self):
        self.assertEqual(run(["-r"], "pear\napple\nfig\n"), (0, ["pear", "fig", "apple"]))
        self.assertEqual(run(["--reverse"], "b\na\nc\n"), (0, ["c", "b", "a"]))

    def test_reverse_with_numeric_and_unique(self):
        self.assertEqual(run(["-n", "-r"], "10\n9\n100\n"), (0, ["100", "10", "9"]))
        self.assertEqual(run(["-rnu"], "2\n10\n2\n1\n"), (0, ["10", "2", "1"]))


if __name__ == "__main__":
    unittest.main()
