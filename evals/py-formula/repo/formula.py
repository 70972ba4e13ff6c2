"""Arithmetic for the spreadsheet's formula cells, such as '2 * (price + 3.5) / qty'.

A formula is numbers, names, the operators + - * / and parentheses. There
is no unary minus: '-1' is an error (write '0 - 1').
"""


class FormulaError(ValueError):
    """A formula that cannot be read or evaluated."""


def tokenize(text):
    """Split a formula into tokens.

    - numbers become floats: '3', '3.5', '.5' and '3.' are all numbers;
      a run of digits and dots that is not a number (like '1.2.3' or '.')
      raises FormulaError
    - names are a letter or '_' followed by letters, digits or '_'; they
      stay strings
    - '+', '-', '*', '/', '(' and ')' are one-character string tokens
    - whitespace only separates tokens; any other character raises FormulaError

        tokenize('2*(x1 + .5)') == [2.0, '*', '(', 'x1', '+', 0.5, ')']
    """
    raise NotImplementedError


def to_rpn(tokens):
    """Reorder tokens into reverse Polish notation (the shunting-yard algorithm).

    '*' and '/' bind tighter than '+' and '-'; all four are left-associative.
    Parentheses do not appear in the result. Unbalanced parentheses raise
    FormulaError.

        to_rpn([1.0, '+', 2.0, '*', 3.0]) == [1.0, 2.0, 3.0, '*', '+']
        to_rpn(['(', 1.0, '+', 2.0, ')', '*', 3.0]) == [1.0, 2.0, '+', 3.0, '*']
        to_rpn([8.0, '-', 3.0, '-', 1.0]) == [8.0, 3.0, '-', 1.0, '-']
    """
    raise NotImplementedError


def eval_rpn(rpn, names):
    """The value (a float) of the RPN token list `rpn`.

    A name's value is looked up in the dict `names`. An unknown name,
    division by zero, an operator without two operands, or anything other
    than exactly one value left at the end raises FormulaError.
    """
    raise NotImplementedError


def evaluate(text, names=None):
    """tokenize, to_rpn and eval_rpn in one go; `names` defaults to none.

        evaluate('2 * (x + 1)', {'x': 4}) == 10.0
    """
    raise NotImplementedError
