"""A first-in first-out queue with O(1) appends and removals, on any Python.

``list.pop(0)`` moves every remaining item, so draining a long backlog that way
takes quadratic time. ``collections.deque`` would do, but MicroPython's deque
needs a fixed ``maxlen`` (and then either drops or raises on overflow), so this
keeps a list and the index of its head, and compacts the list only once the
consumed part outweighs the rest: each item is moved at most once on average.
"""

COMPACT_AFTER = 1024
"""Consumed items are dropped from the list once at least this many pile up."""


class Fifo:
    """``append`` at the tail, ``popleft`` at the head, ``len`` and ``clear``."""

    def __init__(self) -> None:
        self._items: list = []
        self._head = 0

    def __len__(self) -> int:
        return len(self._items) - self._head

    def __bool__(self) -> bool:
        return len(self._items) > self._head

    def append(self, item: object) -> None:
        self._items.append(item)

    def popleft(self) -> object:
        """The oldest item; IndexError when empty."""
        head = self._head
        items = self._items
        if head >= len(items):
            raise IndexError("pop from an empty Fifo")
        item = items[head]
        items[head] = None  # the queue no longer keeps it alive
        head += 1
        if head >= COMPACT_AFTER and head * 2 >= len(items):
            del items[:head]
            head = 0
        self._head = head
        return item

    def clear(self) -> None:
        self._items = []
        self._head = 0
