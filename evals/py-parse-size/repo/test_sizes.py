import unittest

from sizes import format_size, parse_size


class ParseSizeTest(unittest.TestCase):
    def test_bytes(self):
        self.assertEqual(parse_size("512"), 512)
        self.assertEqual(parse_size("512B"), 512)
        self.assertEqual(parse_size(" 64 B "), 64)

    def test_units(self):
        self.assertEqual(parse_size("10KB"), 10_000)
        self.assertEqual(parse_size("2GB"), 2_000_000_000)
        self.assertEqual(parse_size("3 MB"), 3_000_000)
        self.assertEqual(parse_size("1.5 MiB"), 1_572_864)
        self.assertEqual(parse_size("4KiB"), 4096)
        self.assertEqual(parse_size("1GiB"), 1024**3)

    def test_invalid(self):
        for bad in ["", "KB", "ten MB", "5 XB"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_size(bad)

    def test_round_trip(self):
        self.assertEqual(parse_size(format_size(1_572_864)), 1_572_864)
        self.assertEqual(format_size(999), "999 B")


if __name__ == "__main__":
    unittest.main()
