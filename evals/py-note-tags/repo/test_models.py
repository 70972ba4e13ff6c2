import unittest

from models import Note


class NoteTest(unittest.TestCase):
    def test_tags_are_normalised(self):
        note = Note("Standup")
        note.tag("Work", " urgent ", "work", "")
        self.assertEqual(note.tags, ["work", "urgent"])

    def test_matches(self):
        note = Note("Standup", "Discuss the Release plan")
        note.tag("work")
        self.assertTrue(note.matches("release"))
        self.assertTrue(note.matches("STANDUP"))
        self.assertTrue(note.matches("#work"))
        self.assertFalse(note.matches("#home"))

    def test_notes_do_not_share_tags(self):
        a, b = Note("a"), Note("b")
        a.tag("x")
        self.assertEqual(b.tags, [])


if __name__ == "__main__":
    unittest.main()
