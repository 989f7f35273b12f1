"""serve.py --workers N over a real redis-server, as processes: the supervisor keeps N
workers whatever happens to Redis, stops them all at SIGTERM, and keeps secrets off their
command lines. Real clients in a browser across a killed worker: tests/browser/test_workers.py.
"""

import os
import re
import signal
import time
import urllib.error
from pathlib import Path

import pytest
import redis

from pypush_server.cli import parse_serve_args
from pypush_server.testing.processes import descendants
from tests.support import PushServer, RedisServer, wait_until

API_TOKEN = "token-f3c1a9e07b"
REDIS_PASSWORD = "password-5d2e8b61c4"


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def workers_of(supervisor: int) -> dict[int, bytes]:
    """The supervisor's workers that run (not yet reaped zombies): pid -> command line."""
    return {pid: cmdline for pid, cmdline in descendants(supervisor) if running(pid)}


def running(pid: int) -> bool:
    try:
        state = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_worker_that_cannot_be_replaced_is_retried_until_it_can_and_sigterm_stops_all(
    redis_server, start_push_server
):
    server = start_push_server("--no-demo-clock", "--redis", redis_server.url, "--workers", "2")
    supervisor = server.process
    first = wait_until(lambda: len(w := workers_of(supervisor.pid)) == 2 and w, 10, "2 workers")
    victim, survivor = sorted(first)
    redis_server.stop()
    os.kill(victim, signal.SIGKILL)
    wait_until(
        lambda: len(re.findall(r"trying again in", server.log_path.read_text())) >= 2,
        30,
        "the supervisor retrying the worker",
    )
    assert supervisor.poll() is None, server.log_path.read_text()  # still there, retrying
    assert running(survivor)
    redis_server.start()  # the next try succeeds
    started = wait_until(
        lambda: (
            len(s := re.findall(r"worker \d is pid (\d+)", server.log_path.read_text())) == 3 and s
        ),
        30,
        "the worker replaced",
    )
    replaced = workers_of(supervisor.pid)
    assert set(replaced) == {survivor, int(started[-1])}
    channel = server.channel()
    assert channel.push("after") == 0  # the API answers (through either worker)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(20) == 0
    wait_until(lambda: not any(running(pid) for pid in replaced), 5, "every worker gone")
    log = server.log_path.read_text()
    assert re.search(r"worker \d \(pid %d\) exited with -9; starting another" % victim, log)
    assert "could not start" in log


def test_sigterm_while_a_worker_is_being_retried_stops_every_worker(
    redis_server, start_push_server
):
    server = start_push_server("--no-demo-clock", "--redis", redis_server.url, "--workers", "2")
    supervisor = server.process
    workers = wait_until(lambda: len(w := workers_of(supervisor.pid)) == 2 and w, 10, "2 workers")
    redis_server.stop()
    os.kill(min(workers), signal.SIGKILL)
    wait_until(lambda: "trying again in" in server.log_path.read_text(), 30, "a retry")
    began = time.monotonic()
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(20) == 0
    assert time.monotonic() - began < 15
    wait_until(lambda: not any(running(pid) for pid in workers), 5, "every worker gone")


def test_secrets_stay_off_the_workers_command_lines_and_the_workers_use_them(
    redis_server, start_push_server
):
    """A process's command line is readable by every local user (ps); its environment only
    by its owner: the supervisor hands the workers the API token and the Redis URL there."""
    client = redis.Redis.from_url(redis_server.url)
    client.config_set("requirepass", REDIS_PASSWORD)
    client.close()
    url = "redis://:%s@127.0.0.1:%d/0" % (REDIS_PASSWORD, redis_server.port)
    server = start_push_server(
        "--no-demo-clock", "--redis", url, "--api-token", API_TOKEN, "--workers", "2"
    )
    workers = wait_until(
        lambda: len(w := workers_of(server.process.pid)) == 2 and w, 10, "2 workers"
    )
    for pid in workers:
        cmdline = Path("/proc/%d/cmdline" % pid).read_bytes()
        assert b"--worker" in cmdline
        assert API_TOKEN.encode() not in cmdline, cmdline
        assert REDIS_PASSWORD.encode() not in cmdline, cmdline
    with pytest.raises(urllib.error.HTTPError) as refused:  # the workers enforce the token
        server.post("/api/channels", {"channel": "news"})
    assert refused.value.code == 401
    with_token = PushServer(server.base_url, token=API_TOKEN)
    for _ in range(6):  # through both workers, as the kernel hands connections out
        channel = with_token.channel()  # registered in Redis, with its password
        assert channel.push("hello") == 0
    counted = redis.Redis.from_url(url)
    try:
        assert len(counted.smembers("pypush:workers")) == 2  # both on Redis
    finally:
        counted.close()


def test_options_are_given_in_full_so_the_supervisor_can_keep_secrets_off_command_lines():
    """The supervisor leaves --api-token and --redis off the workers' command lines by their
    names: an abbreviation (which argparse would take) would slip through."""
    for argv in (["--api-tok", "secret"], ["--redi", "redis://:secret@127.0.0.1/0"]):
        with pytest.raises(SystemExit):
            parse_serve_args(argv)
    args, _ = parse_serve_args(["--api-token=secret", "--redis", "redis://:pw@h/0"])
    assert (args.api_token, args.redis) == ("secret", "redis://:pw@h/0")
