"""Benchmark: 500 meeting invitations by e-mail (20 participants × 25 cohorts) to a local SMTP
server (aiosmtpd), paced per recipient domain; wall time against the pacing floor.

Run:  .venv/bin/python bench/bench_email.py [--cohorts 25] [--people 20] [--domains 10]
      [--per-minute 30] [--injected 10] [--lanes 2]

Each mail is a real invitation (bot.services.itip, text + HTML + text/calendar part) sent by
``handlers.email.EmailMessenger``. A small loop stands in for the outbox (the wiring comes with
the outbox restructuring): ``--lanes`` threads take due mails; ``RateLimited`` reschedules a
mail at ``now + retry_after`` (the outbox does the same, it never sleeps in a send); a 4xx
(``--injected`` answers of 451, spread over the run) retries after 1 s. The participants'
addresses spread over ``--domains`` municipal domains; the floor is what the pacing alone
allows: a domain with n mails needs ⌊(n−1)/per_minute⌋ full minutes. The baseline is the same
500 mails without pacing (``per_minute`` 100000) in the same run. Prints the figures, writes
bench/results/email.json; exits 1 if a mail was lost or duplicated.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not a package; make bot/ and handlers/ importable

from bot.delivery_errors import TransientDeliveryError  # noqa: E402
from bot.identity import Identity  # noqa: E402
from bot.mail_address import mailbox  # noqa: E402
from bot.outbox.pacing import RateLimited  # noqa: E402
from bot.services.itip import MeetingInvite, invitation  # noqa: E402
from bot.smtp import parse_smtp_url  # noqa: E402
from bot.views import Header, Message, Section  # noqa: E402
from handlers.email import EmailMessenger  # noqa: E402
from tests.support.smtp import smtp_server  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "email.json"
BERLIN = ZoneInfo("Europe/Berlin")
SENDER = mailbox("Stadtlabor <stadtlabor@example.org>")


def mails(cohorts: int, people: int, domains: int) -> list[tuple[Identity, bytes, str]]:
    """(recipient, invitation .ics, outbox key) for every participant of every cohort."""
    start = datetime(2027, 3, 27, 10, 0, tzinfo=BERLIN)
    now = datetime.now(UTC)
    out = []
    for c in range(cohorts):
        meeting = MeetingInvite(
            c + 1,
            f"Auftakt {c + 1}",
            start,
            start + timedelta(days=1, hours=6),
            "Rathaus",
            "Hamburg",
        )
        for p in range(people):
            n = c * people + p
            address = f"person{n}@kommune{n % domains}.de"
            ics = invitation(
                meeting, sequence=0, organizer=SENDER, attendee=address, tz=BERLIN, now=now
            )
            out.append((Identity("email", address), ics, f"invite:{c}:{p}:0"))
    return out


def run(
    work: list[tuple[Identity, bytes, str]], per_minute: int, injected: int, lanes: int
) -> dict[str, Any]:
    body = Message((Header("Einladung: Auftakt"), Section(("Sa, 27.03.2027, 10:00",))), "x")
    with smtp_server() as server:
        messenger = EmailMessenger(parse_smtp_url(server.url), SENDER, per_minute=per_minute)
        queue: list[tuple[float, int]] = [(0.0, i) for i in range(len(work))]
        heapq.heapify(queue)
        lock = threading.Lock()
        done = Counter[str]()
        gap = max(len(work) // max(injected, 1), 1)
        t0 = time.monotonic()

        def lane() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    due, index = queue[0]
                    wait = due - (time.monotonic() - t0)
                    if wait <= 0:
                        heapq.heappop(queue)
                if wait > 0:
                    time.sleep(min(wait, 0.05))
                    continue
                user, ics, key = work[index]
                if injected and index % gap == 0 and done["injected"] < injected:
                    with lock:
                        done["injected"] += 1
                    server.fail_next(1, 451)
                try:
                    messenger.send_file(user, "einladung.ics", ics, body, key=key)
                    with lock:
                        done["sent"] += 1
                except RateLimited as exc:
                    with lock:
                        done["rescheduled"] += 1
                        elapsed = time.monotonic() - t0
                        heapq.heappush(queue, (elapsed + exc.retry_after, index))
                except TransientDeliveryError:
                    with lock:
                        done["retried"] += 1
                        heapq.heappush(queue, (time.monotonic() - t0 + 1.0, index))

        threads = [threading.Thread(target=lane) for _ in range(lanes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - t0
        messenger.close()
        ids = Counter(str(m["Message-ID"]) for m in server.mails())
    return {
        "elapsed_s": round(elapsed, 2),
        "received": sum(ids.values()),
        "distinct": len(ids),
        "lost": len(work) - len(ids),  # one Message-ID per key: distinct ids = distinct mails
        "duplicated": sum(n - 1 for n in ids.values() if n > 1),
        "rescheduled": done["rescheduled"],
        "retried_4xx": done["retried"],
        "connections": messenger.connections_opened,
        "mails_per_s": round(sum(ids.values()) / elapsed, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cohorts", type=int, default=25)
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--domains", type=int, default=10)
    parser.add_argument("--per-minute", type=int, default=30)
    parser.add_argument("--injected", type=int, default=10)
    parser.add_argument("--lanes", type=int, default=2)
    args = parser.parse_args()
    work = mails(args.cohorts, args.people, args.domains)
    per_domain = Counter(user.external_id.rpartition("@")[2] for user, _, _ in work)
    floor = max((n - 1) // args.per_minute for n in per_domain.values()) * 60.0
    baseline = run(work, 100_000, 0, args.lanes)
    paced = run(work, args.per_minute, args.injected, args.lanes)
    ratio = paced["elapsed_s"] / floor if floor else None
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": datetime.now(UTC).date().isoformat(),
        "mails": len(work),
        "domains": len(per_domain),
        "per_minute": args.per_minute,
        "floor_s": floor,
        "baseline_unpaced": baseline,
        "paced": paced,
        "ratio_to_floor": round(ratio, 3) if ratio else None,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    ok = all(r["lost"] == 0 and r["duplicated"] == 0 for r in (baseline, paced))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
