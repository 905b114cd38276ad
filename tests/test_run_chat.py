"""`stadtlabor run` as an operator starts it: Slack over HTTP against the local Slack double."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble, SlackUser

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"bot exited early: {proc.communicate()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("bot did not listen in time")


def test_run_starts_slack_http_and_answers_a_signed_command(tmp_path: Path) -> None:
    port = _free_port()
    with SlackDouble(users=[SlackUser(id="U0ANNA", real_name="Anna Schmidt")]) as slack:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("STADTLABOR_", "SLACK_", "MATRIX_"))
        }
        env.update(
            {
                "STADTLABOR_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
                "SLACK_API_URL": slack.base_url,
            }
        )
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "run", "--slack-http", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for_port(port, proc)
            url = f"http://127.0.0.1:{port}/slack/events"
            response = sr.post_signed(url, sr.slash_command("hilfe", user_id="U0ANNA"))
            assert response.status == 200
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not slack.ephemerals("U0ANNA"):
                time.sleep(0.05)
            texts = str(slack.ephemerals("U0ANNA"))
            assert "was Sie tun können" in texts
            forged = sr.post_signed(url, sr.slash_command("hilfe", forge=True))
            assert forged.status == 401
        finally:
            proc.terminate()
            _out, err = proc.communicate(timeout=20)
        assert "no organisers are configured" in err  # Slack start-up warns
