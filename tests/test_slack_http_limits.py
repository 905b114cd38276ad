"""Issue 14 item 6: the Slack HTTP endpoint bounds what one client can cost (real sockets).

An oversize body is refused with 413 before it is read (the answer arrives while the client
is still sending), idle connections are closed after the idle timeout and do not keep others
out, a slow body gets 408, and what Slack never sends (a malformed timestamp, a non-UTF-8
body) gets 400 instead of a 500 with a traceback.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from app import build_bot
from bot.clock import SimulatedClock
from handlers.http_server import HttpLimits, WorkerPool
from handlers.slack.runner import SlackConfig, SlackRuntime
from tests.helpers import make_settings, wait_for
from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble, SlackUser

LIMITS = HttpLimits(max_body=1024 * 1024, idle_timeout=0.5, read_timeout=1.0, workers=4)


@pytest.fixture
def served(sqlite_url: str, clock: SimulatedClock) -> Iterator[tuple[str, SlackDouble]]:
    with SlackDouble() as slack:
        bot = build_bot(make_settings(sqlite_url), clock)
        config = SlackConfig(
            bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
        )
        runtime = SlackRuntime(bot, config, pace=0.05, flush_interval=0.1, http_limits=LIMITS)
        url = runtime.start_http("127.0.0.1", 0)
        yield url, slack
        runtime.stop()
        bot.engine.dispose()


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10)
    return sock


def _head(path: str, *lines: str) -> bytes:
    return ("\r\n".join([f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *lines]) + "\r\n\r\n").encode()


def _status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_a_correctly_signed_request_is_served(served: tuple[str, SlackDouble]) -> None:
    url, slack = served
    assert sr.post_signed(url, sr.slash_command("hilfe")).status == 200
    assert wait_for(lambda: slack.ephemerals("U0ANNA"))


def test_a_declared_oversize_body_gets_413_before_the_client_has_sent_it(
    served: tuple[str, SlackDouble],
) -> None:
    url, _ = served
    with _connect(url) as sock:
        sock.sendall(
            _head(
                urlsplit(url).path,
                "Content-Type: application/json",
                f"Content-Length: {300 * 1024 * 1024}",
                "X-Slack-Request-Timestamp: 1700000000",
            )
        )
        sock.sendall(b"x" * 65536)  # 64 KB of 300 MB: the server must answer now
        assert _status(sock) == 413


def test_a_chunked_body_is_cut_off_at_the_limit(served: tuple[str, SlackDouble]) -> None:
    url, _ = served
    chunk = b"%x\r\n%s\r\n" % (65536, b"y" * 65536)
    sent = 0
    with _connect(url) as sock:
        sock.sendall(
            _head(
                urlsplit(url).path, "Content-Type: application/json", "Transfer-Encoding: chunked"
            )
        )
        # Stream until the server answers; it must do so after about 1 MB, not at the end.
        while sent < 64 * 1024 * 1024:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            sock.sendall(chunk)
            sent += len(chunk)
        assert _status(sock) == 413
    # What was sent before the answer: the limit plus what the kernel buffers hold, far
    # below the 64 MB the client was ready to send.
    assert sent < 32 * 1024 * 1024


def test_a_slow_body_gets_408(served: tuple[str, SlackDouble]) -> None:
    url, _ = served
    with _connect(url) as sock:
        sock.sendall(_head(urlsplit(url).path, "Content-Length: 100"))
        sock.sendall(b"{")  # and then nothing
        assert _status(sock) == 408


def test_idle_connections_do_not_keep_others_out_and_are_closed(
    served: tuple[str, SlackDouble],
) -> None:
    url, _ = served
    with ExitStack() as stack:
        idle = [stack.enter_context(_connect(url)) for _ in range(100)]
        for sock in idle[:10]:  # some send half a request line and stop (slowloris)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x")
        assert sr.post_signed(url, sr.slash_command("hilfe")).status == 200
        for sock in idle:  # recv returns b"" when the server has closed the connection
            assert sock.recv(1024) == b""


@pytest.mark.parametrize("timestamp", ["abc", "1.5", " ", "17²"])
def test_a_malformed_timestamp_gets_400(served: tuple[str, SlackDouble], timestamp: str) -> None:
    url, _ = served
    request = sr.slash_command("hilfe")
    headers = {**request.headers, "X-Slack-Request-Timestamp": timestamp}
    response = sr.post(url, request.body, headers)
    assert response.status == 400
    assert b"Traceback" not in response.body


def test_a_body_that_is_not_utf8_gets_400(served: tuple[str, SlackDouble]) -> None:
    url, _ = served
    body = b"text=hilfe%20\xff\xfe&user_id=U0ANNA"
    timestamp = str(int(time.time()))  # signed over the raw bytes, as Slack's scheme says
    digest = hmac.new(
        sr.SIGNING_SECRET.encode(), b"v0:%s:%s" % (timestamp.encode(), body), "sha256"
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }
    response = sr.post(url, body, headers)
    assert response.status == 400
    assert b"UTF-8" in response.body


def test_debug_logging_leaves_no_names_or_e_mails(
    served: tuple[str, SlackDouble], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 14 item 8: at DEBUG slack_sdk and bolt logged whole request/response bodies."""
    url, slack = served
    slack.add_user(SlackUser(id="U0ANNA", real_name="Hildegard Zwiebelmeier", display_name="hz"))
    caplog.set_level(logging.DEBUG)
    command = sr.slash_command("hilfe hildegard.zwiebelmeier@example.org", user_name="hildegard")
    assert sr.post_signed(url, command).status == 200
    assert wait_for(lambda: slack.ephemerals("U0ANNA"))
    assert caplog.records  # DEBUG really was on: our own lines (ids and sizes) are there
    assert "zwiebelmeier" not in caplog.text.lower()
    assert "Stadtlabor-Bot" not in caplog.text  # the answer's text (the help) is not logged


async def test_the_worker_pool_refuses_work_beyond_its_queue_with_503() -> None:
    pool = WorkerPool(HttpLimits(workers=1, max_pending=2))
    release = threading.Event()
    try:
        busy = [asyncio.ensure_future(pool.run(release.wait)) for _ in range(2)]
        await asyncio.sleep(0)  # both are taken: one runs, one waits for the thread
        with pytest.raises(web.HTTPServiceUnavailable):
            await pool.run(lambda: True)
        release.set()
        assert await asyncio.gather(*busy) == [True, True]
        assert await pool.run(lambda: True)  # room again once they are done
    finally:
        release.set()
        pool.shutdown()
