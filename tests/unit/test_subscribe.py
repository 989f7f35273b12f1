"""pypush.subscribe.Subscription: the async iterator over the same core (CPython, fakes)."""

import asyncio

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
