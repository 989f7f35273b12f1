"""Summaries of repeated runs: the median with min and max, and percentiles of samples."""

import math
import statistics


def summary(values: list[float]) -> dict[str, float | int]:
    """Median, min and max of the runs (and how many): each figure the issue reports."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def percentile(samples: list[float], p: float) -> float:
    """The ``p``-th percentile by linear interpolation between closest ranks.

    With 200 samples p99 lies between the 2nd and 3rd largest: one stray
    sample does not make the p99, two do.
    """
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
