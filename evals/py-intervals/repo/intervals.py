"""Merge overlapping time intervals (used by the calendar free/busy view)."""


def merge(intervals):
    """Merge overlapping or touching (start, end) pairs.

    Input may be in any order; output is sorted by start. Intervals are
    closed, so (1, 3) and (3, 5) touch and merge into (1, 5).
    """
    result = []
    for start, end in sorted(intervals):
        if start > end:
            raise ValueError(f"interval ends before it starts: {(start, end)}")
        if result and start < result[-1][1]:
            last_start, last_end = result[-1]
            result[-1] = (last_start, max(last_end, end))
        else:
            result.append((start, end))
    return result


def total_length(intervals):
    """Total covered length, counting overlaps once."""
    return sum(end - start for start, end in merge(intervals))


def gaps(intervals):
    """The free (start, end) gaps between the merged intervals."""
    merged = merge(intervals)
    return [(a[1], b[0]) for a, b in zip(merged, merged[1:])]
