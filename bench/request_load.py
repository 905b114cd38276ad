"""The load generator of bench/bench_request.py: ``wrk`` in its own process, identical for both
sides. Requests are signed here (Slack's HMAC, fresh timestamps) and written to a file that a
Lua script replays; every request opens a new connection (the WSGI server speaks HTTP/1.0).

Request ``i`` is a click of voter ``i % voters`` on option ``(i // voters) % 4 + 1``, so every
click of a voter changes their vote (the bot really writes); ``start`` continues where the
previous run stopped. The bare side gets the very same bytes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.actions import VoteAction, encode  # noqa: E402
from tests.support import slack_requests as sr  # noqa: E402

CHANNEL = "C0BENCH"
OPTIONS = 4

LUA = r"""
local reqs, n, stride, start = {}, 0, 1, 0
local threads, counter = {}, 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  stride = tonumber(args[2]); start = tonumber(args[3])
  for line in io.lines(args[1]) do
    local ts, sig, body = line:match("^(%d+)\t([^\t]+)\t(.*)$")
    n = n + 1
    reqs[n] = wrk.format("POST", wrk.path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Slack-Request-Timestamp"] = ts,
      ["X-Slack-Signature"] = sig,
    }, body)
  end
  nxt = start + id
  top = -1
end
function request()
  local i = nxt
  nxt = nxt + stride
  if i > top then top = i end
  return reqs[(i % n) + 1]
end
function done(summary, latency, requests)
  local top = -1
  for _, t in ipairs(threads) do
    local v = t:get("top")
    if v and v > top then top = v end
  end
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "top": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.timeout, e.status, top))
end
"""

# The same summary for plain GETs (a page with its session cookie): wrk's own requests.
LUA_GET = LUA[LUA.index("function done") :].replace(
    """  local top = -1
  for _, t in ipairs(threads) do
    local v = t:get("top")
    if v and v > top then top = v end
  end
""",
    "  local top = -1\n",
)


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    errors: int
    next_start: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "requests": self.requests,
            "errors": self.errors,
        }


def voter(i: int) -> str:
    return f"U{i:07d}"


def handle(i: int) -> str:
    """The voter's Slack username, as the bench registered it (a click changes nothing)."""
    return f"voter{i}"


ACTION_ID = "act:vote:0"  # as handlers/slack/render.py names a poll's first vote button


def write_requests(path: Path, voters: int, start: int, count: int, poll: int = 1) -> None:
    """Clicks on the poll's vote buttons (``poll``: the poll's id), as Slack sends them."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(start, start + count):
            option = (i // voters) % OPTIONS + 1
            req = sr.block_actions(
                ACTION_ID,
                encode(VoteAction(poll, (option,), "replace")),
                user_id=voter(i % voters),
                user_name=handle(i % voters),
                channel_id=CHANNEL,
                message_ts="1.000001",
            )
            ts = req.headers["X-Slack-Request-Timestamp"]
            sig = req.headers["X-Slack-Signature"]
            out.write(f"{ts}\t{sig}\t{req.body.decode('ascii')}\n")


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("bench_request needs wrk: apt-get install -y wrk")
    return found


def drive(url: str, *, concurrency: int, seconds: float, voters: int, start: int, pool: int) -> Run:
    """``wrk`` for ``seconds`` at ``concurrency`` connections; requests from index ``start``
    (``pool`` of them are signed; beyond that the file is replayed from its beginning)."""
    threads = min(2, concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        reqs, script = Path(tmp) / "reqs.tsv", Path(tmp) / "clicks.lua"
        write_requests(reqs, voters, start, pool)
        script.write_text(LUA, encoding="utf-8")
        parts = urlsplit(url)
        cmd = [
            wrk_path(),
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{round(seconds)}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"{parts.scheme}://{parts.netloc}{parts.path}",
            "--",
            str(reqs),
            str(threads),
            "0",
        ]
        data = _run_wrk(cmd)
    seconds_run = data["duration_us"] / 1e6
    top = start + int(data["top"]) if data["top"] >= 0 else start + data["requests"]
    return Run(
        rps=data["requests"] / seconds_run,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        requests=int(data["requests"]),
        errors=int(data["errors"]) + int(data["non_2xx"]),
        next_start=-(-(top + 1) // voters) * voters,  # the next full round of voters
    )


def _run_wrk(cmd: list[str]) -> dict[str, int]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    line = next((x for x in done.stdout.splitlines() if x.startswith("JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    data: dict[str, int] = json.loads(line[5:])
    return data


def drive_get(url: str, *, headers: dict[str, str], concurrency: int, seconds: float) -> Run:
    """``wrk`` GETting ``url`` for ``seconds`` at ``concurrency`` keep-alive connections, in
    its own process (the load generator must not share the server's interpreter)."""
    threads = min(2, concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "get.lua"
        script.write_text(LUA_GET, encoding="utf-8")
        cmd = [wrk_path(), f"-t{threads}", f"-c{concurrency}", f"-d{round(seconds)}s"]
        cmd += ["--timeout", "30s", "-s", str(script)]
        for name, value in headers.items():
            cmd += ["-H", f"{name}: {value}"]
        data = _run_wrk([*cmd, url])
    return Run(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        requests=int(data["requests"]),
        errors=int(data["errors"]) + int(data["non_2xx"]),
        next_start=0,
    )
