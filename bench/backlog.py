"""``python -m bench.backlog``: draining subscribe()'s backlog, Fifo against list.pop(0).

A list drained with ``pop(0)`` moves every remaining item at each read, so 50 k,
100 k and 200 k queued messages take quadratic time; the backlog is a Fifo (R3),
which reads each in O(1). This prints the drain time of each size for both structures and
the ratio between consecutive sizes (2.0 means linear, 4.0 quadratic), all
measured in this one run under CPython.
"""

import itertools
import time

from pypush.fifo import Fifo

SIZES = (50_000, 100_000, 200_000)


def drain_list(size: int) -> float:
    items = list(range(size))
    started = time.perf_counter()
    while items:
        items.pop(0)
    return time.perf_counter() - started


def drain_fifo(size: int) -> float:
    items = Fifo()
    for n in range(size):
        items.append(n)
    started = time.perf_counter()
    while items:
        items.popleft()
    return time.perf_counter() - started


def main() -> None:
    print("%-12s %12s %12s" % ("messages", "list.pop(0)", "Fifo"))
    rows = [(size, drain_list(size), drain_fifo(size)) for size in SIZES]
    for size, listed, fifo in rows:
        print("%-12d %10.3f s %10.4f s" % (size, listed, fifo))
    for (small, list_a, fifo_a), (large, list_b, fifo_b) in itertools.pairwise(rows):
        print(
            "%d -> %d: list.pop(0) x%.1f, Fifo x%.1f"
            % (small, large, list_b / list_a, fifo_b / fifo_a)
        )


if __name__ == "__main__":
    main()
