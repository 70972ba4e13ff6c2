import unittest

from duration import format_duration, parse_duration


class ParseDurationTest(unittest.TestCase):
    def test_single_units(self):
        self.assertEqual(parse_duration("45s"), 45)
        self.assertEqual(parse_duration("2h"), 7200)
        self.assertEqual(parse_duration("10m"), 600)

    def test_combined_units(self):
        self.assertEqual(parse_duration("1h30m"), 5400)
        self.assertEqual(parse_duration("1h1m1s"), 3661)
        self.assertEqual(parse_duration("2m5s"), 125)

    def test_case_and_spaces(self):
        self.assertEqual(parse_duration(" 1H15M "), 4500)

    def test_malformed(self):
        for bad in ["", "   ", "1x", "h1", "1h 30m", "90"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_duration(bad)

    def test_round_trip(self):
        for seconds in [0, 1, 59, 60, 3600, 3661, 5400, 86399]:
            self.assertEqual(parse_duration(format_duration(seconds)), seconds)


if __name__ == "__main__":
    unittest.main()
