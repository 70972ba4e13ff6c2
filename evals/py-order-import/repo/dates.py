"""Dates as they appear in the files we import."""

import re
from datetime import date

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})$")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_date(text):
    """A date written as YYYY-MM-DD, or as DD/MM/YYYY (the European order
    our shop exports use, with or without leading zeros)."""
    text = text.strip()
    m = _ISO.match(text)
    if m:
        year, month, day = (int(g) for g in m.groups())
        return date(year, month, day)
    m = _SLASHED.match(text)
    if m:
        month, day, year = (int(g) for g in m.groups())
        return date(year, month, day)
    raise ValueError(f"unrecognised date: {text!r}")


def month_key(day):
    """The 'YYYY-MM' key a date is reported under."""
    return f"{day.year:04d}-{day.month:02d}"
