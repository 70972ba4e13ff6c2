"""Settings for the sync service: built-in defaults, overridden per user."""

from merge import deep_merge, flatten

DEFAULTS = {
    "server": {"host": "sync.example.org", "port": 443, "tls": True},
    "sync": {
        "interval": 300,
        "retries": 3,
        "paths": {"include": ["~/Documents"], "exclude": []},
    },
    "log": {"level": "info"},
}


def load(overrides=None):
    """The settings for one user: DEFAULTS with the user's `overrides` applied."""
    return deep_merge(DEFAULTS, overrides or {})


def parse_override(line):
    """'server.port=8443' -> {'server': {'port': 8443}}.

    Values 'true' and 'false' become bools and digits become ints; anything
    else stays a string.
    """
    path, sep, raw = line.partition("=")
    if not sep or not path.strip():
        raise ValueError(f"expected key=value, got {line!r}")
    raw = raw.strip()
    if raw in ("true", "false"):
        value = raw == "true"
    elif raw.isdigit():
        value = int(raw)
    else:
        value = raw
    keys = path.strip().split(".")
    override = {keys[-1]: value}
    for key in reversed(keys[:-1]):
        override = {key: override}
    return override


def load_lines(lines):
    """Settings from 'key=value' lines, such as a user's settings file."""
    overrides = {}
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            overrides = deep_merge(overrides, parse_override(line))
    return load(overrides)


def describe(settings):
    """One 'key = value' line per setting, sorted, for `sync config show`."""
    return "\n".join(f"{k} = {v}" for k, v in sorted(flatten(settings).items()))
