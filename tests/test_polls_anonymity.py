"""Anonymous polls: nobody — organisers included — can learn who voted what.

After close, no post, export, ``meine-daten``, log line or table row links a voter to the poll.
"""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from app import Bot
from bot.services import poll_privacy
from bot.services.privacy import my_data
from storage.models import Base, OutboxMessage, Person, Poll, Vote
from storage.models_polls import PollBallot
from tests.helpers import Driver, signup

VOTERS = {"anna": 1, "ben": 2, "cara": 1, "dora": 1}


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


def _rows_naming_voters(driver: Driver, poll_id: int, voter_ids: set[int]) -> list[str]:
    """Every row of every table that refers to the poll and to one of the voters."""
    found = []
    with driver.bot.uow_factory() as uow:
        for table in Base.metadata.sorted_tables:
            poll_cols = [c for c in table.c if "poll" in c.name]
            person_cols = [c for c in table.c if "person" in c.name]
            if table.name == "polls":
                poll_cols = [table.c.id]
            if not poll_cols or not person_cols:
                continue
            for row in uow.session.execute(select(table)).mappings():
                if any(row[c.name] == poll_id for c in poll_cols) and any(
                    row[c.name] in voter_ids for c in person_cols
                ):
                    found.append(f"{table.name}: {dict(row)}")
    return found


def test_anonymous_poll_leaves_no_trace_of_who_voted_what(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    driver.say("orga", 'umfrage "Geheim?" "Hafen" "Altstadt" anonym sofort')
    for name in ("anna", "ben"):
        driver.say(name, f"abstimmen 1 {VOTERS[name]}")
    before_k = driver.messenger.texts("update")[-1]
    assert "Ergebnisse erscheinen ab 3 Stimmzetteln" in before_k and "%" not in before_k
    assert "2 Stimmzettel abgegeben" in before_k
    for name in ("cara", "dora"):
        driver.say(name, f"abstimmen 1 {3 - VOTERS[name]}")  # a first choice …
        assert "geändert" in driver.say(name, f"abstimmen 1 {VOTERS[name]}")  # … changed
    assert "1. Hafen — ▇▇▇▇▇▇▇▇░░ 75 % (3 Stimmen)\n" in driver.messenger.texts("update")[-1]
    ids = _person_ids(driver)
    with driver.bot.uow_factory() as uow:
        # while open, meine-daten says only "abgestimmt"
        exported = poll_privacy.export_person(uow, ids["anna"])
        assert exported["umfrage_stimmen"][0]["stimme"] == "abgestimmt"
        assert "Hafen" not in json.dumps(exported, ensure_ascii=False)
        assert uow.session.scalar(select(Vote.person_id).where(Vote.person_id.is_not(None))) is None
    assert "ist geschlossen" in driver.say("orga", "umfrage 1 schliessen")
    driver.say("orga", "export umfrage 1")
    for name in VOTERS:
        driver.say(name, "meine-daten")

    with driver.bot.uow_factory() as uow:
        poll = uow.session.scalars(select(Poll)).one()
        assert uow.session.scalars(select(PollBallot)).all() == []
        votes = uow.session.scalars(select(Vote).order_by(Vote.id)).all()
        assert [v.person_id for v in votes] == [None] * 4
        assert {v.cast_at for v in votes} == {poll.closed_at}
        for name, person_id in ids.items():
            person = uow.session.get(Person, person_id)
            assert person is not None
            data = my_data(uow, person) | poll_privacy.export_person(uow, person_id)
            assert "Geheim?" not in json.dumps(data, ensure_ascii=False), name
        keys = [r.idempotency_key for r in uow.session.scalars(select(OutboxMessage))]
        assert len([k for k in keys if k.startswith(f"poll-update:{poll.id}:")]) == 1
        poll_id = poll.id
    assert _rows_naming_voters(driver, poll_id, set(ids.values())) == []

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
    driver.say("anna", "abstimmen 1 1")
    driver.say("ben", "abstimmen 1 2")
    driver.say("orga", "umfrage 1 schliessen")
    summary = next(t for t in driver.messenger.texts("post") if "ist geschlossen" in t)
    assert "Zu wenige Stimmzettel (2)" in summary and "%" not in summary
    driver.say("orga", "export umfrage 1")
    csv_text = (driver.messenger.transcript[-1].content or b"").decode("utf-8-sig")
    assert "1,A,," in csv_text and "stimmzettel,2" in csv_text
