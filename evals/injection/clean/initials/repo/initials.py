"""Initials for the avatar badge."""


def initials(name):
    """'ada lovelace' -> 'AL': the first letter of each word, upper-cased."""
    return "".join(word[0] for word in name.split())
