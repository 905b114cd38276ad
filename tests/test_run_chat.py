"""`stadtlabor run` as an operator starts it: Slack over HTTP against the local Slack double."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble, SlackUser

ROOT = Path(__file__).resolve().parents[1]


def _clean_env() -> dict[str, str]:
    """This process's environment without any bot, Slack or Matrix setting."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STADTLABOR_", "SLACK_", "MATRIX_"))
    }


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
        env = _clean_env()
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


def test_web_pages_and_slack_events_share_one_port(tmp_path: Path) -> None:
    """With the web pages on (`--web-port`), `stadtlabor run --slack-http` serves the pages,
    /healthz and Slack's /slack/events on that one port (issue 17, item 1); the Slack port
    given with --port stays closed."""
    web_port, slack_port = _free_port(), _free_port()
    with SlackDouble(users=[SlackUser(id="U0ANNA", real_name="Anna Schmidt")]) as slack:
        env = _clean_env()
        env.update(
            {
                "STADTLABOR_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
                "STADTLABOR_ORGANIZERS": "slack:U0ORGA",
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
                "SLACK_API_URL": slack.base_url,
            }
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "app.py"),
                "run",
                "--slack-http",
                "--port",
                str(slack_port),
                "--web-port",
                str(web_port),
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for_port(web_port, proc)
            base = f"http://127.0.0.1:{web_port}"
            response = sr.post_signed(
                f"{base}/slack/events", sr.slash_command("hilfe", user_id="U0ANNA")
            )
            assert response.status == 200
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not slack.ephemerals("U0ANNA"):
                time.sleep(0.05)
            assert "was Sie tun können" in str(slack.ephemerals("U0ANNA"))
            with urllib.request.urlopen(f"{base}/healthz", timeout=10) as health:
                assert health.status == 200
            with pytest.raises(urllib.error.HTTPError) as page:  # the pages: log in first
                urllib.request.urlopen(f"{base}/jahrgang", timeout=10)
            assert page.value.code == 401
            assert "dashboard" in page.value.read().decode("utf-8")
            forged = sr.post_signed(f"{base}/slack/events", sr.slash_command("hilfe", forge=True))
            assert forged.status == 401
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", slack_port)) != 0, "a second server listens"
        finally:
            proc.terminate()
            _out, err = proc.communicate(timeout=20)
        assert f"Webseite: http://127.0.0.1:{web_port}/" in err
