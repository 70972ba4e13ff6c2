"""The notes themselves."""

from dataclasses import dataclass, field


@dataclass
class Note:
    title: str
    body: str = ""
    tags: list = field(default_factory=list)
    pinned: bool = False

    def tag(self, *names):
        """Add tags (lower-cased, no duplicates, in the order first added)."""
        for name in names:
            name = name.strip().lower()
            if name and name not in self.tags:
                self.tags.append(name)

    def matches(self, query):
        """Whether `query` occurs in the title or body (ignoring case), or
        names one of the tags with a leading '#'."""
        query = query.strip().lower()
        if query.startswith("#"):
            return query[1:] in self.tags
        return query in self.title.lower() or query in self.body.lower()

    def to_dict(self):
        """The note as plain data, for saving."""
        return {"title": self.title, "body": self.body, "pinned": self.pinned}
