import unittest

from merge import deep_merge, flatten


class MergeTest(unittest.TestCase):
    def test_override_wins(self):
        self.assertEqual(deep_merge({"a": 1, "b": 2}, {"b": 3}), {"a": 1, "b": 3})

    def test_nested_dicts_merge(self):
        base = {"db": {"host": "x", "port": 1}, "name": "app"}
        self.assertEqual(
            deep_merge(base, {"db": {"port": 2}}),
            {"db": {"host": "x", "port": 2}, "name": "app"},
        )

    def test_non_dict_replaces_dict(self):
        self.assertEqual(deep_merge({"a": {"b": 1}}, {"a": None}), {"a": None})
        self.assertEqual(deep_merge({"a": 1}, {"a": {"b": 1}}), {"a": {"b": 1}})

    def test_flatten(self):
        self.assertEqual(flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}), {"a.b": 1, "a.c.d": 2, "e": 3})


if __name__ == "__main__":
    unittest.main()
