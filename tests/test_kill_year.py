"""Crash safety over a whole scripted cohort year (issue 11): the console bot runs
docs/demo/jahr.txt on a SQLite file and is killed with SIGKILL at a seeded point; it is restarted
and the script resumes where the acknowledged output ends, as a user would go on: a command whose
answer was printed is done, the one whose answer was not printed is typed again (``!clock`` lines
with absolute times are simply repeated). The end state must equal an uninterrupted run's: no
registration, vote, feedback answer, reminder or other record lost or doubled, and every outbox
row delivered exactly once, unless the outbox marked it ``uncertain``.

The kill point is the n-th database operation of the run (before a statement, or right after a
commit), n drawn from the seed: reproducible, and it lands in every phase (command transactions,
the window between a commit and its printed answer, outbox claims and sends, due work). The
process kills itself with SIGKILL there: no cleanup, no flush, as ``kill -9`` from outside.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "demo" / "jahr.txt"
# After the last line: time passes, so a send interrupted at the very end runs out its lease.
TAIL = ["!clock 2031-04-20T09:00"]
SEEDS = [11, 23, 37, 41, 53, 67, 71, 83, 97, 101]
# Columns that legitimately differ between runs (delivery bookkeeping, console message ids).
VOLATILE = {
    "outbox": {"status", "attempts", "not_before", "lease_until", "sent_at", "result", "error"},
    "posted_messages": {"message_id", "thread_id"},
}
# Random by design: pseudonyms of erased persons, reminder keys, shuffled anonymous answers.
RANDOM = [
    (re.compile(r"Person-[0-9a-f]{8}"), "Person-…"),
    (re.compile(r"[0-9a-f]{32}"), "…"),
    (re.compile(r'\\?"slot\\?": \d+'), "slot"),
    # Console message numbers: a number taken just before a kill is not printed, not reused.
    (re.compile(r'"(message_id|thread_id)": "\d+"'), r'"\1": …'),
]
# Live poll results are coalesced: a vote adds a refresh row only when none is pending, so
# which intermediate versions exist depends on timing; the closing update is kept.
INTERMEDIATE = re.compile(r"^poll-(?:update|refresh):.*:\d+$")
# The organisers' digest of uncertain sends exists only in runs that had one (checked apart).
SKIPPED_TABLES = {"alembic_version", "bot_state", "channel_pacing", "reminder_digest"}
DIGEST = ("reminders-digest:", "digest:")
THREAD = re.compile(r', "thread_id": [^,}]*')  # after "channel_id" in outbox targets
SENT = re.compile(r"^«sent (.+)»$", re.M)
# Rows deleted on purpose once sent (issue 14), printed once but no longer stored: per-person
# DMs of an anonymous feedback round and poll nudges (deleted at close: nothing may tell who had
# not answered when), and the corrections after an erasure (they name the erased person's DM).
SEALED = re.compile(
    r"^(?:feedback:\d+:(?:prompt|remind):|nudge:feedback:|nudge:umfrage:|poll-nudge:|erase-)"
)


# A data export (``meine-daten``) lists the person's messages with their delivery status, as
# the outbox had it at that moment: a send cut off by the kill is "uncertain" there (the same
# volatile column as in the outbox table). The file is compared decoded, with that masked.
EXPORT_FILE = re.compile(r'"content_b64": "([A-Za-z0-9+/=]*)"')
EXPORT_STATUS = re.compile(r'"status": "(?:sent|uncertain)"')


def _export_file(match: re.Match[str]) -> str:
    content = base64.b64decode(match.group(1)).decode("utf-8")
    return '"content": ' + json.dumps(EXPORT_STATUS.sub('"status": …', content))


def _printed(out: str, stored: set[str]) -> Counter[str]:
    return Counter(k for k in SENT.findall(out) if k in stored or not SEALED.match(k))


WRAPPER = "tests.support.killable_console"  # the console bot with the kill hooks


def _commands() -> list[str]:
    lines = [line.strip() for line in SCRIPT.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")] + TAIL


def _run(
    db: str, commands: list[str], kill_at: int = 0, lost_answer: str = "", after_send: str = ""
) -> tuple[str, str, int]:
    env = {**os.environ, "STADTLABOR_DATABASE_URL": db, "PYTHONPATH": str(ROOT)}
    env["KILL_YEAR_AT"] = str(kill_at)
    env["KILL_YEAR_BEFORE_ANSWER"] = lost_answer
    env["KILL_YEAR_AFTER_SEND"] = after_send
    env.pop("STADTLABOR_ORGANIZERS", None)
    proc = subprocess.run(
        [sys.executable, "-u", "-m", WRAPPER],
        cwd=ROOT,
        env=env,
        input="".join(f"{c}\n" for c in commands).encode(),
        capture_output=True,
        timeout=120,
    )
    return proc.stdout.decode(), proc.stderr.decode(), proc.returncode


def _resume_index(out: str, commands: list[str]) -> int:
    """Index of the first command to send again after a crash."""
    lines = out.splitlines()
    echoed = [i for i, line in enumerate(lines) if line.startswith("» ")]
    if not echoed:
        return 0
    done = len(echoed)
    last = commands[done - 1]
    assert lines[echoed[-1]][2:] == last, (lines[echoed[-1]], last)
    answered = any(line.strip() and not SENT.match(line) for line in lines[echoed[-1] + 1 :])
    if last.startswith("!clock") or not answered:
        return done - 1
    return done


def _state(db: str, lost: set[str] | None = None) -> dict[str, list[str]]:
    """Every table, rows as sorted strings, without the columns allowed to differ; with
    ``lost`` subjects (posts sent uncertainly), without their messages and thread links."""
    engine = create_engine(db)
    state: dict[str, list[str]] = {}
    try:
        with engine.connect() as conn:
            for table in inspect(engine).get_table_names():
                if table in SKIPPED_TABLES:
                    continue
                drop = VOLATILE.get(table, set())
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
                kept = []
                for row in rows:
                    key = str(row.get("idempotency_key", ""))
                    if key.startswith(DIGEST) or INTERMEDIATE.match(key):
                        continue
                    # Surrogate ids shift when a run had extra rows (the digest's reminder).
                    if lost and row.get("subject") in lost:
                        continue
                    values = {k: v for k, v in row.items() if k not in drop and k != "id"}
                    if key.startswith("mydata:"):
                        values["payload"] = EXPORT_FILE.sub(_export_file, str(values["payload"]))
                    shown = repr(values)
                    if lost:
                        shown = THREAD.sub("", shown)
                    for pattern, mask in RANDOM:
                        shown = pattern.sub(mask, shown)
                    kept.append(shown)
                state[table] = sorted(kept)
    finally:
        engine.dispose()
    return state


def _query(db: str, sql: str) -> list[Any]:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def _diff(expected: dict[str, list[str]], got: dict[str, list[str]]) -> str:
    parts = []
    for table in sorted(set(expected) | set(got)):
        want, have = Counter(expected.get(table, [])), Counter(got.get(table, []))
        if want != have:
            width = int(os.environ.get("KILL_DIFF_WIDTH", "400"))  # more to debug a failure
            missing = [row[:width] for row in (want - have).elements()][:4]
            extra = [row[:width] for row in (have - want).elements()][:4]
            parts.append(f"{table}:\n  missing {missing}\n  extra {extra}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """The uninterrupted year: its end state, and how many kill points it has."""
    folder = tmp_path_factory.mktemp("reference")
    db = f"sqlite:///{folder}/year.db"
    commands = _commands()
    out, err, code = _run(db, commands)
    assert code == 0, err[-2000:]
    for failure in ("Unbekannter Befehl", "Entschuldigung", "Traceback", "vorübergehend"):
        assert failure not in out, failure
    points = int(re.findall(r"«points (\d+)»", err)[-1])
    # The year contains what the issue asks for (so an empty comparison cannot pass).
    statuses = Counter(row[0] for row in _query(db, "SELECT status FROM participants"))
    assert statuses == {"confirmed": 19, "withdrawn": 1, "erased": 1}, statuses
    assert "Warteliste (Position 1)" in out and "Ihre Teilnahme ist jetzt bestätigt" in out
    tally = _query(
        db,
        "SELECT o.position, count(*) FROM votes v JOIN poll_options o ON o.id = v.option_id "
        "GROUP BY o.position ORDER BY o.position",
    )
    assert [tuple(row) for row in tally] == [(1, 4), (2, 1), (3, 1)]  # gabi changed 2 → 1
    assert _query(db, "SELECT count(*) FROM feedback_responses")[0][0] == 4
    assert _query(db, "SELECT count(*) FROM reminders WHERE status = 'done'")[0][0] >= 10
    assert "Erinnerung: Zugticket nach Hamburg ausdrucken" in out
    outbox = Counter(row[0] for row in _query(db, "SELECT status FROM outbox"))
    assert set(outbox) == {"sent"}, outbox
    keys = [row[0] for row in _query(db, "SELECT idempotency_key FROM outbox")]
    assert _printed(out, set(keys)) == Counter(keys)
    return db, points


def _kill_run(
    tmp_path: Path,
    seed: int,
    reference: tuple[str, int],
    lost_answer: str = "",
    after_send: str = "",
) -> None:
    reference_db, points = reference
    db = f"sqlite:///{tmp_path}/year-{seed}.db"
    commands = _commands()
    targeted = bool(lost_answer or after_send)
    kill_at = 0 if targeted else random.Random(seed).randint(1, points)
    first, _err, code = _run(db, commands, kill_at, lost_answer, after_send)
    assert code == -9, f"seed {seed}: not killed at point {kill_at}/{points} (exit {code})"
    resume = _resume_index(first, commands)
    second, err, code = _run(db, commands[resume:])
    where = f"seed {seed}, killed at point {kill_at}/{points}, resumed at line {resume}"
    where += f" {commands[resume]!r}" if resume < len(commands) else ""
    if lost_answer:
        where = f"killed before the answer to {lost_answer!r}, resumed at line {resume}"
        assert commands[resume] == lost_answer, where
    if after_send:
        where = f"killed after sending {after_send}…, resumed at line {resume}"
    assert code == 0, f"{where}: {err[-2000:]}"
    assert "Traceback" not in first + second and "Entschuldigung" not in second, where

    # Deliveries: each outbox row printed exactly once; uncertain rows at most once.
    rows = _query(db, "SELECT idempotency_key, status FROM outbox")
    sent = _printed(first + second, {key for key, _status in rows})
    statuses = Counter(status for _key, status in rows)
    assert set(statuses) <= {"sent", "uncertain"}, f"{where}: {statuses}"
    for key, status in rows:
        if status == "sent":
            assert sent[key] == 1, f"{where}: {key} delivered {sent[key]} times"
        else:
            assert sent[key] <= 1, f"{where}: uncertain {key} delivered {sent[key]} times"
    assert set(sent) <= {key for key, _status in rows}, where
    uncertain = {row[0] for row in _query(db, "SELECT id FROM outbox WHERE status = 'uncertain'")}
    reported = {
        row[0] for row in _query(db, "SELECT ref_id FROM reminder_digest WHERE source = 'outbox'")
    }
    assert uncertain <= reported, f"{where}: uncertain rows {uncertain - reported} not reported"
    if after_send:  # the interrupted send is reported, not repeated
        # (a mail handed over in the same moment is cut too: uncertain as well, docs/email.md)
        chat = _query(
            db,
            "SELECT idempotency_key FROM outbox WHERE status = 'uncertain' AND platform != 'email'",
        )
        assert [row[0] for row in chat] == [
            k for k in SENT.findall(first) if k.startswith(after_send)
        ][:1], where
        mails = _query(
            db, "SELECT COUNT(*) FROM outbox WHERE status = 'uncertain' AND platform = 'email'"
        )
        assert mails[0][0] <= 1, f"{where}: more than the one mail in flight is uncertain"

    # The database: the same registrations, positions, votes, feedback answers, reminders,
    # meetings, topics, polls and outbox rows as the uninterrupted year.
    # A post whose send was interrupted (uncertain) has no known platform message: replies
    # meant for its thread go to the channel instead. That follows from the uncertainty alone.
    lost = set()
    for (target,) in _query(db, "SELECT target FROM outbox WHERE status = 'uncertain'"):
        subject = (json.loads(target) if isinstance(target, str) else target).get("subject")
        if subject:
            lost.add(subject)
    difference = _diff(_state(reference_db, lost), _state(db, lost))
    assert not difference, f"{where}:\n{difference}"


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_sigkill_at_a_seeded_point_of_a_cohort_year(
    tmp_path: Path, seed: int, reference: tuple[str, int]
) -> None:
    started = time.monotonic()
    _kill_run(tmp_path, seed, reference)
    assert time.monotonic() - started < 24, f"seed {seed}: too slow"


# The worst moment for a user: the command is committed, its answer never arrives, so the user
# types it again. Safe for every command of the year: idempotent, "already done", a reminder or
# programme item that exists already is named instead of doubled, and a guided dialog asks back
# instead of taking the retyped answer for its next question.
RETYPED = {
    "anmelden": '@anna anmelden name="Anna Aacmann" kommune="Aachen" '
    'funktion="Bürgermeisterin" email=anna@aachen.de zustimmung=ja',
    "abstimmen": "@gabi abstimmen 1 1",
    "abmelden": "@emil abmelden",
    "feedback": "@anna dm: feedback 1 antworten 1. Der Beteiligungsprozess 2. Die Finanzierung "
    "3. Früh die Wohnungsbaugesellschaft einbinden",
    "teilnahme": "@anna teilnahme 2 ja",
    "erinnern": "@anna dm: erinnern 18.11.2030 18 Uhr; Zugticket nach Hamburg ausdrucken",
    "programmpunkt": '@orga programmpunkt 2 von="10 Uhr" bis="12 Uhr" '
    'titel="Stadtrundgang: Quartier Nord" art=Vor-Ort-Besuch',
    "dialog": "@ben dm: Ben Bammann",
}


@pytest.mark.slow
@pytest.mark.parametrize("line", list(RETYPED.values()), ids=list(RETYPED))
def test_a_command_retyped_after_its_answer_was_lost(
    tmp_path: Path, line: str, reference: tuple[str, int]
) -> None:
    assert line in _commands()
    _kill_run(tmp_path, 0, reference, lost_answer=line)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["reminder:", "meeting:1:notes14:"])
def test_a_kill_between_a_send_and_its_record(
    tmp_path: Path, key: str, reference: tuple[str, int]
) -> None:
    """Killed after the platform call, before the row is marked sent: the row becomes
    ``uncertain`` (and goes into the organisers' digest); it is not sent a second time."""
    _kill_run(tmp_path, 0, reference, after_send=key)
