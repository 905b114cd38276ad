"""``stadtlabor console --web-port 0``: the console prints where the pages are, ``dashboard``
prints the DM with the link, and the link logs in on the running server (a real process)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/anmelden/[A-Za-z0-9_-]+)")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _read_until(stream: object, pattern: re.Pattern[str], limit: int = 200) -> str:
    seen = []
    for _ in range(limit):
        line = stream.readline()  # type: ignore[attr-defined]
        if not line:
            break
        seen.append(line)
        found = pattern.search(line)
        if found:
            return found.group(1)
    raise AssertionError("not found in:\n" + "".join(seen))


def test_the_console_serves_the_pages_and_prints_the_login_link(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STADTLABOR_", "SLACK_"))}
    env.update(
        STADTLABOR_DATABASE_URL=f"sqlite:///{tmp_path}/console.db",
        STADTLABOR_ORGANIZERS="console:orga",
        PYTHONPATH=str(ROOT),
    )
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "console", "--web-port", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdin and process.stdout and process.stderr
    try:
        base = _read_until(process.stderr, re.compile(r"Webseite: (http://127\.0\.0\.1:\d+)/"))
        process.stdin.write("dashboard\n")
        process.stdin.flush()
        link = _read_until(process.stdout, LINK)
        assert link.startswith(base + "/anmelden/")
        with urllib.request.urlopen(link, timeout=10) as shown:
            page = shown.read().decode()
        token = re.findall(r'name="token" value="([^"]+)"', page)[0]
        opener = urllib.request.build_opener(_NoRedirect)
        body = urllib.parse.urlencode({"token": token}).encode()
        try:
            opener.open(base + "/anmelden", data=body, timeout=10)
            raise AssertionError("expected a redirect")
        except urllib.error.HTTPError as answer:
            assert answer.code == 303 and answer.headers["Location"] == "/"
            assert "HttpOnly" in answer.headers["Set-Cookie"]
        with urllib.request.urlopen(base + "/healthz", timeout=10) as health:
            assert b'"database": true' in health.read()
    finally:
        process.stdin.close()
        assert process.wait(timeout=30) == 0
        process.stdout.close()
        process.stderr.close()
