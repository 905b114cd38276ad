"""One person across Slack and Matrix: linking identities with a one-time code."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.context import Conversation, Request
from bot.identity import Identity
from storage.models import AuditEntry, Participant, Person, Vote
from storage.models_polls import PollBallot, PollCounter
from tests.helpers import Driver, make_settings, signup

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


# -- issue 14, item 7: a merge never raises a role and never rewrites the audit log ----------
def _audit(bot: Bot) -> list[tuple[int, int | None, str, int | None]]:
    with bot.uow_factory() as uow:
        rows = uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.id, e.actor_person_id, e.action, e.subject_person_id) for e in rows]


def _person(bot: Bot, user: str) -> Person:
    with bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("console", user)
        assert person is not None
        uow.session.expunge(person)
        return person


def _rows(bot: Bot, user: str) -> list[tuple[int, str, bool]]:
    with bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("console", user)
        assert person is not None
        return [(p.cohort_id, p.status, p.is_host) for p in uow.participants.of_person(person.id)]


def _link(d: Driver, asks: str, types: str) -> str:
    code = _code(d.say(asks, "verknuepfen", dm=True))
    return d.say(types, f"verknuepfen {code}", dm=True)


@pytest.mark.parametrize("organiser_asks", [True, False], ids=["organiser-asks", "member-asks"])
def test_linking_with_an_organiser_account_raises_nobody(bot: Bot, organiser_asks: bool) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Verknuepft" plaetze=5')
    assert "Platz 1" in d.say("anna", signup("anna"))
    # audited: anna
    assert "angelegt" in d.say("anna", 'umfrage "Wohin?" "Hamburg" "Bautzen" sofort')
    d.say("chef", "hilfe")
    assert "Programmteam" in d.say("orga", "rolle @chef organisation")
    assert "verschickt" in d.say("chef", 'ankuendigen "Willkommen" sofort')  # audited: chef
    past = _audit(bot)
    anna, chef = _person(bot, "anna"), _person(bot, "chef")
    assert {(a, act) for _, a, act, _ in past} >= {
        (anna.id, "umfrage.anlegen"),
        (chef.id, "ankuendigen"),
    }

    asks, types = ("chef", "anna") if organiser_asks else ("anna", "chef")
    assert "Verknüpft" in _link(d, asks, types)

    for user in ("anna", "chef"):  # one person now, on both accounts: no organiser
        assert not _person(bot, user).is_organiser
        assert "vorbehalten" in d.say(user, "protokoll")
        assert "vorbehalten" in d.say(user, 'ankuendigen "Ich bin jetzt Chef" sofort')
        assert "Wohin?" in d.say(user, "umfragen")  # still the participant she was
    after = _audit(bot)
    assert after[: len(past)] == past  # past entries keep the actor they had
    (merge,) = after[len(past) :]
    assert merge[2] == "verknuepfen"
    log = d.say("orga", "protokoll")
    assert "umfrage.anlegen" in log and "ankuendigen" in log and "verknuepfen" in log
    # an organiser gives the role back, audited
    assert "Programmteam" in d.say("orga", "rolle @chef organisation")
    assert _audit(bot)[-1][2] == "rolle" and _person(bot, "anna").is_organiser


@pytest.mark.parametrize("host_asks", [True, False], ids=["host-asks", "other-asks"])
def test_linking_does_not_carry_the_host_city_role(bot: Bot, host_asks: bool) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Gastgeber" plaetze=5')
    d.say("hanna", signup("hanna"))
    assert "Gastgeberstadt" in d.say("orga", "gastgeber @hanna ja")
    d.say("zweit", "hilfe")  # Hanna's second account, never registered
    asks, types = ("hanna", "zweit") if host_asks else ("zweit", "hanna")
    assert "Verknüpft" in _link(d, asks, types)
    ((_, status, is_host),) = _rows(bot, "zweit")  # one registration, kept, without the flag
    assert status == "confirmed" and not is_host
    assert _rows(bot, "hanna") == _rows(bot, "zweit")
    with bot.uow_factory() as uow:
        assert (
            uow.session.scalar(
                select(func.count())
                .select_from(Participant)
                .where(Participant.status == "confirmed")
            )
            == 1
        )  # the seat is counted once
    assert "Gastgeberstadt" in d.say("orga", "gastgeber @hanna ja")  # granted again, audited
    assert _audit(bot)[-1][2] == "gastgeber"


@pytest.mark.parametrize("active_asks", [True, False], ids=["active-asks", "withdrawn-asks"])
def test_linking_keeps_one_registration_per_cohort(bot: Bot, active_asks: bool) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Einmal" plaetze=1')
    assert "Platz 1" in d.say("alt", signup("alt"))
    d.say("alt", "abmelden ja")
    assert [status for _, status, _ in _rows(bot, "alt")] == ["withdrawn"]
    assert "Platz 1" in d.say("neu", signup("neu", email="neu2@example.org"))
    asks, types = ("neu", "alt") if active_asks else ("alt", "neu")
    assert "Verknüpft" in _link(d, asks, types)
    rows = _rows(bot, "neu")
    assert [status for _, status, _ in rows] == ["confirmed"] and rows == _rows(bot, "alt")
    assert "bereits angemeldet (Platz 1)" in d.say("alt", "anmelden")


def test_the_only_organiser_cannot_link_away_the_role(db_url: str, clock: SimulatedClock) -> None:
    bot = build_bot(make_settings(db_url), clock)  # nobody configured: the role lives in the DB
    try:
        d = Driver(bot)
        d.say("chef", "hilfe")
        with bot.uow_factory() as uow:
            chef = uow.persons.get_by_identity("console", "chef")
            assert chef is not None
            chef.is_organiser = True
            uow.commit()
        d.say("chef", 'jahrgang anlegen "Allein" plaetze=5')
        d.say("anna", signup("anna"))
        assert "Programmteam wäre danach leer" in _link(d, "anna", "chef")
        assert _person(bot, "chef").is_organiser and not _person(bot, "anna").is_organiser
        assert "Protokoll" in d.say("chef", "protokoll")
    finally:
        bot.engine.dispose()


@pytest.mark.parametrize("organiser_asks", [True, False], ids=["organiser-asks", "member-asks"])
def test_configured_organisers_are_never_linked(bot: Bot, organiser_asks: bool) -> None:
    """STADTLABOR_ORGANIZERS makes an identity an organiser at every start: linked, the other
    account would become one at the next start."""
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Konfiguriert" plaetze=5')
    d.say("anna", signup("anna"))
    asks, types = ("orga", "anna") if organiser_asks else ("anna", "orga")
    assert "STADTLABOR_ORGANIZERS werden nicht verknüpft" in _link(d, asks, types)
    assert _person(bot, "anna").id != _person(bot, "orga").id
    assert not _person(bot, "anna").is_organiser


def test_one_person_one_vote_after_linking(bot: Bot) -> None:
    """Both accounts voted while both had a seat; one withdrew; linking leaves one ballot."""
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Eine Stimme" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("zweit", signup("zweit"))
    assert "Umfrage 1" in d.say("orga", 'umfrage "Wohin?" "Hamburg" "Bautzen" sofort')
    assert "Umfrage 2" in d.say("orga", 'umfrage "Wann?" "Mai" "Juni" sofort')
    for user in ("anna", "zweit"):
        assert "gezählt" in d.say(user, "abstimmen 1 1")
    assert "gezählt" in d.say("zweit", "abstimmen 2 2")  # only the second account voted here
    d.say("zweit", "abmelden ja")
    assert "Verknüpft" in _link(d, "anna", "zweit")
    with bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("console", "zweit")
        assert person is not None
        for poll_id in (1, 2):
            ballots = list(
                uow.session.scalars(select(PollBallot).where(PollBallot.poll_id == poll_id))
            )
            counter = uow.session.get(PollCounter, poll_id)
            assert counter is not None and counter.ballots == len(ballots) == 1
            assert ballots[0].person_id == person.id
        assert (
            uow.session.scalar(select(func.count()).select_from(Vote).where(Vote.poll_id == 1)) == 1
        )
    assert "ist geändert" in d.say("anna", "abstimmen 2 1")  # the moved ballot, not a new one
    with bot.uow_factory() as uow:
        counter = uow.session.get(PollCounter, 2)
        assert counter is not None and counter.ballots == 1


def test_a_code_of_the_merged_account_no_longer_works(bot: Bot) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Alt" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("zweit", "hilfe")
    stale = _code(d.say("zweit", "verknuepfen", dm=True))
    assert "Verknüpft" in _link(d, "anna", "zweit")  # zweit's person is merged into anna's
    d.say("dritt", "hilfe")
    assert "gibt es nicht mehr" in d.say("dritt", f"verknuepfen {stale}", dm=True)
