"""Idle RSS of the whole bot process vs the bare stack (bolt + APScheduler + SQLAlchemy +
dateparser), each started as its own process, measured side by side in one run.

Usage: .venv/bin/python bench/bench_idle.py   (writes bench/results/idle.json)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import slack_requests as sr  # noqa: E402
from tests.support.slack_double import SlackDouble  # noqa: E402

BARE = """
import time, slack_bolt, sqlalchemy, dateparser
from apscheduler.schedulers.background import BackgroundScheduler
engine = sqlalchemy.create_engine("sqlite:///:memory:")
with engine.connect() as c: c.exec_driver_sql("select 1")
dateparser.parse("morgen", languages=["de"])
s = BackgroundScheduler(); s.start()
print("ready", flush=True)
time.sleep(60)
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bare() -> float:
    proc = subprocess.Popen([sys.executable, "-c", BARE], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    time.sleep(2)
    value = rss_mb(proc.pid)
    proc.kill()
    proc.wait()
    return value


def bot(slack: SlackDouble, tmp: str) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MATRIX_"))}
    env.update(
        {
            "STADTLABOR_DATABASE_URL": f"sqlite:///{tmp}/idle.db",
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
            "SLACK_API_URL": slack.base_url,
            "STADTLABOR_ORGANIZERS": "slack:U0ORGA",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "run", "--slack-http", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/slack/events"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    # one real command, so that the parser, dateparser and the templates are loaded
    sr.post_signed(url, sr.slash_command("hilfe", user_id="U0ORGA"))
    sr.post_signed(
        url, sr.slash_command('jahrgang anlegen "Idle" anmeldeschluss="morgen"', user_id="U0ORGA")
    )
    time.sleep(3)
    value = rss_mb(proc.pid)
    proc.terminate()
    proc.wait(timeout=20)
    return value


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, SlackDouble() as slack:
        bare_mb = bare()
        bot_mb = bot(slack, tmp)
    result = {
        "bare_stack_rss_mb": round(bare_mb, 1),
        "bot_idle_rss_mb": round(bot_mb, 1),
        "ratio": round(bot_mb / bare_mb, 2),
        "goal_mb": 100,
    }
    print(f"{'process':<34}{'RSS MB':>8}")
    print(f"{'bare stack (bolt+APS+SA+dateparser)':<34}{bare_mb:>8.1f}")
    print(f"{'stadtlabor run --slack-http (idle)':<34}{bot_mb:>8.1f}")
    print(f"ratio bot/bare: {bot_mb / bare_mb:.2f}  (goal: bot < 100 MB)")
    out = ROOT / "bench" / "results" / "idle.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
