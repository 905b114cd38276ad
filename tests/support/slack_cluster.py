"""Several real ``stadtlabor run --slack-http`` processes and a round-robin "load balancer".

Each :class:`Instance` is a subprocess running ``app.main`` with ``run --slack-http`` on its
own port, logging to a file (level INFO, so the reminder engine's leadership line is visible).
:class:`Balancer` sends signed requests round robin; a request that fails at the HTTP level
(refused, reset: the instance is dead) is re-sent to the next instance, as a load balancer
with retries would do.
"""

from __future__ import annotations

import http.client
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble, SlackUser

ROOT = Path(__file__).resolve().parents[2]
LEADER_LINE = "reminder engine: this instance schedules"
EVENTS_PATH = "/slack/events"
_MAIN = "from app import main; raise SystemExit(main())"


def wait_for(check: Callable[[], Any], timeout: float, what: str, poll: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def text_of(payload: Any) -> str:
    """Every string inside a message/view payload, joined (good enough for ``in`` checks)."""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        return "\n".join(text_of(v) for v in payload.values())
    if isinstance(payload, list):
        return "\n".join(text_of(v) for v in payload)
    return ""


def heard(slack: SlackDouble, user: SlackUser, needle: str) -> list[str]:
    """The ephemeral messages ``user`` got that contain ``needle``."""
    return [t for e in slack.ephemerals(user.id) if needle in (t := text_of(e))]


def posted(slack: SlackDouble, needle: str) -> list[str]:
    """The successful chat.postMessage calls that contain ``needle`` (one entry per call)."""
    calls = slack.calls("chat.postMessage")
    return [t for c in calls if c.ok and needle in (t := text_of(c.args))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def leads(self) -> int:
        """How often this instance logged that it became the scheduler leader."""
        return self.log_text().count(LEADER_LINE)

    def kill(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def start_instance(name: str, folder: Path, env: dict[str, str]) -> Instance:
    port = _free_port()
    log = folder / f"instance-{name}.log"
    command = [sys.executable, "-c", _MAIN, "run", "--slack-http"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MATRIX_", "STADTLABOR_"))
    }
    with log.open("wb") as out:  # cwd: a folder without a .env file
        proc = subprocess.Popen(
            command,
            cwd=folder,
            env={**base, "PYTHONPATH": str(ROOT), "STADTLABOR_LOG_LEVEL": "INFO", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Instance(name, f"http://127.0.0.1:{port}{EVENTS_PATH}", proc, log)


def wait_ready(instance: Instance, timeout: float = 45.0) -> None:
    """Until the instance answers a signed url_verification (bolt is serving)."""

    def answers() -> bool:
        assert instance.alive, f"instance {instance.name} exited:\n{instance.log_text()[-3000:]}"
        try:
            response = sr.post_signed(instance.url, sr.url_verification("ready"), timeout=2)
        except (OSError, http.client.HTTPException):
            return False
        return response.status == 200

    wait_for(answers, timeout, f"instance {instance.name} answers", poll=0.2)


@dataclass
class Balancer:
    """Round robin over ``instances``; dead instances are skipped after a failed attempt."""

    instances: list[Instance]
    rerouted: int = 0
    served: dict[str, int] = field(default_factory=dict)
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, request: sr.SignedRequest, to: int | None = None) -> tuple[sr.Response, str]:
        """POST ``request`` to instance ``to`` (else the next in turn); on a connection failure
        to the next one. Returns the response and the name of the instance that answered."""
        with self._lock:
            first = next(self._turn) if to is None else to
        count = len(self.instances)
        for step in range(count):
            instance = self.instances[(first + step) % count]
            try:
                response = sr.post_signed(instance.url, request, timeout=15)
            except (OSError, http.client.HTTPException):
                with self._lock:
                    self.rerouted += 1
                continue
            assert response.status == 200, f"{instance.name}: {response.status} {response.text}"
            with self._lock:
                self.served[instance.name] = self.served.get(instance.name, 0) + 1
            return response, instance.name
        raise AssertionError("no instance answered")

    def stop(self) -> None:
        for instance in self.instances:
            if instance.alive:
                instance.kill()
