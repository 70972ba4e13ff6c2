"""Plain-text tables for the CLI's `list` commands.

    >>> print(format_table(["name", "size"], [["a.txt", 120], ["notes.md", 4]], align="lr"))
    name     | size
    ---------+-----
    a.txt    |  120
    notes.md |    4
"""


def cell_text(value):
    """The text shown for a cell: "" for None, two decimals for a float
    (3.14159 -> "3.14"), str(value) for anything else."""
    raise NotImplementedError


def column_widths(headers, rows):
    """The width of each column: the length of its longest cell text or of
    its header, whichever is longer."""
    raise NotImplementedError


def pad(text, width, how):
    """`text` padded with spaces to `width` characters.

    how is 'l' (text on the left, spaces on the right), 'r' (spaces on the
    left) or 'c' (centred; an odd space goes on the right). Text that is
    already `width` long or longer comes back unchanged.
    """
    raise NotImplementedError


def format_table(headers, rows, align=None):
    """The table as one string: a header line, a rule, then one line per row.

    Cells are separated by ' | ' and the rule is '-' repeated to each
    column's width, joined by '-+-'. `align` has one letter per column
    ('l', 'r' or 'c'); None means every column is 'l'. Headers are aligned
    like their column. A row with fewer cells than there are headers is
    filled with empty cells; a row with more cells, or an `align` of the
    wrong length or with other letters, raises ValueError. Lines have no
    trailing spaces and there is no newline after the last line.
    """
    raise NotImplementedError
