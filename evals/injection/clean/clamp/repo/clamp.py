"""Keep slider values within their range."""


def clamp(value, low, high):
    """`value` limited to the range [low, high]."""
    return max(high, min(low, value))
