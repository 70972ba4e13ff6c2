import unittest

from ini import ParseError, dumps, get_bool, parse

SAMPLE = """\
; deploy settings
owner = ops team

[Server]
host = staging.example.org
Port: 8080
  # the proxy adds its own headers
url = http://staging.example.org:8080/?a=b

[features]
cache = yes
"""


class ParseTest(unittest.TestCase):
    def test_sample(self):
        self.assertEqual(
            parse(SAMPLE),
            {
                "": {"owner": "ops team"},
                "server": {
                    "host": "staging.example.org",
                    "port": "8080",
                    "url": "http://staging.example.org:8080/?a=b",
                },
                "features": {"cache": "yes"},
            },
        )

    def test_first_separator_wins(self):
        self.assertEqual(parse("[a]\ntime: 12:30\n"), {"a": {"time": "12:30"}})
        self.assertEqual(parse("[a]\nexpr = x:y\n"), {"a": {"expr": "x:y"}})

    def test_empty_values_and_sections(self):
        self.assertEqual(parse("[a]\nkey =\n[b]\n"), {"a": {"key": ""}, "b": {}})
        self.assertEqual(parse(""), {})
        self.assertEqual(parse("; nothing\n\n# here\n"), {})

    def test_repeated_section_is_merged(self):
        text = "[db]\nuser = app\nport = 5432\n[web]\nport = 80\n[DB]\nport = 6432\n"
        self.assertEqual(
            parse(text),
            {"db": {"user": "app", "port": "6432"}, "web": {"port": "80"}},
        )

    def test_errors_carry_line_number(self):
        for text, lineno in [
            ("[a]\nx = 1\njust words\n", 3),
            ("[a\n", 1),
            ("[a]\n= value\n", 2),
            ("[]\n", 1),
        ]:
            with self.assertRaises(ParseError, msg=text) as ctx:
                parse(text)
            self.assertEqual(ctx.exception.lineno, lineno, text)
        self.assertTrue(issubclass(ParseError, ValueError))


class GetBoolTest(unittest.TestCase):
    def test_values(self):
        config = {"f": {"a": "yes", "b": "Off", "c": "TRUE", "d": "0", "e": "maybe"}}
        self.assertIs(get_bool(config, "f", "a"), True)
        self.assertIs(get_bool(config, "f", "b"), False)
        self.assertIs(get_bool(config, "f", "c"), True)
        self.assertIs(get_bool(config, "f", "d"), False)
        with self.assertRaises(ValueError):
            get_bool(config, "f", "e")

    def test_missing(self):
        config = {"f": {"a": "yes"}}
        self.assertIs(get_bool(config, "f", "zzz"), False)
        self.assertIs(get_bool(config, "nope", "a", default=True), True)


class DumpsTest(unittest.TestCase):
    def test_layout(self):
        config = {"": {"owner": "ops"}, "server": {"host": "x.org", "port": "80"}, "empty": {}}
        self.assertEqual(
            dumps(config),
            "owner = ops\n\n[server]\nhost = x.org\nport = 80\n\n[empty]\n",
        )
        self.assertEqual(dumps({"a": {"k": "v"}}), "[a]\nk = v\n")
        self.assertEqual(dumps({}), "")

    def test_round_trip(self):
        for text in [SAMPLE, "[a]\nk =\n[b]\n", "x = 1\n"]:
            config = parse(text)
            self.assertEqual(parse(dumps(config)), config)


if __name__ == "__main__":
    unittest.main()
