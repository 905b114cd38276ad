"""One person across Slack and Matrix: linking identities with a one-time code."""

from __future__ import annotations

import re
from datetime import timedelta

from app import Bot
from bot.clock import SimulatedClock
from bot.context import Conversation, Request
from bot.identity import Identity
from tests.helpers import Driver, signup

SLACK = Identity("slack", "U0ANNA")
MATRIX = Identity("matrix", "@anna:example.org")


def say(bot: Bot, who: Identity, text: str, channel: str | None = None) -> str:
    conv = Conversation(who.platform, channel, is_direct=channel is None)
    replies = bot.dispatcher.handle(Request(identity=who, conversation=conv, text=text))
    return "\n".join(r.message.plain_text() for r in replies if r.message)


def _code(answer: str) -> str:
    match = re.search(r"Ihr Code: ([A-Z0-9]{8})", answer)
    assert match, answer
    return match.group(1)


def test_linked_identities_are_one_person(bot: Bot) -> None:
    Driver(bot).say("orga", 'jahrgang anlegen "Zwei Plattformen" plaetze=5')
    assert "Platz 1" in say(bot, SLACK, signup("anna"))
    assert "Ihr Name" in say(bot, MATRIX, "anmelden")  # a stranger on Matrix, for now
    assert "Abgebrochen" in say(bot, MATRIX, "abbrechen")
    code = _code(say(bot, SLACK, "verknuepfen"))
    linked = say(bot, MATRIX, f"verknuepfen {code.lower()}")
    assert "slack:U0ANNA" in linked and "matrix:@anna:example.org" in linked
    assert "bereits angemeldet (Platz 1)" in say(bot, MATRIX, "anmelden")
    assert "nicht" in say(bot, MATRIX, f"verknuepfen {code}")  # a code works once
    with bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("matrix", "@anna:example.org")
        assert person is not None and person.email == "anna@example.org"
        assert {f"{i.platform}:{i.external_id}" for i in uow.persons.identities_of(person.id)} == {
            "slack:U0ANNA",
            "matrix:@anna:example.org",
        }


def test_codes_expire_and_double_registrations_are_refused(bot: Bot) -> None:
    Driver(bot).say("orga", 'jahrgang anlegen "Doppelt" plaetze=5')
    say(bot, SLACK, signup("anna"))
    say(bot, MATRIX, signup("anna", email="anna@matrix.example.org"))
    code = _code(say(bot, SLACK, "verknuepfen"))
    assert "denselben Jahrgang" in say(bot, MATRIX, f"verknuepfen {code}")
    assert isinstance(bot.clock, SimulatedClock)
    code = _code(say(bot, SLACK, "verknuepfen"))
    bot.clock.advance(timedelta(minutes=16))
    assert "abgelaufen" in say(bot, MATRIX, f"verknuepfen {code}")
