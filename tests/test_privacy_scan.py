"""The erasure scan (issue 14, item 2): fill every feature, ``vergessen ja``, then look everywhere.

"Everywhere" is every column of every table (JSON and base64 decoded), the outbox, what every
posted message shows now (console transcript and the Slack Web API double, Home tabs too) and
the logs at DEBUG. The person used every feature first — a feature that stores personal data
and is not covered by the erasure makes this test fail. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, select

from app import Bot
from bot.clock import SimulatedClock
from bot.context import Conversation, Request
from bot.identity import Identity
from bot.messenger import RecordingMessenger
from handlers.slack.runner import SlackConfig, SlackRuntime
from storage.models import OutboxMessage, Person
from tests.helpers import Driver, block_texts, signup, wait_for
from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble, SlackUser

NAME, MAIL = "Hildegard Zwiebelmeier", "hildegard@zwiebelhausen.de"
TOWN, FUNCTION = "Zwiebelhausen", "Stabsstelle Zwiebelmarkt"
OFFICE_NAME, OFFICE_MAIL = "Frieda Vorzimmer", "frieda@vorzimmer.de"
CONSOLE, SLACK, HANDLE = "hildegard_z", "U0HILDE", "hilde.zwiebel"
MATRIX, MATRIX_DM = "@hildegard:zwiebel.example", "!hildedm:zwiebel.example"
FEEDBACK_TEXT = "Zwiebelrat aus erster Hand"
PROJECT = "Zwiebelturm für alle Generationen"
HILDE = SlackUser(id=SLACK, real_name=NAME, display_name=HANDLE)


def _current_console_texts(messenger: RecordingMessenger) -> list[str]:
    """What each console message shows now: updates applied, deleted ones gone. Private
    answers (ephemeral) are not kept anywhere: what a client displayed cannot be taken back."""
    shown: dict[tuple[str, str], str] = {}
    for sent in messenger.transcript:
        if sent.ref is None:
            continue
        key = (sent.ref.channel_id, sent.ref.message_id)
        if sent.kind == "delete":
            shown.pop(key, None)
        else:
            content = (sent.content or b"").decode("utf-8", "replace")
            shown[key] = f"{sent.target} {sent.text} {sent.filename or ''} {content}"
    return list(shown.values())


def _database(bot: Bot) -> str:
    """Every value in every table; JSON and base64 (files in the outbox) decoded."""
    meta = MetaData()
    meta.reflect(bot.engine)
    parts: list[str] = []
    with bot.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    parts.append(f"{table.name}.{column.name}={value}")
    dump = "\n".join(parts)
    for b64 in re.findall(r"'content_b64': '([A-Za-z0-9+/=]+)'", dump):
        dump += base64.b64decode(b64).decode("utf-8", "replace")
    return dump


@dataclass
class World:
    bot: Bot
    console: Driver
    slack: SlackDouble
    url: str
    runtime: SlackRuntime

    def slash(self, text: str, channel: str = "D0HILDE") -> None:
        request = sr.slash_command(text, SLACK, channel, user_name=HANDLE)
        assert sr.post_signed(self.url, request).status == 200

    def as_identity(self, identity: Identity, text: str) -> str:
        request = Request(identity, Conversation(identity.platform, None, True), text)
        replies = self.bot.dispatcher.handle(request)
        return "\n".join(r.message.plain_text() for r in replies if r.message)

    def code(self) -> str:
        answer = self.console.say(CONSOLE, "verknuepfen", dm=True)
        found = re.search(r"verknuepfen ([A-Z0-9]{8})", answer)
        assert found, answer
        return found.group(1)

    def drained(self) -> bool:
        """Nothing waits in the Slack outbox (the console's is flushed by the driver). The
        clock moves on meanwhile, so the paced outbox lets the next message out."""
        assert isinstance(self.bot.clock, SimulatedClock)
        self.bot.clock.advance(timedelta(seconds=2))
        with self.bot.uow_factory() as uow:
            waiting = uow.session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.platform == "slack",
                    OutboxMessage.status.in_(("pending", "sending")),
                )
            ).all()
        return not waiting and self.runtime.listeners.home.idle()


@pytest.fixture
def world(bot: Bot) -> Iterator[World]:
    console = Driver(bot)
    console.say("orga", 'jahrgang anlegen "Datenschutz" plaetze=3')
    with SlackDouble(users=[HILDE]) as slack:
        config = SlackConfig(
            bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
        )
        runtime = SlackRuntime(bot, config, pace=0.01, flush_interval=0.05)
        runtime.listeners.home.delay = runtime.listeners.home.organiser_delay = 0.02
        url = runtime.start_http("127.0.0.1", 0)
        yield World(bot, console, slack, url, runtime)
        runtime.stop()


def _fill_every_feature(w: World) -> None:
    say = w.console.say
    # Slack first: the registration modal opens with her Slack name and stays open.
    w.slash("anmelden", channel="C0GENERAL")
    wait_for(lambda: w.slack.calls("views.open"), what="registration modal")
    # Registration with every field, on the console.
    answer = say(
        CONSOLE,
        signup(
            CONSOLE,
            name=f'"{NAME}"',
            kommune=TOWN,
            funktion=f'"{FUNCTION}"',
            email=MAIL,
            bueroleitung=f'"{OFFICE_NAME}, {OFFICE_MAIL}"',
        ),
    )
    assert "Platz" in answer, answer
    say("ben", signup("ben"))
    say("orga", f"gastgeber @{CONSOLE} ja")
    # Second and third identity: Slack (with its handle and DM channel) and Matrix.
    w.slash(f"verknuepfen {w.code()}")
    wait_for(lambda: "Verknüpft" in str(w.slack.ephemerals(SLACK)), what="Slack linked")
    assert "Verknüpft" in w.as_identity(Identity("matrix", MATRIX), f"verknuepfen {w.code()}")
    with w.bot.uow_factory() as uow:
        uow.state.put(f"matrix:dm:{MATRIX}", MATRIX_DM)  # as the Matrix adapter keeps it
        uow.commit()
    # Meetings, attendance with needs, topics, polls (named, closed; anonymous), feedback.
    assert "Verstanden" in say(
        "orga",
        'treffen anlegen titel="Auftakt" von="10.12.2026 10 Uhr" bis="11.12.2026 16 Uhr" '
        'ort="Hamburg"',
    )
    say(CONSOLE, 'teilnahme 1 ja essen="ohne Zwiebeln" barrierefreiheit="Rampe" uebernachtung=ja')
    say(CONSOLE, 'thema vorschlagen "Quartier am Marktplatz"')
    say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" sofort')
    say(CONSOLE, "abstimmen 1 2")
    say("ben", "abstimmen 1 1")
    say("orga", "umfrage schliessen 1")
    say("orga", 'umfrage "Geheim?" "Ja" "Nein" anonym sofort')
    say(CONSOLE, "abstimmen 2 1")
    say("orga", 'feedback starten titel="Musterstadt" fuer=@ben bis="übermorgen" sofort')
    say(CONSOLE, f"feedback 1 antworten 1. Gut 2. Risiko 3. {FEEDBACK_TEXT}", dm=True)
    say("orga", "feedback schliessen 1")
    say("orga", f'feedback starten titel="Quartiersidee" fuer=@{CONSOLE} bis="übermorgen" sofort')
    # Her networking profile with a Vorhaben of her own words, an introduction to Ben (accepted:
    # the DM to Ben gives her contact details).
    assert "Profil" in say(
        CONSOLE,
        f'profil aendern themen="Pflege, Mobilität" vorhaben="{PROJECT}" groesse=Kleinstadt',
    )
    say(CONSOLE, "vorstellen @ben thema=Pflege")
    assert "Schön!" in say("ben", "vorstellen annehmen")  # Ben gets her contact details
    # Reminders, her data export, an export naming her sent to someone else, a DM on Slack.
    say(CONSOLE, "erinnern morgen 9 Uhr; an die Anreise denken", dm=True)
    say(CONSOLE, "meine-daten", dm=True)
    say("orga", "export teilnehmende")
    say("orga", f'ankuendigen "Willkommen, {NAME}!" sofort')
    w.slash("ueberblick")
    wait_for(w.drained, what="Slack outbox drained")


def test_after_forget_no_trace_is_left_anywhere(
    world: World, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _fill_every_feature(world)
    slack_dm = world.slack.dm_channel_for(SLACK)
    secrets = [
        NAME,
        MAIL,
        TOWN,  # unique to her: neither with her name nor with her pseudonym
        OFFICE_NAME,
        OFFICE_MAIL,
        f"console:{CONSOLE}",
        SLACK,
        MATRIX,
        MATRIX_DM,
        HANDLE,
        slack_dm,
        "ohne Zwiebeln",
        "an die Anreise denken",
        FEEDBACK_TEXT,  # her own words in a named feedback answer
        FUNCTION,  # free text since issue 15: as personal as her name
        PROJECT,  # her Vorhaben in the networking profile
    ]
    before = _database(bot)
    assert all(
        s in before
        for s in (
            NAME,
            MAIL,
            TOWN,
            OFFICE_NAME,
            SLACK,
            MATRIX,
            HANDLE,
            FEEDBACK_TEXT,
            FUNCTION,
            PROJECT,
        )
    )
    assert "slack:form:" in before and "channel_pacing" in before
    # erased from Slack: the Home refresh that follows must not bring her back
    world.slash("vergessen ja")
    wait_for(
        lambda: "kennt Sie nicht mehr" in str(world.slack.ephemerals(SLACK)),
        what="erasure answer",
    )
    # the Home refresh that follows the request: a neutral page, nobody re-created
    wait_for(
        lambda: "/stadtlabor hilfe" in json.dumps(world.slack.home_view(SLACK), ensure_ascii=False),
        what="neutral Home tab",
    )
    world.console.flush()
    wait_for(world.drained, what="corrections sent")
    bot.due.run_due(bot.clock.now())  # the next tick drops the delivered corrections
    with bot.uow_factory() as uow:
        erased = uow.session.scalars(
            select(Person).where(Person.pseudonym.startswith("Person-"))  # not a linked account
        ).one()
        assert erased.function is None and erased.municipality is None
        pseudonym = erased.pseudonym
        assert uow.persons.get_by_identity("slack", SLACK) is None

    places = {
        "database": _database(bot),
        "console messages": "\n".join(_current_console_texts(world.console.messenger)),
        "Slack messages": "\n".join(
            f"{m.channel} {m.text} {block_texts(m.blocks or [])}" for m in world.slack.messages()
        ),
        "Slack Home tabs": json.dumps(list(world.slack.state.home_views.values())),
        "logs": "\n".join(record.getMessage() for record in caplog.records),
    }
    found = {
        (where, secret) for where, text in places.items() for secret in secrets if secret in text
    }
    if found:  # say where exactly
        for where, text in places.items():
            for line in text.splitlines():
                if any(secret in line for secret in secrets):
                    print(where, "::", line[:400])
    assert not found, sorted(found)
    assert pseudonym and f"{pseudonym} (" not in places["database"]
