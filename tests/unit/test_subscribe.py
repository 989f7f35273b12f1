"""pypush.subscribe.Subscription: the async iterator over the same core (CPython, fakes)."""

import asyncio
import gc
import weakref

import pytest

from pypush.core import PushRegistry
from pypush.errors import PushUrlError
from pypush.subscribe import Subscription
from tests.support import run
from tests.unit.fakes import FakePlatform


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


def test_messages_arrive_in_order_and_the_iteration_ends_on_the_final_close(platform):
    async def scenario() -> tuple[list, int]:
        subscription = Subscription(PushRegistry(platform), "/p?x", "news")
        socket = platform.last_socket
        socket.server_accepts()
        for message in ("one", {"two": 2}, [3]):
            socket.server_sends(message)
        asyncio.get_running_loop().call_later(0.01, socket.closes, 1000, "Expired")
        received = [message async for message in subscription]
        return received, subscription.close_code

    received, code = run(scenario())
    assert received == ["one", {"two": 2}, [3]]
    assert code == 1000


def test_reconnects_do_not_end_the_iteration(platform):
    async def scenario() -> list:
        subscription = Subscription(PushRegistry(platform), "/p?x", "news")
        platform.last_socket.server_accepts()
        platform.last_socket.closes(1006)  # E8: retried, not final
        assert subscription.close_code is None
        platform.clock.advance(0)
        platform.last_socket.server_accepts()
        platform.last_socket.server_sends("after the reconnect")
        return [await subscription.__anext__()]

    assert run(scenario()) == ["after the reconnect"]
    assert len(platform.sockets) == 2


def test_cancelling_the_consumer_closes_the_socket(platform):
    async def scenario() -> Subscription:
        subscription = Subscription(PushRegistry(platform), "/p?x", "news")
        platform.last_socket.server_accepts()

        async def consume() -> None:
            async for _ in subscription:
                pass

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return subscription

    run(scenario())
    assert platform.last_socket.close_called


def test_leaving_async_with_closes_the_socket(platform):
    async def scenario() -> str:
        async with Subscription(PushRegistry(platform), "/p?x", "news") as messages:
            platform.last_socket.server_accepts()
            platform.last_socket.server_sends("first")
            async for message in messages:
                return message

    assert run(scenario()) == "first"
    assert platform.last_socket.close_called


def test_a_bad_url_is_a_python_exception_at_once(platform):
    async def scenario() -> None:
        Subscription(PushRegistry(platform), "mailto:x@example.test", "news")

    with pytest.raises(PushUrlError, match=r"mailto:x@example\.test"):
        run(scenario())


def test_a_conversion_is_applied_to_each_message(platform):
    async def scenario() -> object:
        subscription = Subscription(PushRegistry(platform), "/p?x", "news", convert=str.upper)
        platform.last_socket.server_accepts()
        platform.last_socket.server_sends("shout")
        return await subscription.__anext__()

    assert run(scenario()) == "SHOUT"


def test_a_thousand_closed_subscriptions_leave_nothing_behind(platform):
    registry = PushRegistry(platform)
    alive = weakref.WeakSet()

    async def scenario() -> None:
        for n in range(1000):
            async with Subscription(registry, "/p?x", "news") as messages:
                alive.add(messages)
                socket = platform.last_socket
                socket.server_accepts()
                socket.server_sends("first of %d" % n)
                socket.server_sends("never read")
                async for _ in messages:
                    break
            socket.closes(1000)  # the close event of the socket leaving async with closed
            platform.sockets.clear()  # the fake's own record; a browser socket is gone now
        del socket

    run(scenario())
    gc.collect()
    assert registry.clients == {}
    assert len(alive) == 0  # nor the subscriptions, nor their unread messages


def test_a_final_close_from_the_server_forgets_the_client(platform):
    registry = PushRegistry(platform)

    async def scenario() -> int:
        subscription = Subscription(registry, "/p?x", "news")
        platform.last_socket.server_accepts()
        platform.last_socket.closes(1000, "Expired")  # E7: final
        assert registry.clients == {}
        subscription.close()  # closing an ended subscription is harmless
        return subscription.close_code

    assert run(scenario()) == 1000


def test_a_refused_url_registers_no_client(platform):
    registry = PushRegistry(platform)

    async def scenario() -> None:
        Subscription(registry, "ftp://example.test/news", "news")

    with pytest.raises(PushUrlError, match="ftp://"):
        run(scenario())
    assert registry.clients == {}


def test_a_long_backlog_is_read_in_order(platform):
    async def scenario() -> list:
        subscription = Subscription(PushRegistry(platform), "/p?x", "news")
        platform.last_socket.server_accepts()
        for n in range(50_000):
            platform.last_socket.server_sends(n)
        platform.last_socket.closes(1000, "Expired")
        return [message async for message in subscription]

    assert run(scenario()) == list(range(50_000))


def test_E1_onopen_is_called_at_the_first_open_not_at_reconnects(platform):
    opened = []
    Subscription(PushRegistry(platform), "/p?x", "news", onopen=opened.append)
    assert opened == []  # connecting: not open yet
    platform.last_socket.server_accepts()
    assert opened == ["news"]
    platform.last_socket.closes(1006)
    platform.clock.advance(0)
    platform.last_socket.server_accepts()
    assert opened == ["news"]  # as faces.push's onopen: a reconnect is not an open
