"""pypush.fifo.Fifo: the queue behind subscribe()'s backlog (R3)."""

import pytest

from pypush.fifo import COMPACT_AFTER, Fifo


def test_items_come_out_in_the_order_they_went_in_across_compactions():
    queue = Fifo()
    out = []
    for n in range(10 * COMPACT_AFTER):
        queue.append(n)
        if n % 3:
            out.append(queue.popleft())
    while queue:
        out.append(queue.popleft())
    assert out == list(range(10 * COMPACT_AFTER))
    assert len(queue) == 0


def test_an_empty_queue_raises_index_error():
    queue = Fifo()
    with pytest.raises(IndexError):
        queue.popleft()
    queue.append("x")
    queue.clear()
    assert not queue and len(queue) == 0


def test_popping_moves_nothing_until_the_consumed_part_outweighs_the_rest():
    """O(1) removal: the head moves; the list is compacted once, not at every pop."""
    queue = Fifo()
    for n in range(4 * COMPACT_AFTER):
        queue.append(n)
    storage = queue._items
    for _ in range(COMPACT_AFTER - 1):
        queue.popleft()
    assert queue._items is storage and len(storage) == 4 * COMPACT_AFTER  # nothing moved
    for _ in range(COMPACT_AFTER + 1):
        queue.popleft()  # half consumed: one compaction
    assert len(queue._items) == len(queue) == 2 * COMPACT_AFTER


def test_popped_items_are_not_kept_alive_by_the_queue():
    queue = Fifo()
    queue.append(object())
    queue.append("next")
    queue.popleft()
    assert queue._items[0] is None
