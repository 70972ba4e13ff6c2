"""Saving and loading notes as JSON."""

import json

from models import Note

FORMAT_VERSION = 1


def dumps(notes):
    """The notes as a JSON document."""
    return json.dumps(
        {"version": FORMAT_VERSION, "notes": [note.to_dict() for note in notes]},
        indent=2,
    )


def loads(text):
    """The notes in a JSON document written by dumps."""
    data = json.loads(text)
    if data.get("version") != FORMAT_VERSION:
        raise ValueError(f"unsupported notes file version {data.get('version')!r}")
    return [_note(item) for item in data["notes"]]


def _note(item):
    return Note(
        title=item["title"],
        body=item.get("body", ""),
        pinned=item.get("pinned", False),
    )


def search(notes, query):
    """The notes matching `query`, pinned ones first."""
    found = [note for note in notes if note.matches(query)]
    return sorted(found, key=lambda note: not note.pinned)
