"""Introductions with consent through the console (SQLite file and PostgreSQL): the other person
accepts or declines; on acceptance one conversation with both opens; requests expire; a decline
tells the requester no more than "nicht möglich"; meine-daten and vergessen cover it all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.messenger import Sent
from tests.helpers import Driver, make_settings, signup


@pytest.fixture
def bot(db_url: str, clock: SimulatedClock) -> Iterator[Bot]:
    built = build_bot(make_settings(db_url, organizers="console:orga"), clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Vernetzung" plaetze=5')
    for user in ("anna", "ben", "cara"):
        d.say(user, signup(user))
    return d


def _dms_to(driver: Driver, user: str) -> list[str]:
    return [s.text for s in driver.messenger.transcript if s.target == f"console:{user}"]


def _groups(driver: Driver) -> list[Sent]:
    return [s for s in driver.messenger.transcript if s.kind == "group"]


def _button(message: str, label: str) -> str:
    """The command behind a button (console: ``[Label] → command``)."""
    line = next(x for x in message.splitlines() if x.startswith(f"[{label}] → "))
    return line.split("→ ", 1)[1]


def _row(bot: Bot) -> dict[str, Any]:
    with bot.engine.connect() as conn:
        found = conn.execute(text("select * from introductions")).mappings().all()
    assert len(found) == 1, found
    return dict(found[0])


def _export(driver: Driver, user: str) -> dict[str, Any]:
    driver.say(user, "meine-daten")
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    return dict(json.loads(files[-1].content or b""))


def test_accept_opens_one_conversation_with_both(driver: Driver, bot: Bot) -> None:
    asked = driver.say("anna", "vorstellen @ben thema=Pflege")
    assert "Ich habe Ben Muster gefragt" in asked and "14 Tage" in asked
    assert not _groups(driver)  # nothing is opened before Ben agrees
    ask = _dms_to(driver, "ben")[-1]
    assert "Anna Muster (Annastadt) möchte Sie gern kennenlernen" in ask and "„Pflege“" in ask
    assert _button(ask, "Ablehnen") == "vorstellen ablehnen console:anna"
    assert "noch offen" in driver.say("anna", "vorstellen @ben")  # no second request
    accepted = driver.say("ben", _button(ask, "Annehmen"))
    assert "Ich eröffne gleich eine Unterhaltung mit Anna Muster" in accepted
    (group,) = _groups(driver)
    assert group.target == "console:anna console:ben"
    assert "Darf ich vorstellen: Anna Muster (Annastadt) und Ben Muster (Benstadt)" in group.text
    assert "über „Pflege“" in group.text
    assert all(f"{n}. " in group.text for n in (1, 2, 3))  # three prompts
    assert "May I introduce" not in group.text  # both German: one language
    assert "Ben Muster hat Ihre Anfrage angenommen" in _dms_to(driver, "anna")[-1]
    row = _row(bot)
    assert row["accepted_at"] is not None and row["declined_at"] is None
    assert row["conversation_platform"] == "console"
    assert row["conversation_id"] == "group:intro-room:1"
    driver.flush()
    assert len(_groups(driver)) == 1  # delivered once
    assert "bereits vorgestellt" in driver.say("anna", "vorstellen @ben")
    assert "bereits vorgestellt" in driver.say("ben", "vorstellen @anna")
    assert "keine offene Anfrage" in driver.say("ben", "vorstellen annehmen")
    mine = _export(driver, "anna")["vorstellungen"]
    assert mine == [
        {
            "rolle": "angefragt",
            "thema": "Pflege",
            "am": mine[0]["am"],
            "stand": "angenommen",
            "angenommen": mine[0]["angenommen"],
            "unterhaltung": "console",
        }
    ]


def test_a_decline_is_neutral_and_blocks_a_repeat_for_30_days(
    driver: Driver, bot: Bot, clock: SimulatedClock
) -> None:
    driver.say("anna", "vorstellen @ben thema=Einsamkeit")
    ask = _dms_to(driver, "ben")[-1]
    assert "abgesagt" in driver.say("ben", _button(ask, "Ablehnen"))
    told = _dms_to(driver, "anna")[-1]
    assert told == (
        "Eine Vorstellung bei Ben Muster ist derzeit nicht möglich. Vielleicht passt jemand "
        "anderes: „wer kennt sich aus mit …“."
    )
    again = driver.say("anna", "vorstellen @ben thema=Pflege")
    assert "Eine Vorstellung bei Ben Muster ist derzeit nicht möglich" in again
    assert len([t for t in _dms_to(driver, "ben") if "kennenlernen" in t]) == 1  # not asked
    assert not _groups(driver)
    row = _row(bot)
    assert row["topic"] is None and row["declined_at"] is not None  # only the date stays
    # The requester's own data says no more than the bot told her; Ben's says he declined.
    (mine,) = _export(driver, "anna")["vorstellungen"]
    assert mine["stand"] == "nicht zustande gekommen" and "abgelehnt" not in mine
    assert "Einsamkeit" not in json.dumps(mine)
    (his,) = _export(driver, "ben")["vorstellungen"]
    assert his["stand"] == "abgelehnt" and his["abgelehnt"]
    clock.advance(timedelta(days=31))
    bot.due.run_due(clock.now())  # the request's expiry was cancelled by the decline
    driver.flush()
    assert len([t for t in _dms_to(driver, "anna") if "nicht möglich" in t]) == 1
    assert "gefragt" in driver.say("anna", "vorstellen @ben thema=Pflege")
    assert "„Pflege“" in _dms_to(driver, "ben")[-1]
    assert _row(bot)["declined_at"] is None


def test_requests_expire_after_14_days(driver: Driver, bot: Bot, clock: SimulatedClock) -> None:
    driver.say("anna", "vorstellen @ben")
    ask = _dms_to(driver, "ben")[-1]
    assert "möchte Sie gern kennenlernen und sich mit Ihnen austauschen" in ask
    clock.advance(timedelta(days=13))
    bot.due.run_due(clock.now())
    driver.flush()
    assert "noch offen" in driver.say("anna", "vorstellen @ben")
    assert not [t for t in _dms_to(driver, "anna") if "nicht möglich" in t]
    clock.advance(timedelta(days=2))
    bot.due.run_due(clock.now())
    driver.flush()
    # Anna hears the same sentence as after a decline: she cannot tell the two apart.
    assert _dms_to(driver, "anna")[-1].startswith("Eine Vorstellung bei Ben Muster ist derzeit")
    late = driver.say("ben", _button(ask, "Annehmen"))
    assert "Die Anfrage von Anna Muster ist am" in late and "abgelaufen" in late
    assert "vorstellen console:anna" in late  # what to do instead
    assert "abgelaufen" in driver.say("ben", "vorstellen ablehnen")
    assert not _groups(driver)
    # Asking again is refused as after a decline, for 30 days from the expiry.
    assert "derzeit nicht möglich" in driver.say("anna", "vorstellen @ben")
    clock.advance(timedelta(days=30))
    assert "gefragt" in driver.say("anna", "vorstellen @ben")  # then it may be renewed
    assert "Schön" in driver.say("ben", "vorstellen annehmen")
    assert len(_groups(driver)) == 1


def test_each_recipient_reads_their_language(driver: Driver) -> None:
    driver.say("ben", "sprache en")
    driver.say("anna", "vorstellen @ben thema=Mobilität")
    ask = _dms_to(driver, "ben")[-1]
    assert "would like to get to know you" in ask and "[Accept] → " in ask
    assert "Great!" in driver.say("ben", "introduce accept")
    (group,) = _groups(driver)
    assert "May I introduce: Anna Muster (Annastadt) and Ben Muster (Benstadt)" in group.text
    assert "Darf ich vorstellen: Anna Muster" in group.text  # Anna reads German
    assert "What has already worked for you" in group.text


def test_the_buttons_answer_their_own_request_and_the_reverse_is_pointed_out(
    driver: Driver,
) -> None:
    driver.say("anna", "vorstellen @ben thema=Pflege")
    from_anna = _dms_to(driver, "ben")[-1]
    driver.say("cara", "vorstellen @ben thema=Bildung")  # the later one
    driver.say("ben", _button(from_anna, "Ablehnen"))
    assert "nicht möglich" in _dms_to(driver, "anna")[-1]
    assert not [t for t in _dms_to(driver, "cara") if "nicht möglich" in t]
    reverse = driver.say("ben", "vorstellen @cara")
    assert "Cara Muster hat Sie bereits um eine Vorstellung gebeten" in reverse
    assert "vorstellen annehmen console:cara" in reverse
    driver.say("ben", "vorstellen annehmen")  # without a name: the latest open one
    assert _groups(driver)[-1].target == "console:cara console:ben"


def test_without_a_shared_chat_each_gets_the_others_contact(driver: Driver, bot: Bot) -> None:
    driver.say("ben", "benachrichtigung email")
    driver.say("anna", "vorstellen @ben")
    driver.say("ben", "vorstellen annehmen")
    assert not _groups(driver)
    to_anna = _dms_to(driver, "anna")[-1]
    assert "Ben Muster hat Ihre Anfrage angenommen. Darf ich vorstellen" in to_anna
    assert "So erreichen Sie Ben Muster: console @ben, E-Mail ben@example.org" in to_anna
    with bot.engine.connect() as conn:
        mail = conn.execute(
            text("select payload from outbox where idempotency_key like :key"),
            {"key": "intro-direct:%:email"},
        ).scalar_one()
    body = json.dumps(mail, ensure_ascii=False)
    assert "So erreichen Sie Anna Muster: console @anna" in body
    assert "anna@example.org" not in body  # Anna's messages go by chat: no address shared
    assert _row(bot)["conversation_platform"] == "direkt"


def test_an_erased_person_leaves_no_trace(driver: Driver, bot: Bot) -> None:
    driver.say("anna", "vorstellen @ben thema=Pflege")
    driver.say("cara", "vorstellen @ben thema=Bildung")
    driver.say("ben", "vorstellen annehmen console:cara")
    driver.say("ben", "vergessen ja")
    with bot.engine.connect() as conn:
        assert conn.execute(text("select count(*) from introductions")).scalar() == 0
        groups = conn.execute(
            text("select payload from outbox where operation = 'group'")
        ).scalar_one()
    assert "Ben Muster" not in json.dumps(groups, ensure_ascii=False)
    assert "vorstellungen" not in _export(driver, "anna")
    assert "vorstellungen" not in _export(driver, "cara")
    answer = driver.say("anna", "vorstellen console:ben")
    assert "Ben Muster" not in answer and "gefragt" not in answer


def test_the_conversation_is_on_a_platform_both_use(driver: Driver, bot: Bot) -> None:
    """Ben was seen last on Slack but also uses the console, Anna only the console: they meet
    on the console, not in two DMs."""
    with bot.engine.begin() as conn:
        ben = conn.execute(
            text("select person_id from identities where external_id = 'ben'")
        ).scalar_one()
        conn.execute(
            text(
                "insert into identities (person_id, platform, external_id, last_seen_at) "
                "values (:p, 'slack', 'U0BEN', :seen)"
            ),
            {"p": ben, "seen": bot.clock.now() + timedelta(hours=1)},
        )
    driver.say("anna", "vorstellen @ben")
    with bot.engine.begin() as conn:  # saying something makes the console the latest again
        conn.execute(
            text("update identities set last_seen_at = :seen where external_id = 'U0BEN'"),
            {"seen": bot.clock.now() + timedelta(days=1)},
        )
    assert "Ich eröffne gleich eine Unterhaltung" in driver.say("ben", "vorstellen annehmen")
    (group,) = _groups(driver)
    assert group.target == "console:anna console:ben"
