"""Version constraints for the plugin manager, in the style of npm.

    satisfies("1.4.2", "^1.2.0")            -> True
    satisfies("2.0.0", ">=1.0.0 <2.0.0")    -> False
    satisfies("0.9.1", "^1.0.0 || 0.9.x")   -> True

Versions are MAJOR.MINOR.PATCH, with no pre-release or build part.
"""


def parse_version(text):
    """'1.4.2' -> (1, 4, 2).

    Raises ValueError unless `text` is exactly three non-negative integers
    separated by dots.
    """
    raise NotImplementedError


def parse_comparator(text):
    """One comparator -> a list of (op, version) pairs that must all hold.

        '>=1.2.0' '>1.2.0' '<=1.2.0' '<1.2.0' '=1.2.0'  -> [(op, (1, 2, 0))]
        '1.2.0'   -> [('=', (1, 2, 0))]
        '^1.2.3'  -> [('>=', (1, 2, 3)), ('<', (2, 0, 0))]
        '^0.2.3'  -> [('>=', (0, 2, 3)), ('<', (0, 3, 0))]   below 1.0.0 the
        '^0.0.3'  -> [('>=', (0, 0, 3)), ('<', (0, 0, 4))]   first non-zero part is the major one
        '~1.2.3'  -> [('>=', (1, 2, 3)), ('<', (1, 3, 0))]
        '1.2.x'   -> [('>=', (1, 2, 0)), ('<', (1, 3, 0))]
        '1.x'     -> [('>=', (1, 0, 0)), ('<', (2, 0, 0))]
        '*', 'x'  -> []

    Anything else raises ValueError.
    """
    raise NotImplementedError


def satisfies(version, constraint):
    """Whether the version string `version` meets `constraint`.

    A constraint is one or more alternatives separated by '||'; it holds if
    any alternative does. An alternative is comparators separated by spaces,
    all of which must hold. An empty constraint (or alternative) holds for
    every version. An invalid version or constraint raises ValueError.
    """
    raise NotImplementedError


def max_satisfying(versions, constraint):
    """The highest version string in `versions` that satisfies `constraint`
    (compared as versions, not as strings), or None if there is none."""
    raise NotImplementedError
