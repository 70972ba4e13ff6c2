import copy
import unittest

import settings


class SettingsTest(unittest.TestCase):
    def test_defaults(self):
        s = settings.load()
        self.assertEqual(s["server"]["port"], 443)
        self.assertEqual(s["sync"]["paths"]["include"], ["~/Documents"])

    def test_override(self):
        s = settings.load({"server": {"port": 8443}, "log": {"level": "debug"}})
        self.assertEqual(s["server"], {"host": "sync.example.org", "port": 8443, "tls": True})
        self.assertEqual(s["log"]["level"], "debug")

    def test_users_do_not_share_settings(self):
        before = copy.deepcopy(settings.DEFAULTS)
        alice = settings.load({"server": {"port": 8443}})
        bob = settings.load()
        carol = settings.load_lines(["# carol's laptop", "sync.retries=5", "log.level=debug"])
        dave = settings.load()
        self.assertEqual(alice["server"]["port"], 8443)
        self.assertEqual(bob["server"]["port"], 443)
        self.assertEqual(carol["sync"]["retries"], 5)
        self.assertEqual(carol["log"], {"level": "debug"})
        self.assertEqual(dave["sync"]["retries"], 3)
        self.assertEqual(dave["log"], {"level": "info"})
        self.assertEqual(settings.DEFAULTS, before)

    def test_parse_override(self):
        self.assertEqual(settings.parse_override("server.tls=false"), {"server": {"tls": False}})
        self.assertEqual(settings.parse_override("log.level = warn"), {"log": {"level": "warn"}})
        with self.assertRaises(ValueError):
            settings.parse_override("server.port")

    def test_describe(self):
        text = settings.describe(settings.load({"server": {"tls": False}}))
        self.assertIn("server.tls = False", text.splitlines())
        self.assertEqual(text.splitlines()[0], "log.level = info")


if __name__ == "__main__":
    unittest.main()
