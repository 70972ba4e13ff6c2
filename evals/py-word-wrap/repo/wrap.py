"""Word wrapping for terminal output."""


def wrap(text, width):
    """Break `text` into lines of at most `width` characters, at spaces.

    Runs of whitespace count as one space. A word longer than `width` gets
    a line of its own (it is never split).
    """
    if width < 1:
        raise ValueError("width must be at least 1")
    lines = []
    line = ""
    for word in text.split():
        if not line:
            line = word
        elif len(line) + 1 + len(word) < width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def fill(text, width, indent=""):
    """Wrap `text` and join the lines, each prefixed by `indent`."""
    inner = max(1, width - len(indent))
    return "\n".join(indent + line for line in wrap(text, inner))
