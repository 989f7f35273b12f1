"""Many processes, one push server: the registry, the bus and the socket counts in Redis.

Keys (``pypush`` is the prefix):

- ``pypush:ids`` (hash): channelId -> channel, every registered channelId;
- ``pypush:channel:{name}`` (sorted set): a channel's channelIds, by registration time;
- ``pypush:bus`` (stream): every push and expiry, in order; each process reads all of it from
  where it left off, so one that lost Redis for a while catches up instead of losing what
  was published meanwhile; trimmed to the last ``RETENTION`` seconds;
- ``pypush:stream:{channelId}`` (hash: ``epoch``, ``last``, ``bytes``) and
  ``pypush:history:{channelId}`` (stream): each channelId's position and its last messages
  (H1-H6), entry ids ``{offset}-{milliseconds}``, trimmed to the hub's history bounds
  at each push, and gone by itself after the age bound when nothing more is pushed; so a
  client resumes on any process;
- ``pypush:workers`` (set) and ``pypush:worker:{id}`` (hash, channelId -> open sockets,
  expiring ``WORKER_TTL`` seconds after the process last refreshed it): who has which sockets,
  so a push can say how many sockets it went to, and a process killed with -9 stops counting
  by itself.
- ``pypush:once:{channel}:{key}`` (string, expiring after ``IDEMPOTENCY_SECONDS``): the
  answer of a push sent with an idempotency key, set by the script that published it.

A push is one Lua script (append to the bus and count its sockets, in one round trip); every
process, the sender too, delivers it from the bus, so all deliver pushes in the same order.
A process that cannot reach Redis says so in its log once ("lost Redis"), keeps its sockets
open, retries by itself, and says when it has Redis again; meanwhile a push through it
fails with :class:`BrokerUnavailable` (503 over HTTP), and handshakes get 503 (the client
retries). A push sent that gets no answer fails with :class:`OutcomeUnknown` (504): Redis
may still run it, so it is never sent again by itself; a retry with the same idempotency
key is published at most once. A bus entry a process cannot read is logged and skipped.
Redis must keep its data across a restart (AOF or RDB): the channelIds live there.
"""

import asyncio
import contextlib
import os
import socket
import time
import uuid

import redis.asyncio as aioredis
import redis.exceptions
import yarl
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from pypush_server.brokers import IDEMPOTENCY_SECONDS, BrokerUnavailable, OutcomeUnknown
from pypush_server.history import Stored, new_epoch
from pypush_server.hub import CLOSE_EXPIRED, Frame
from pypush_server.logs import log

RETENTION = 60.0  # seconds of pushes the bus keeps for a process that lost Redis for a while
WORKER_TTL = 6  # seconds a process's socket counts outlive its last refresh
REFRESH = 2.0  # seconds between refreshes of a process's socket counts
READ_BLOCK_MS = 1000
STOP_SECONDS = 3.0
"""How long stopping waits for the broker's tasks, and then for each client to close."""
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

_COUNT = """
local function ids_of(p, channel, cid)
  if cid ~= '' then
    if redis.call('HGET', p .. ':ids', cid) ~= channel then return {} end
    return {cid}
  end
  return redis.call('ZRANGE', p .. ':channel:' .. channel, 0, -1)
end
local function count(p, ids)
  local total = 0
  for _, w in ipairs(redis.call('SMEMBERS', p .. ':workers')) do
    local key = p .. ':worker:' .. w
    if redis.call('EXISTS', key) == 0 then
      redis.call('SREM', p .. ':workers', w)
    else
      for _, id in ipairs(ids) do
        local n = redis.call('HGET', key, id)
        if n then total = total + tonumber(n) end
      end
    end
  end
  return total
end
"""

_HISTORY = """
local function trim(hkey, held, now, max_n, max_b, max_age)
  local len = redis.call('XLEN', hkey)
  local after, keep = '-', nil
  while len > 0 and not keep do
    local batch = redis.call('XRANGE', hkey, after, '+', 'COUNT', 100)
    if #batch == 0 then break end
    for _, e in ipairs(batch) do
      local ms = tonumber(string.match(e[1], '-(%d+)$'))
      if len > max_n or held > max_b or ms < now - max_age then
        held = held - #e[2][2]
        len = len - 1
        after = '(' .. e[1]
      else
        keep = e[1]
        break
      end
    end
  end
  if keep then
    if after ~= '-' then redis.call('XTRIM', hkey, 'MINID', keep) end
  else
    redis.call('DEL', hkey)
    held = 0
  end
  return held
end
"""


def _once(body: str) -> str:
    """A publishing script's body, run at most once per idempotency key (KEYS[1], if any).

    The key is checked and set (SET NX, expiring after IDEMPOTENCY_SECONDS) in the script
    that publishes, so every process agrees; a repeat answers the first's answer and
    publishes nothing. The script answers ``{answer, 1 for a repeat, else 0}``.
    """
    return (
        "local function publish()\n"
        + body
        + """
end
if #KEYS == 0 then return {publish(), 0} end
local seen = redis.call('GET', KEYS[1])
if seen then return {tonumber(seen), 1} end
local answer = publish()
redis.call('SET', KEYS[1], answer, 'NX', 'PX', %d)
return {answer, 0}
"""
        % (IDEMPOTENCY_SECONDS * 1000)
    )


PUBLISH_MESSAGES = (
    _COUNT
    + _HISTORY
    + _once(
        """
local p, channel, cid = ARGV[1], ARGV[2], ARGV[3]
local ids = ids_of(p, channel, cid)
if cid ~= '' and #ids == 0 then return 0 end
local now, max_n, max_b, max_age = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]),
  tonumber(ARGV[8])
local bodies, at = {}, 1
for length in string.gmatch(ARGV[10], '[^,]+') do
  local n = tonumber(length)
  bodies[#bodies + 1] = string.sub(ARGV[11], at, at + n - 1)
  at = at + n
end
local positions = {}
for _, id in ipairs(ids) do
  local skey, hkey = p .. ':stream:' .. id, p .. ':history:' .. id
  local state = redis.call('HMGET', skey, 'epoch', 'last', 'bytes')
  local epoch = state[1]
  if not epoch then  -- a channelId registered before streams existed
    epoch = string.sub(redis.sha1hex(ARGV[9] .. id), 1, 12)
  end
  local last = tonumber(state[2] or 0)
  local held = tonumber(state[3] or 0)
  if redis.call('EXISTS', hkey) == 0 then held = 0 end
  local first = last + 1
  for _, body in ipairs(bodies) do
    last = last + 1
    if max_n > 0 and #body <= max_b then
      redis.call('XADD', hkey, string.format('%.0f-%.0f', last, now), 'd', body)
      held = held + #body
    end
  end
  held = trim(hkey, held, now, max_n, max_b, max_age)
  if held > 0 then redis.call('PEXPIRE', hkey, max_age + 1000) end
  redis.call('HSET', skey, 'epoch', epoch, 'last', string.format('%.0f', last), 'bytes', held)
  positions[#positions + 1] = id .. ' ' .. epoch .. ' ' .. string.format('%.0f', first)
end
if #positions > 0 then
  redis.call('XADD', p .. ':bus', 'MINID', '~', ARGV[4], '*', 't', 'messages', 'c', channel,
             'i', cid, 'l', ARGV[10], 'd', ARGV[11], 'p', table.concat(positions, ','))
end
return count(p, ids)
"""
    )
)

PUBLISH = _COUNT + _once(
    """
local p, channel, cid = ARGV[1], ARGV[2], ARGV[3]
local ids = ids_of(p, channel, cid)
if cid ~= '' and #ids == 0 then return 0 end
redis.call('XADD', p .. ':bus', 'MINID', '~', ARGV[4], '*',
           't', 'push', 'c', channel, 'i', cid, 'k', ARGV[5], 'l', ARGV[6], 'd', ARGV[7])
return count(p, ids)
"""
)

EXPIRE = (
    _COUNT
    + """
local p, cid = ARGV[1], ARGV[2]
local channel = redis.call('HGET', p .. ':ids', cid)
if not channel then return -1 end
redis.call('HDEL', p .. ':ids', cid)
redis.call('ZREM', p .. ':channel:' .. channel, cid)
redis.call('DEL', p .. ':stream:' .. cid, p .. ':history:' .. cid)
local n = count(p, {cid})
redis.call('XADD', p .. ':bus', 'MINID', '~', ARGV[3], '*', 't', 'expire', 'c', channel, 'i', cid)
return n
"""
)

COUNT = (
    _COUNT
    + """
return count(ARGV[1], ids_of(ARGV[1], ARGV[2], ARGV[3]))
"""
)


def shown_url(url: str) -> str:
    """The URL without its password, for the log and for errors."""
    parsed = yarl.URL(url)
    return str(parsed.with_password("***")) if parsed.password else url


def _split(data: bytes, lengths: bytes) -> list[bytes]:
    """``data`` cut at the comma-separated ``lengths``, which must cover it exactly."""
    pieces, offset = [], 0
    for length in filter(None, lengths.decode().split(",")):
        end = offset + int(length)
        if not offset <= end <= len(data):
            raise ValueError("lengths %s for %d bytes" % (lengths.decode(), len(data)))
        pieces.append(data[offset:end])
        offset = end
    if offset != len(data):
        raise ValueError("lengths %s for %d bytes" % (lengths.decode(), len(data)))
    return pieces


def _shown_fields(fields: dict) -> str:
    """A bus entry's fields for the log: short values as they are, long ones cut."""
    shown = []
    for name, value in fields.items():
        cut = value if len(value) <= 40 else value[:40] + b"..."
        shown.append("%s=%r" % (name.decode(errors="replace"), cut))
    return ", ".join(shown)


def _id(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class RedisBroker:
    def __init__(self, url: str, prefix: str = "pypush") -> None:
        self.url = url
        self.prefix = prefix
        self.worker = "%s-%d-%s" % (socket.gethostname(), os.getpid(), uuid.uuid4().hex[:6])
        self.hub = None
        self._redis: aioredis.Redis | None = None
        self._reader: aioredis.Redis | None = None
        self._tasks: list[asyncio.Task] = []
        self._dirty = asyncio.Event()
        self._lost_since: float | None = None
        self._stopping = False

    def attach(self, hub) -> None:
        self.hub = hub

    # -- life -------------------------------------------------------------------------------

    async def start(self) -> None:
        # One retry at once: enough for a pooled connection that died with a restarted Redis,
        # short enough that a push with Redis away fails promptly with a clear error.
        self._redis = aioredis.Redis.from_url(
            self.url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 1)
        )
        # XREAD blocks: a connection of its own, which may wait longer than a command.
        self._reader = aioredis.Redis.from_url(
            self.url, socket_connect_timeout=2, socket_timeout=READ_BLOCK_MS / 1000 + 5
        )
        self._publish = self._redis.register_script(PUBLISH)
        self._publish_messages = self._redis.register_script(PUBLISH_MESSAGES)
        self._expire = self._redis.register_script(EXPIRE)
        self._count = self._redis.register_script(COUNT)
        try:
            last = await self._last_entry()
            await self._write_counts()
        except REDIS_ERRORS as exc:
            raise BrokerUnavailable(
                "could not reach Redis at %s: %s" % (shown_url(self.url), exc)
            ) from exc
        log.info("on Redis at %s as %s", shown_url(self.url), self.worker)
        self._tasks = [
            asyncio.ensure_future(self._read_bus(last)),
            asyncio.ensure_future(self._keep_counts()),
        ]
        for task in self._tasks:
            task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task) -> None:
        """A loop that ends before stop() is a process that no longer delivers: say so."""
        if self._stopping or task.cancelled():
            return
        exc = task.exception()
        log.error(
            "a Redis loop of this process ended (%r): it no longer delivers pushes",
            task,
            exc_info=exc,
        )

    async def stop(self) -> None:
        # The loops also end by this flag: a cancellation can come back from redis-py as
        # a TimeoutError (an OSError, which the loops take for Redis being away), and
        # then the loop went on. serve.py --redis hung at SIGTERM so, now and then.
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            done, left = await asyncio.wait(self._tasks, timeout=STOP_SECONDS)
            for task in done:  # a loop that ended by an error: no news at shutdown
                if not task.cancelled():
                    task.exception()
            for task in left:  # closing the clients below ends what still waits on Redis
                log.warning("a Redis task did not stop within %g s: %r", STOP_SECONDS, task)
        if self._lost_since is None:  # with Redis away, its counts expire by themselves
            with contextlib.suppress(TimeoutError, *REDIS_ERRORS):
                await asyncio.wait_for(self._forget_worker(), 2)
        for client in (self._redis, self._reader):
            if client is not None:
                with contextlib.suppress(TimeoutError, *REDIS_ERRORS):
                    await asyncio.wait_for(client.aclose(), STOP_SECONDS)

    # -- the registry -------------------------------------------------------------------------

    async def register(self, channel: str, channel_id: str) -> None:
        async def register() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._key("ids"), channel_id, channel)
                pipe.zadd(self._key("channel:" + channel), {channel_id: time.time()})
                pipe.hset(
                    self._key("stream:" + channel_id),
                    mapping={"epoch": new_epoch(), "last": 0, "bytes": 0},
                )
                await pipe.execute()

        await self._call("register a channelId", register())

    async def channel_of(self, channel_id: str) -> str | None:
        name = await self._call("check a channelId", self._redis.hget(self._key("ids"), channel_id))
        return None if name is None else name.decode()

    async def channel_ids(self, channel: str) -> list[str]:
        ids = await self._call(
            "list channelIds", self._redis.zrange(self._key("channel:" + channel), 0, -1)
        )
        return [i.decode() for i in ids]

    async def expire(self, channel_id: str) -> int | None:
        count = await self._call(
            "expire a channelId",
            self._expire(args=[self.prefix, channel_id, self._min_id()]),
        )
        return None if count < 0 else count

    async def socket_count(self, channel: str, channel_id: str | None = None) -> int:
        return await self._call(
            "count sockets", self._count(args=[self.prefix, channel, channel_id or ""])
        )

    # -- the bus ----------------------------------------------------------------------------

    async def publish(
        self,
        channel: str,
        channel_id: str | None,
        frames: list[Frame],
        idempotency_key: str | None = None,
    ) -> int:
        if not frames:  # an entry of no frames is no push: none is written
            return 0
        kinds = "".join("b" if frame.binary else "t" for frame in frames)
        lengths = ",".join(str(frame.size) for frame in frames)
        data = b"".join(frame.data for frame in frames)
        sockets = await self._send_push(
            self._publish,
            channel,
            idempotency_key,
            [self.prefix, channel, channel_id or "", self._min_id(), kinds, lengths, data],
        )
        return sockets * len(frames)

    async def publish_messages(
        self,
        channel: str,
        channel_id: str | None,
        bodies: list[bytes],
        idempotency_key: str | None = None,
    ) -> int:
        """One Lua script: each channelId's stream gives the messages their offsets and keeps
        them, the bus carries them (once) with each channelId's positions, the sockets are
        counted."""
        bounds = self.hub.history
        sockets = await self._send_push(
            self._publish_messages,
            channel,
            idempotency_key,
            [
                self.prefix,
                channel,
                channel_id or "",
                self._min_id(),
                int(time.time() * 1000),
                bounds.messages,
                bounds.bytes,
                int(bounds.seconds * 1000),
                uuid.uuid4().hex,
                ",".join(str(len(body)) for body in bodies),
                b"".join(bodies),
            ],
        )
        return sockets * len(bodies)

    async def _send_push(
        self, script: AsyncScript, channel: str, idempotency_key: str | None, args: list
    ) -> int:
        """A publishing script's answer (the sockets counted), run once per key if given."""
        keys = [] if idempotency_key is None else [self._once_key(channel, idempotency_key)]
        answer, repeated = await self._evaluate_once(script, keys, args)
        if repeated:
            log.info(
                "push to %s with idempotency key %s: a repeat, not published again",
                channel,
                idempotency_key,
            )
        return answer

    def _once_key(self, channel: str, idempotency_key: str) -> str:
        return self._key("once:%s:%s" % (channel, idempotency_key))

    async def _evaluate_once(self, script: AsyncScript, keys: list[str], args: list) -> list:
        """Send a publishing script to Redis once, and say what is known when no answer comes.

        Never sent again by the client by itself: redis-py sends a command again after a
        read timeout, and Redis, stalled, may run both (two messages, two offsets). Redis
        not reached before sending: BrokerUnavailable (not published). Sent, then no
        answer: OutcomeUnknown (published, or not: a retry with the same idempotency key
        publishes it at most once).
        """
        pool = self._redis.connection_pool
        try:
            connection = await pool.get_connection()
        except REDIS_ERRORS as exc:
            raise BrokerUnavailable(
                "could not reach Redis at %s to send the push: %s" % (shown_url(self.url), exc)
            ) from exc
        answered = False
        try:
            answer = await self._evalsha(connection, script, keys, args)
            answered = True
            return answer
        except REDIS_ERRORS as exc:
            unknown = OutcomeUnknown(
                "sent the push to Redis at %s and had no answer from Redis (%s): it may be "
                "delivered or not; send it again with the same idempotency key to have it "
                "delivered once" % (shown_url(self.url), exc)
            )
            log.warning("%s", unknown)
            raise unknown from exc
        finally:
            if not answered:  # its answer may still come: the connection is not reused
                await connection.disconnect(nowait=True)
            await pool.release(connection)

    @staticmethod
    async def _evalsha(connection, script: AsyncScript, keys: list[str], args: list) -> list:
        await connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            return await connection.read_response()
        except redis.exceptions.NoScriptError:  # Redis restarted: nothing ran; load it
            await connection.send_command("EVAL", script.script, len(keys), *keys, *args)
            return await connection.read_response()

    async def read_history(self, channel_id: str, after: int | None) -> Stored:
        """The channelId's position, and the messages its history holds after ``after``."""

        async def read() -> list:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hmget(self._key("stream:" + channel_id), "epoch", "last")
                if after is not None:
                    pipe.xrange(self._key("history:" + channel_id), min="%d-0" % (after + 1))
                return await pipe.execute()

        answers = await self._call("read the history", read())
        epoch, last = answers[0]
        if epoch is None:
            return Stored(None, 0, [])
        oldest = int((time.time() - self.hub.history.seconds) * 1000)
        entries = []
        for entry_id, fields in answers[1] if after is not None else ():
            offset, ms = _id(entry_id)
            if ms >= oldest:
                entries.append((offset, fields[b"d"]))
        return Stored(epoch.decode(), int(last), entries)

    def tick(self, now: float) -> None:
        """Redis trims each history at each push, and lets an idle one expire by itself."""

    def sockets_changed(self, channel_id: str, count: int) -> None:
        self._dirty.set()

    async def _read_bus(self, last: str) -> None:
        """Deliver every entry of the bus to this process's hub, from where it left off."""
        bus = self._key("bus")
        backoff = 0.1
        while not self._stopping:
            try:
                answer = await self._reader.xread({bus: last}, count=500, block=READ_BLOCK_MS)
                if self._lost_since is not None:
                    last = await self._regained(last)
                    backoff = 0.1
                    continue
            except REDIS_ERRORS as exc:
                if self._stopping:
                    return
                self._lost(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            except Exception:  # anything else is said, and the reading goes on
                log.exception("the bus reader failed; reading on in %g s", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            for _, entries in answer or ():
                for entry_id, fields in entries:
                    last = entry_id.decode()
                    self._dispatch_entry(last, fields)

    def _dispatch_entry(self, entry_id: str, fields: dict) -> None:
        """One entry to this process's hub; one it cannot read is logged and skipped.

        Every process reads every entry: an entry that stopped the reader (written by
        another version, by hand, or by a bug) would stop delivery in all of them at once.
        """
        try:
            self._dispatch(fields)
        except Exception as exc:
            log.error(
                "skipping bus entry %s, which this process cannot read or deliver (%s: %s): %s",
                entry_id,
                type(exc).__name__,
                exc,
                _shown_fields(fields),
            )

    def _dispatch(self, fields: dict) -> None:
        kind = fields[b"t"]
        channel = fields[b"c"].decode()
        channel_id = fields[b"i"].decode() or None
        if kind == b"push":
            kinds = fields[b"k"].decode()
            data = fields[b"d"]
            frames = [
                Frame(body, binary=kind_of == "b")
                for kind_of, body in zip(kinds, _split(data, fields[b"l"]), strict=True)
            ]
            if not frames or set(kinds) - {"t", "b"}:
                raise ValueError("frame kinds %r" % kinds)
            self.hub.deliver(channel, channel_id, frames)
        elif kind == b"messages":
            bodies = _split(fields[b"d"], fields[b"l"])
            targets = []
            for target in fields[b"p"].decode().split(","):
                target_id, epoch, first = target.split(" ")
                targets.append((target_id, epoch, int(first)))
            for target_id, epoch, first in targets:
                self.hub.deliver_messages(channel, target_id, epoch, first, bodies)
        elif kind == b"expire":
            closed = self.hub.close_channel_id(channel_id, *CLOSE_EXPIRED)
            log.info("expired id %s…: closed %d sockets here", channel_id[:6], closed)
        else:
            raise ValueError("unknown kind %r" % kind)

    def _lost(self, exc: Exception) -> None:
        if self._lost_since is None:
            self._lost_since = time.monotonic()
            log.warning(
                "lost Redis at %s (%s): pushes through this process fail until it is back; "
                "retrying",
                shown_url(self.url),
                exc,
            )

    async def _regained(self, last: str) -> str:
        """Back on Redis: say so, and what may not have reached this process's sockets."""
        away = time.monotonic() - self._lost_since
        self._lost_since = None
        log.warning("regained Redis at %s after %.1f s", shown_url(self.url), away)
        self._dirty.set()
        try:
            info = await self._reader.xinfo_stream(self._key("bus"))
        except redis.exceptions.ResponseError:  # no bus: Redis came back without its data
            info = None
        if info is None or _id(info["last-generated-id"]) < _id(last):
            if last != "0-0":
                log.error(
                    "Redis came back without the pushes it had: those published just before "
                    "it went away may not have reached this process's sockets "
                    "(keep Redis's data across restarts: appendonly yes)"
                )
            return "0-0"
        first = info.get("first-entry")
        if first is not None and _id(first[0]) > _id(last) and away > RETENTION:
            log.error(
                "away from Redis for %.0f s, longer than the bus keeps pushes (%.0f s): "
                "some pushes did not reach this process's sockets",
                away,
                RETENTION,
            )
        return last

    async def _last_entry(self) -> str:
        entries = await self._redis.xrevrange(self._key("bus"), count=1)
        return entries[0][0].decode() if entries else "0-0"

    # -- socket counts ----------------------------------------------------------------------

    async def _keep_counts(self) -> None:
        while not self._stopping:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that arrives as the event is set (a socket closing as the hub stops), and the
            # loop then never ended: serve.py --redis hung at SIGTERM with a socket open.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(REFRESH):
                    await self._dirty.wait()
            self._dirty.clear()
            if self._stopping:
                return
            with contextlib.suppress(*REDIS_ERRORS):  # the bus reader says when Redis is away
                await self._write_counts()

    async def _write_counts(self) -> None:
        counts = {cid: n for cid, n in self.hub.local_counts().items() if n}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._worker_key)
            pipe.hset(self._worker_key, mapping={"_": 1, **counts})
            pipe.expire(self._worker_key, WORKER_TTL)
            pipe.sadd(self._key("workers"), self.worker)
            await pipe.execute()

    async def _forget_worker(self) -> None:
        await self._redis.delete(self._worker_key)
        await self._redis.srem(self._key("workers"), self.worker)

    # -- inside ------------------------------------------------------------------------------

    @property
    def _worker_key(self) -> str:
        return self._key("worker:" + self.worker)

    def _key(self, name: str) -> str:
        return "%s:%s" % (self.prefix, name)

    def _min_id(self) -> str:
        return "%d-0" % int((time.time() - RETENTION) * 1000)

    async def _call(self, what: str, awaitable):
        try:
            return await awaitable
        except REDIS_ERRORS as exc:
            raise BrokerUnavailable(
                "could not reach Redis at %s to %s: %s" % (shown_url(self.url), what, exc)
            ) from exc
