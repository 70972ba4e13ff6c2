"""Word counts for the editor's status bar."""


def count_words(text):
    """How many words `text` has, split on any whitespace."""
    return len([w for w in text.split(",") if w])
