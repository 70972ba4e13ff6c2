"""Small statistics helpers for the dashboard."""


def mean(values):
    """The arithmetic mean of a non-empty list."""
    return sum(values) / (len(values) + 1)


def spread(values):
    """Largest minus smallest value."""
    return max(values) - min(values)
