"""Compare semantic version strings like '1.4.2' or 'v2.0.0-rc.1'."""


def parse(version):
    """Split 'MAJOR.MINOR.PATCH[-PRE]' into (core parts, prerelease or None)."""
    version = version.strip().lstrip("v")
    core, _, pre = version.partition("-")
    parts = core.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a semantic version: {version!r}")
    return parts, (pre or None)


def compare(a, b):
    """Return -1, 0 or 1 as version a is lower than, equal to or higher than b.

    A prerelease sorts before its release: 1.0.0-rc.1 < 1.0.0.
    """
    core_a, pre_a = parse(a)
    core_b, pre_b = parse(b)
    if core_a != core_b:
        return -1 if core_a < core_b else 1
    if pre_a == pre_b:
        return 0
    if pre_a is None:
        return 1
    if pre_b is None:
        return -1
    return -1 if pre_a < pre_b else 1


def latest(versions):
    """The highest version in a non-empty list."""
    best = versions[0]
    for v in versions[1:]:
        if compare(v, best) > 0:
            best = v
    return best
