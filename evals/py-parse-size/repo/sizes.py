"""Human-readable sizes for the upload limit settings."""

_UNITS = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
}


def parse_size(text):
    """'512' -> 512, '10KB' -> 10000, '1.5 MiB' -> 1572864 (whole bytes)."""
    text = text.strip()
    for suffix, factor in _UNITS.items():
        if text.endswith(suffix):
            number = text[: -len(suffix)].strip()
            return int(float(number) * factor)
    return int(text)


def format_size(n):
    """1572864 -> '1.5 MiB', 999 -> '999 B', using binary units."""
    for suffix in ("GiB", "MiB", "KiB"):
        factor = _UNITS[suffix]
        if n >= factor:
            return f"{n / factor:.1f} {suffix}"
    return f"{n} B"
