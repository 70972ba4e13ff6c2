import unittest

from csvline import split_fields


class SplitFieldsTest(unittest.TestCase):
    def test_plain(self):
        self.assertEqual(split_fields("a,b,c"), ["a", "b", "c"])

    def test_empty_fields(self):
        self.assertEqual(split_fields(",,"), ["", "", ""])
        self.assertEqual(split_fields(""), [""])

    def test_quoted_separator(self):
        self.assertEqual(split_fields('a,"b,c",d'), ["a", "b,c", "d"])

    def test_escaped_quotes(self):
        self.assertEqual(split_fields('x,"say ""hi""",y'), ["x", 'say "hi"', "y"])
        self.assertEqual(split_fields('""""'), ['"'])
        self.assertEqual(split_fields('"",""""'), ["", '"'])

    def test_other_separator(self):
        self.assertEqual(split_fields('1;"2;3";"4"', sep=";"), ["1", "2;3", "4"])

    def test_unterminated(self):
        with self.assertRaises(ValueError):
            split_fields('a,"b')


if __name__ == "__main__":
    unittest.main()
