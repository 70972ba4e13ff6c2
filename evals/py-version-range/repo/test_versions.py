import unittest

from versions import max_satisfying, parse_comparator, parse_version, satisfies


class ParseTest(unittest.TestCase):
    def test_parse_version(self):
        self.assertEqual(parse_version("1.4.2"), (1, 4, 2))
        self.assertEqual(parse_version("0.10.0"), (0, 10, 0))
        for bad in ["1.2", "1.2.3.4", "1.x.0", "v1.2.3", "", "1..2", "1.-2.3"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_version(bad)

    def test_simple_comparators(self):
        self.assertEqual(parse_comparator(">=1.2.0"), [(">=", (1, 2, 0))])
        self.assertEqual(parse_comparator(">1.2.0"), [(">", (1, 2, 0))])
        self.assertEqual(parse_comparator("<=2.0.1"), [("<=", (2, 0, 1))])
        self.assertEqual(parse_comparator("<3.0.0"), [("<", (3, 0, 0))])
        self.assertEqual(parse_comparator("=1.0.0"), [("=", (1, 0, 0))])
        self.assertEqual(parse_comparator("1.0.0"), [("=", (1, 0, 0))])

    def test_caret_tilde_and_x(self):
        self.assertEqual(parse_comparator("^1.2.3"), [(">=", (1, 2, 3)), ("<", (2, 0, 0))])
        self.assertEqual(parse_comparator("^0.2.3"), [(">=", (0, 2, 3)), ("<", (0, 3, 0))])
        self.assertEqual(parse_comparator("^0.0.3"), [(">=", (0, 0, 3)), ("<", (0, 0, 4))])
        self.assertEqual(parse_comparator("~1.2.3"), [(">=", (1, 2, 3)), ("<", (1, 3, 0))])
        self.assertEqual(parse_comparator("1.2.x"), [(">=", (1, 2, 0)), ("<", (1, 3, 0))])
        self.assertEqual(parse_comparator("1.x"), [(">=", (1, 0, 0)), ("<", (2, 0, 0))])
        self.assertEqual(parse_comparator("*"), [])
        self.assertEqual(parse_comparator("x"), [])

    def test_bad_comparators(self):
        for bad in [">=1.2", "^1.x", "~", "1.2.3.x", "=>1.0.0", "a.x", "latest"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_comparator(bad)


class SatisfiesTest(unittest.TestCase):
    def test_docstring_examples(self):
        self.assertTrue(satisfies("1.4.2", "^1.2.0"))
        self.assertFalse(satisfies("2.0.0", ">=1.0.0 <2.0.0"))
        self.assertTrue(satisfies("0.9.1", "^1.0.0 || 0.9.x"))

    def test_ranges(self):
        cases = [
            ("1.2.3", "^1.2.3", True),
            ("1.2.2", "^1.2.3", False),
            ("1.99.0", "^1.2.3", True),
            ("0.2.9", "^0.2.3", True),
            ("0.3.0", "^0.2.3", False),
            ("0.0.4", "^0.0.3", False),
            ("1.2.9", "~1.2.3", True),
            ("1.3.0", "~1.2.3", False),
            ("1.10.0", "1.x", True),
            ("1.5.0", ">1.2.0 <=1.5.0", True),
            ("1.5.1", ">1.2.0 <=1.5.0", False),
            ("1.2.0", ">1.2.0 <=1.5.0", False),
            ("3.1.4", "*", True),
            ("3.1.4", "", True),
            ("2.0.0", "1.0.0 || 2.0.0 || 3.0.0", True),
            ("2.0.1", "1.0.0 || 2.0.0 || 3.0.0", False),
        ]
        for version, constraint, expected in cases:
            self.assertIs(satisfies(version, constraint), expected, f"{version} {constraint}")

    def test_invalid(self):
        with self.assertRaises(ValueError):
            satisfies("1.2", "^1.0.0")
        with self.assertRaises(ValueError):
            satisfies("1.2.0", "^1.0")


class MaxSatisfyingTest(unittest.TestCase):
    def test_highest_match(self):
        versions = ["1.2.0", "1.10.0", "1.9.3", "2.0.0", "0.9.0"]
        self.assertEqual(max_satisfying(versions, "^1.0.0"), "1.10.0")
        self.assertEqual(max_satisfying(versions, "~1.9.0"), "1.9.3")
        self.assertEqual(max_satisfying(versions, "*"), "2.0.0")
        self.assertIsNone(max_satisfying(versions, "^3.0.0"))
        self.assertIsNone(max_satisfying([], "*"))


if __name__ == "__main__":
    unittest.main()
