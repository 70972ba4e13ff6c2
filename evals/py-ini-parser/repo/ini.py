"""Reading and writing the INI files the deploy tool keeps its host settings in.

    ; staging box
    [server]
    host = staging.example.org
    port: 8080

Section and key names are case-insensitive and stored lower-cased; values
keep their case but lose surrounding whitespace.
"""


class ParseError(ValueError):
    """A line that is not a section header, a key/value pair, a comment or blank.

    `lineno` is the 1-based number of the offending line.
    """

    def __init__(self, lineno, line):
        super().__init__(f"line {lineno}: cannot parse {line!r}")
        self.lineno = lineno
        self.line = line


def parse(text):
    """Parse INI `text` into a dict {section: {key: value}}.

    - Blank lines, and lines whose first non-blank character is ';' or '#',
      are ignored.
    - '[name]' starts a section (an empty name is an error). A section that
      appears twice is merged, later keys overriding earlier ones.
    - 'key = value' or 'key: value' sets a key in the current section; the
      first '=' or ':' on the line separates key and value, so values may
      contain either. An empty key is an error.
    - Keys before the first section header go into the section "". That
      section exists only if there are such keys.
    - Anything else raises ParseError with the line number.
    """
    raise NotImplementedError


def get_bool(config, section, key, default=False):
    """The value of config[section][key] as a bool.

    'yes', 'true', 'on' and '1' are True; 'no', 'false', 'off' and '0' are
    False, in any case. A missing section or key gives `default`; any other
    value raises ValueError.
    """
    raise NotImplementedError


def dumps(config):
    """Write `config` ({section: {key: value}}) as INI text.

    The keys of section "" come first, without a header; then each other
    section as a '[name]' line followed by 'key = value' lines. Sections are
    separated by one blank line, and sections and keys keep their dict order.
    The text ends with a newline; an empty config gives "".
    parse(dumps(config)) == config for any config that parse returns.
    """
    raise NotImplementedError
