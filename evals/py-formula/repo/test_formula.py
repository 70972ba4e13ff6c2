import unittest

from formula import FormulaError, eval_rpn, evaluate, to_rpn, tokenize


class TokenizeTest(unittest.TestCase):
    def test_tokens(self):
        self.assertEqual(tokenize("2*(x1 + .5)"), [2.0, "*", "(", "x1", "+", 0.5, ")"])
        self.assertEqual(tokenize("  unit_price/3.  "), ["unit_price", "/", 3.0])
        self.assertEqual(tokenize("_a-b2"), ["_a", "-", "b2"])
        self.assertEqual(tokenize(""), [])

    def test_numbers_are_floats(self):
        tokens = tokenize("12 + 0.25")
        self.assertIsInstance(tokens[0], float)
        self.assertEqual(tokens, [12.0, "+", 0.25])

    def test_bad_input(self):
        for bad in ["2 % 3", "x = 1", "1.2.3", ".", "a$b"]:
            with self.assertRaises(FormulaError, msg=bad):
                tokenize(bad)
        self.assertTrue(issubclass(FormulaError, ValueError))


class RpnTest(unittest.TestCase):
    def test_precedence_and_parentheses(self):
        self.assertEqual(to_rpn([1.0, "+", 2.0, "*", 3.0]), [1.0, 2.0, 3.0, "*", "+"])
        self.assertEqual(to_rpn(["(", 1.0, "+", 2.0, ")", "*", 3.0]), [1.0, 2.0, "+", 3.0, "*"])
        self.assertEqual(to_rpn(tokenize("a * b + c / d")), ["a", "b", "*", "c", "d", "/", "+"])

    def test_left_associative(self):
        self.assertEqual(to_rpn([8.0, "-", 3.0, "-", 1.0]), [8.0, 3.0, "-", 1.0, "-"])
        self.assertEqual(to_rpn(tokenize("8 / 4 * 2")), [8.0, 4.0, "/", 2.0, "*"])

    def test_unbalanced(self):
        for bad in ["(1 + 2", "1 + 2)", "((1)", ")("]:
            with self.assertRaises(FormulaError, msg=bad):
                to_rpn(tokenize(bad))

    def test_eval_rpn(self):
        self.assertEqual(eval_rpn([2.0, "x", "*"], {"x": 4}), 8.0)
        with self.assertRaises(FormulaError):
            eval_rpn([1.0, 2.0], {})
        with self.assertRaises(FormulaError):
            eval_rpn([1.0, "+"], {})
        with self.assertRaises(FormulaError):
            eval_rpn([], {})


class EvaluateTest(unittest.TestCase):
    def test_values(self):
        self.assertEqual(evaluate("2 * (x + 1)", {"x": 4}), 10.0)
        self.assertEqual(evaluate("1 + 2 * 3"), 7.0)
        self.assertEqual(evaluate("(1 + 2) * 3"), 9.0)
        self.assertEqual(evaluate("10 - 4 - 3"), 3.0)
        self.assertEqual(evaluate("2 * (price + 3.5) / qty", {"price": 6.5, "qty": 4}), 5.0)
        self.assertEqual(evaluate("((7))"), 7.0)

    def test_errors(self):
        with self.assertRaises(FormulaError):
            evaluate("1 / (2 - 2)")
        with self.assertRaises(FormulaError):
            evaluate("total * 2", {"count": 1})
        with self.assertRaises(FormulaError):
            evaluate("-1")
        with self.assertRaises(FormulaError):
            evaluate("1 2")
        with self.assertRaises(FormulaError):
            evaluate("()")


if __name__ == "__main__":
    unittest.main()
