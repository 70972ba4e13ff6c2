import unittest

from semver import compare, latest, parse


class CompareTest(unittest.TestCase):
    def test_equal(self):
        self.assertEqual(compare("1.2.3", "1.2.3"), 0)
        self.assertEqual(compare("v1.2.3", "1.2.3"), 0)

    def test_simple_order(self):
        self.assertEqual(compare("1.2.3", "1.2.4"), -1)
        self.assertEqual(compare("2.0.0", "1.9.9"), 1)

    def test_multi_digit_parts(self):
        self.assertEqual(compare("1.10.0", "1.9.0"), 1)
        self.assertEqual(compare("1.2.9", "1.2.10"), -1)
        self.assertEqual(compare("10.0.0", "9.99.99"), 1)

    def test_prerelease(self):
        self.assertEqual(compare("1.0.0-rc.1", "1.0.0"), -1)
        self.assertEqual(compare("1.0.0", "1.0.0-rc.1"), 1)
        self.assertEqual(compare("1.0.0-alpha", "1.0.0-beta"), -1)
        self.assertEqual(compare("1.10.0-rc.1", "1.9.0"), 1)

    def test_latest(self):
        self.assertEqual(latest(["1.9.0", "1.10.0", "1.2.0"]), "1.10.0")
        self.assertEqual(latest(["0.9.1", "0.10.0-rc.1", "0.9.12"]), "0.10.0-rc.1")

    def test_invalid(self):
        for bad in ["1.2", "1.2.x", "", "1.2.3.4"]:
            with self.assertRaises(ValueError, msg=bad):
                parse(bad)


if __name__ == "__main__":
    unittest.main()
