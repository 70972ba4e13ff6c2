"""Inclusive ranges of calendar days."""

from datetime import timedelta


class DateRange:
    """The days from `start` to `end`; both ends belong to the range."""

    def __init__(self, start, end):
        if end < start:
            raise ValueError(f"range ends before it starts: {start} > {end}")
        self.start = start
        self.end = end

    def __contains__(self, day):
        return self.start <= day < self.end

    def __len__(self):
        return (self.end - self.start).days + 1

    def __iter__(self):
        for offset in range(len(self)):
            yield self.start + timedelta(days=offset)

    def overlaps(self, other):
        return self.start <= other.end and other.start <= self.end

    def __repr__(self):
        return f"DateRange({self.start.isoformat()}, {self.end.isoformat()})"
