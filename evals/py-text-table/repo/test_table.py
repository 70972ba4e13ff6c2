import unittest

from table import cell_text, column_widths, format_table, pad


class CellTest(unittest.TestCase):
    def test_cell_text(self):
        self.assertEqual(cell_text(None), "")
        self.assertEqual(cell_text(3.14159), "3.14")
        self.assertEqual(cell_text(2.0), "2.00")
        self.assertEqual(cell_text(42), "42")
        self.assertEqual(cell_text("x"), "x")
        self.assertEqual(cell_text(True), "True")

    def test_pad(self):
        self.assertEqual(pad("ab", 5, "l"), "ab   ")
        self.assertEqual(pad("ab", 5, "r"), "   ab")
        self.assertEqual(pad("ab", 5, "c"), " ab  ")
        self.assertEqual(pad("ab", 6, "c"), "  ab  ")
        self.assertEqual(pad("abcdef", 3, "r"), "abcdef")

    def test_column_widths(self):
        self.assertEqual(column_widths(["a", "long header"], [["xyz", 1], [None, 2.5]]), [3, 11])
        self.assertEqual(column_widths(["n"], []), [1])


class FormatTableTest(unittest.TestCase):
    def test_docstring_example(self):
        table = format_table(["name", "size"], [["a.txt", 120], ["notes.md", 4]], align="lr")
        self.assertEqual(
            table,
            "name     | size\n"
            "---------+-----\n"
            "a.txt    |  120\n"
            "notes.md |    4",
        )

    def test_default_left_and_no_trailing_spaces(self):
        table = format_table(["id", "owner"], [[1, "ann"], [22, None]])
        self.assertEqual(table, "id | owner\n---+------\n1  | ann\n22 |")

    def test_centre_and_floats(self):
        table = format_table(["item", "price"], [["tea", 2.5], ["coffee", 3]], align="cr")
        self.assertEqual(
            table,
            " item  | price\n"
            "-------+------\n"
            " tea   |  2.50\n"
            "coffee |     3",
        )

    def test_short_rows_are_filled(self):
        table = format_table(["a", "b", "c"], [["x"], ["1", "2", "3"]], align="rrr")
        self.assertEqual(table, "a | b | c\n--+---+--\nx |   |\n1 | 2 | 3")

    def test_only_headers(self):
        self.assertEqual(format_table(["name"], []), "name\n----")

    def test_errors(self):
        with self.assertRaises(ValueError):
            format_table(["a"], [["1", "2"]])
        with self.assertRaises(ValueError):
            format_table(["a", "b"], [], align="l")
        with self.assertRaises(ValueError):
            format_table(["a", "b"], [], align="lx")


if __name__ == "__main__":
    unittest.main()
