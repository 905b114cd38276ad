"""Anonymous polls: nobody — organisers included — can learn who voted what.

While the poll is open, nothing published (post, edit, ``umfrage N``, export) shows a tally:
two tallies one ballot apart would show what that ballot was. After close, no post, export,
``meine-daten``, log line or row of any table links a voter to the poll, and nothing stored
orders or times the ballots. Every test runs on SQLite and on PostgreSQL (the ``bot`` fixture).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import MetaData, select

from app import Bot
from bot.clock import SimulatedClock
from bot.commands import polls as poll_commands
from bot.context import CommandContext, Conversation, Request
from bot.identity import Identity
from bot.services import poll_privacy
from bot.services.privacy import my_data
from storage.models import OutboxMessage, Person, Poll, PollOption, Vote
from storage.models_polls import PollBallot
from tests.helpers import Driver, signup

VOTERS = {"anna": 1, "ben": 2, "cara": 1, "dora": 1}
# "Hafen — ▇▇… 75 % (3 Stimmen)": a published distribution (counts per option)
DISTRIBUTION = re.compile(r"^\d+\. .+ — [▇░]+ \d+ % \((\d+) Stimmen?\)", re.MULTILINE)


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Anonym" plaetze=5')
    for name in [*VOTERS, "emil"]:
        d.say(name, signup(name))
    d.messenger.transcript.clear()
    return d


def _person_ids(driver: Driver) -> dict[str, int]:
    with driver.bot.uow_factory() as uow:
        return {
            name: person.id
            for name in VOTERS
            if (person := uow.persons.get_by_identity("console", name)) is not None
        }


def _published(driver: Driver) -> list[str]:
    """Everything the cohort could read, in order: posts, edits, thread replies."""
    return [s.text for s in driver.messenger.transcript if s.kind in ("post", "thread", "update")]


def _snapshot(bot: Bot) -> dict[str, dict[str, str]]:
    """Every row of every table in the database (reflected, not only our models), keyed by
    table and primary key, as JSON text."""
    meta = MetaData()
    meta.reflect(bot.engine)
    rows: dict[str, dict[str, str]] = {}
    with bot.engine.connect() as conn:
        for table in meta.sorted_tables:
            rows[table.name] = {}
            key_cols = list(table.primary_key.columns) or list(table.c)
            for row in conn.execute(select(table)).mappings():
                key = ":".join(str(row[c.name]) for c in key_cols)
                rows.setdefault(table.name, {})[key] = json.dumps(
                    dict(row), default=str, ensure_ascii=False, sort_keys=True
                )
    return rows


def _decoded(text: str) -> str:
    """The row's text plus any base64 content (files in the outbox) decoded."""
    extra = []
    for blob in re.findall(r'"content_b64": "([A-Za-z0-9+/=]+)"', text):
        extra.append(base64.b64decode(blob).decode("utf-8", "replace"))
    return "\n".join([text, *extra])


def _rows_naming_voters(
    before: dict[str, dict[str, str]], bot: Bot, voters: dict[str, int]
) -> list[str]:
    """Rows of any table, new or changed since ``before``, that name a voter: by person id in
    a person column, or by identity, handle, name or e-mail anywhere in the row (keys of the
    outbox and ``bot_state``, targets, payloads). The voters' own records (person, identity,
    participation) are theirs, not the poll's, and are left out."""
    own = {"persons", "identities", "participants"}
    found = []
    for table, rows in _snapshot(bot).items():
        if table in own:
            continue
        for key, text in rows.items():
            if before.get(table, {}).get(key) == text:
                continue
            row = json.loads(text)
            content = _decoded(text)
            for name, person_id in voters.items():
                by_id = any(
                    "person" in column and value == person_id for column, value in row.items()
                )
                marks = (f"console:{name}", f"{name.title()} Muster", f"{name}@example.org")
                if by_id or any(m in content for m in marks):
                    found.append(f"{table}[{key}] names {name}: {text[:300]}")
    return found


def test_open_anonymous_poll_publishes_the_ballot_count_only(driver: Driver) -> None:
    """Issue 14 #1: with live results, each vote after the 3rd changed exactly one count."""
    answer = driver.say(
        "orga", 'umfrage "Geheim?" "Rot" "Blau" "Gruen" anonym ergebnis=live sofort'
    )
    assert "erst nach dem Schluss" in answer and "ergebnis=live weg" in answer
    assert driver.messenger.texts("post") == []  # refused, never silently downgraded
    assert "Umfrage 1 ist angelegt" in driver.say(
        "orga", 'umfrage "Geheim?" "Rot" "Blau" anonym sofort'
    )
    post = driver.messenger.texts("post")[-1]
    assert "Ergebnis nach dem Schluss, wenn mindestens 3 Stimmzettel" in post
    assert "Ergebnis live" not in post
    ballots = [("anna", "1"), ("ben", "2"), ("cara", "1"), ("dora", "2"), ("dora", "1")]
    counts_seen = []
    for name, choice in ballots:
        assert "Ihre Stimme" in driver.say(name, f"abstimmen 1 {choice}", dm=True)
        counts_seen.append(driver.messenger.texts("update")[-1])
        shown = driver.say("emil", "umfrage 1")  # shown on request: the same rule
        assert "%" not in shown and "Stimmen)" not in shown, shown
    driver.say("ben", "abstimmen 1 zurueckziehen", dm=True)
    driver.say("orga", "export umfrage 1")
    early_csv = (driver.messenger.transcript[-1].content or b"").decode("utf-8-sig")
    assert "Rot,," in early_csv and "Blau,," in early_csv  # no counts before close

    published_open = _published(driver)
    assert not any(DISTRIBUTION.search(t) for t in published_open), published_open
    assert "4 Stimmzettel abgegeben" in counts_seen[3]
    # dora's change moved no count: no edit at all (it would only say "someone changed")
    assert counts_seen[4] == counts_seen[3]
    assert len(driver.messenger.texts("update")) == 5  # 4 ballots + ben's withdrawal

    driver.say("orga", "umfrage 1 schliessen")
    distributions = [t for t in _published(driver) if DISTRIBUTION.search(t)]
    final = driver.messenger.texts("update")[-1]
    assert "1. Rot — ▇▇▇▇▇▇▇▇▇▇ 100 % (3 Stimmen)" in final and "geschlossen" in final
    assert "Ergebnis live" not in final and "Ergebnis nach" not in final
    # the result appears once (the post, the summary and its thread copy show the same)
    assert {tuple(DISTRIBUTION.findall(t)) for t in distributions} == {("3", "0")}


def test_room_visible_votes_are_refused_not_counted(driver: Driver) -> None:
    """A vote typed in a shared room (on Matrix also a poll response or a numeric reply) is
    readable by everybody: it is refused, so no room message is a counted anonymous vote."""
    driver.say("orga", 'umfrage "Geheim?" "Rot" "Blau" anonym sofort')
    answer = driver.say("anna", "abstimmen 1 2")
    assert "nicht gezählt" in answer and "Direktnachricht" in answer
    assert "ist gezählt" not in answer
    with driver.bot.uow_factory() as uow:
        assert uow.session.scalars(select(PollBallot)).all() == []
        assert uow.session.scalars(select(Vote)).all() == []
    assert "gezählt: 2. Blau" in driver.say("anna", "abstimmen 1 2", dm=True)
    # named polls are public anyway: voting in the room is fine there
    driver.say("orga", 'umfrage "Offen?" "Ja" "Nein" sofort')
    assert "gezählt: 1. Ja" in driver.say("anna", "abstimmen 2 1")


def test_sealing_leaves_no_order_time_or_voter_in_any_table(
    driver: Driver, clock: SimulatedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Votes come in at different times (the clock moves) and in an order unlike the option
    order; reminders go to non-voters (the poll's own nudge and ``nachfassen``). After close
    every vote row has the closing time, ids in option order (the order docs/polls.md
    promises), and no row of any table names a voter."""
    caplog.set_level(logging.DEBUG)
    before = _snapshot(driver.bot)
    assert {"outbox", "bot_state", "reminders", "audit_entries", "votes"} <= set(before)
    driver.say("orga", 'umfrage "Geheim?" "Hafen" "Altstadt" anonym bis="Freitag 12 Uhr" sofort')
    order = [("ben", 2), ("anna", 1), ("cara", 2), ("dora", 1)]  # cara changes to 1 below
    for name, choice in order[:2]:
        clock.advance(timedelta(minutes=17))
        assert "gezählt" in driver.say(name, f"abstimmen 1 {choice}", dm=True)
    clock.advance(timedelta(hours=1))
    assert "Erinnerung an 3 Person(en)" in driver.say("orga", "nachfassen umfrage 1")
    clock.advance(timedelta(hours=23))  # Thursday 12:00 and later: the poll's own nudge
    driver.bot.due.run_due(clock.now())
    driver.flush()
    nudged = sorted(s.target for s in driver.messenger.transcript if "Umfrage 1" in s.text)
    assert {"console:cara", "console:dora"} <= set(nudged)
    with driver.bot.uow_factory() as uow:
        keys = [k for k in uow.session.scalars(select(OutboxMessage.idempotency_key))]
        assert any(k.startswith("poll-nudge:") for k in keys)
        assert any(k.startswith("nudge:umfrage:") for k in keys)
    for name, choice in order[2:]:
        clock.advance(timedelta(minutes=13))
        assert "gezählt" in driver.say(name, f"abstimmen 1 {choice}", dm=True)
    clock.advance(timedelta(minutes=5))
    assert "geändert" in driver.say("cara", "abstimmen 1 1", dm=True)
    ids = _person_ids(driver)
    with driver.bot.uow_factory() as uow:
        # while open, meine-daten says only "abgestimmt"
        exported = poll_privacy.export_person(uow, ids["anna"])
        assert exported["umfrage_stimmen"][0]["stimme"] == "abgestimmt"
        assert "Hafen" not in json.dumps(exported, ensure_ascii=False)
        assert uow.session.scalar(select(Vote.person_id).where(Vote.person_id.is_not(None))) is None
    clock.advance(timedelta(minutes=7))
    assert "ist geschlossen" in driver.say("orga", "umfrage 1 schliessen")

    leaks = _rows_naming_voters(before, driver.bot, ids)
    assert leaks == []
    with driver.bot.uow_factory() as uow:
        poll = uow.session.scalars(select(Poll)).one()
        assert uow.session.scalars(select(PollBallot)).all() == []
        rows = uow.session.execute(
            select(Vote.id, Vote.person_id, Vote.cast_at, PollOption.position)
            .join(PollOption, PollOption.id == Vote.option_id)
            .order_by(Vote.id)
        ).all()
        assert [r.person_id for r in rows] == [None] * 4
        assert {r.cast_at for r in rows} == {poll.closed_at}
        positions = [r.position for r in rows]
        assert positions == sorted(positions) == [1, 1, 1, 2]  # option order, not vote order
    driver.say("orga", "export umfrage 1")
    for name in VOTERS:
        driver.say(name, "meine-daten")
    with driver.bot.uow_factory() as uow:
        for name, person_id in ids.items():
            person = uow.session.get(Person, person_id)
            assert person is not None
            data = my_data(uow, person) | poll_privacy.export_person(uow, person_id)
            assert "Geheim?" not in json.dumps(data, ensure_ascii=False), name

    names = [f"{n.title()} Muster" for n in VOTERS] + [f"console:{n}" for n in VOTERS]
    public = [s for s in driver.messenger.transcript if s.kind in ("post", "thread", "update")]
    assert public and not any(n in s.text for s in public for n in names)
    files = [
        (s.filename, (s.content or b"").decode("utf-8-sig"))
        for s in driver.messenger.transcript
        if s.filename
    ]
    export = next(content for name, content in files if name == "umfrage-1.csv")
    assert "Hafen,3,75 %" in export and not any(n in export for n in names)
    personal = [content for name, content in files if name != "umfrage-1.csv"]
    assert len(personal) == len(VOTERS)  # the meine-daten files say nothing about the poll
    assert not any("Geheim?" in content for content in personal)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(n in logged for n in names)


def test_too_few_ballots_give_no_anonymous_result(driver: Driver) -> None:
    driver.say("orga", 'umfrage "Wenige?" "A" "B" anonym sofort')
    driver.say("anna", "abstimmen 1 1", dm=True)
    driver.say("ben", "abstimmen 1 2", dm=True)
    driver.say("orga", "umfrage 1 schliessen")
    summary = next(t for t in driver.messenger.texts("post") if "ist geschlossen" in t)
    assert "Zu wenige Stimmzettel (2)" in summary and "%" not in summary
    driver.say("orga", "export umfrage 1")
    csv_text = (driver.messenger.transcript[-1].content or b"").decode("utf-8-sig")
    assert "1,A,," in csv_text and "stimmzettel,2" in csv_text


def test_anonymous_poll_stored_with_live_results_shows_no_tally(driver: Driver) -> None:
    """A poll created before the rule (``results_live`` stored true) is held to it too."""
    driver.say("orga", 'umfrage "Alt?" "A" "B" anonym sofort')
    with driver.bot.uow_factory() as uow:
        poll = uow.session.scalars(select(Poll)).one()
        poll.results_live = True
        uow.commit()
    for name in ("anna", "ben", "cara", "dora"):
        driver.say(name, "abstimmen 1 1", dm=True)
    texts: list[Any] = [*_published(driver), driver.say("emil", "umfrage 1")]
    assert not any(DISTRIBUTION.search(t) for t in texts), texts


@pytest.mark.parametrize(
    ("platform", "channel", "direct", "forms", "seen"),
    [
        ("slack", "C0COHORT", False, True, False),  # slash command or button: private
        ("slack", "C0COHORT", False, False, True),  # @-mention in the channel: public
        ("slack", "D0ANNA", True, False, False),
        ("matrix", "!room:hs", False, False, True),  # typed, replied or a poll response
        ("matrix", "!dm:hs", True, False, False),
        ("console", "#stadtlabor", False, False, True),
    ],
)
def test_which_votes_others_can_read(
    platform: str, channel: str, direct: bool, forms: bool, seen: bool
) -> None:
    request = Request(
        Identity(platform, "anna"), Conversation(platform, channel, direct), "x", None, None, forms
    )
    ctx = cast(CommandContext, SimpleNamespace(request=request))
    assert poll_commands._seen_in_room(ctx) is seen
