import json
import unittest

from models import Note
from storage import dumps, loads, search


def sample():
    plan = Note("Release plan", "Freeze on Friday", pinned=True)
    plan.tag("work", "urgent")
    milk = Note("Groceries", "milk, eggs")
    milk.tag("home")
    return [plan, milk, Note("Empty")]


class StorageTest(unittest.TestCase):
    def test_round_trip(self):
        notes = sample()
        self.assertEqual(loads(dumps(notes)), notes)
        self.assertEqual(loads(dumps(notes))[0].tags, ["work", "urgent"])

    def test_saved_document(self):
        data = json.loads(dumps(sample()))
        self.assertEqual(data["version"], 1)
        self.assertEqual(data["notes"][1]["tags"], ["home"])
        self.assertEqual(data["notes"][2]["tags"], [])

    def test_files_from_before_tags_still_load(self):
        old = '{"version": 1, "notes": [{"title": "Old", "body": "text", "pinned": false}]}'
        self.assertEqual(loads(old), [Note("Old", "text")])

    def test_search_after_loading(self):
        notes = loads(dumps(sample()))
        self.assertEqual([n.title for n in search(notes, "#work")], ["Release plan"])
        self.assertEqual([n.title for n in search(notes, "e")], ["Release plan", "Groceries", "Empty"])

    def test_wrong_version(self):
        with self.assertRaises(ValueError):
            loads('{"version": 2, "notes": []}')


if __name__ == "__main__":
    unittest.main()
