"""benachrichtigung chat|email|beides, where a DM goes (bot.notifications.routes), office
copies, whom an address belongs to, and the new fields in meine-daten and vergessen."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app import Bot
from bot.identity import Identity
from bot.notifications import describe_recipient, office_copies, routes
from bot.services import itip
from storage.models import Meeting, Person
from storage.models_meetings import MeetingInvitation
from tests.helpers import Driver, signup


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    return d


def _person(bot: Bot, name: str) -> int:
    with bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("console", name)
        assert person is not None
        return person.id


def _routes(bot: Bot, person_id: int) -> list[str]:
    with bot.uow_factory() as uow:
        return [str(i) for i in routes(uow, person_id)]


def test_chat_by_default_for_chat_users_and_the_choice_is_kept(driver: Driver, bot: Bot) -> None:
    driver.say("anna", signup("anna"))
    anna = _person(bot, "anna")
    assert _routes(bot, anna) == ["console:anna"]
    assert "Sie erhalten Nachrichten des Bots im Chat." in driver.say("anna", "benachrichtigung")
    answer = driver.say("anna", "benachrichtigung email")
    assert "Gespeichert: Sie erhalten Nachrichten des Bots per E-Mail an anna@example.org" in answer
    assert _routes(bot, anna) == ["email:anna@example.org"]
    driver.say("anna", "benachrichtigung beides")
    assert _routes(bot, anna) == ["console:anna", "email:anna@example.org"]
    driver.say("anna", "benachrichtigung chat")
    assert _routes(bot, anna) == ["console:anna"]


def test_english_words_and_answers(driver: Driver, bot: Bot) -> None:
    driver.say("anna", signup("anna"))
    driver.say("anna", "sprache en")
    answer = driver.say("anna", "notifications both")
    assert "Saved: you receive the bot's messages in the chat and by e-mail to" in answer
    assert _routes(bot, _person(bot, "anna")) == ["console:anna", "email:anna@example.org"]
    wrong = driver.say("anna", "notifications pigeon")
    assert "Please choose “notifications chat”" in wrong


def test_e_mail_without_an_address_says_how_to_give_one(driver: Driver, bot: Bot) -> None:
    driver.say("otto", "hilfe")  # known to the bot, no address
    answer = driver.say("otto", "benachrichtigung email")
    assert "Für Nachrichten per E-Mail brauche ich Ihre Adresse" in answer
    assert "benachrichtigung email email=name@kommune.de" in answer
    assert _routes(bot, _person(bot, "otto")) == ["console:otto"]
    answer = driver.say("otto", "benachrichtigung email email=Otto@Rathaus-Müllheim.DE")
    assert "per E-Mail an Otto@rathaus-müllheim.de" in answer
    assert _routes(bot, _person(bot, "otto")) == ["email:Otto@rathaus-müllheim.de"]


def test_an_invalid_address_is_refused_in_german_and_nothing_changes(
    driver: Driver, bot: Bot
) -> None:
    driver.say("anna", signup("anna"))
    answer = driver.say("anna", "benachrichtigung email email=anna@@example")
    assert "„anna@@example“ ist keine gültige E-Mail-Adresse" in answer
    answer = driver.say("anna", "benachrichtigung bueroleitung=buero")
    assert "„buero“ ist keine gültige E-Mail-Adresse" in answer
    with bot.uow_factory() as uow:
        person = uow.persons.get(_person(bot, "anna"))
        assert person is not None
        assert (person.email, person.notify_via, person.office_email) == (
            "anna@example.org",
            None,
            None,
        )


def test_people_without_chat_get_e_mail(driver: Driver, bot: Bot) -> None:
    driver.say(
        "orga",
        'teilnehmende hinzufuegen name="Ben Beispiel" kommune=Beispielstadt '
        "funktion=Beigeordneter email=ben@beispielstadt.de",
    )
    with bot.uow_factory() as uow:
        [ben] = uow.persons.find_by_name("Ben Beispiel")
        assert uow.persons.identities_of(ben.id) == []
        assert [str(i) for i in routes(uow, ben.id)] == ["email:ben@beispielstadt.de"]
        ben.notify_via = "chat"  # a choice that cannot be served falls back, nothing is lost
        assert [str(i) for i in routes(uow, ben.id)] == ["email:ben@beispielstadt.de"]
        info = describe_recipient(uow, "BEN@beispielstadt.de", default_language="de")
        assert (info.reason, info.name, info.language) == ("person", "Ben Beispiel", "de")


def test_office_copies_from_the_command_or_the_registration(driver: Driver, bot: Bot) -> None:
    driver.say("anna", signup("anna", bueroleitung="buero@annastadt.de"))
    anna = _person(bot, "anna")
    with bot.uow_factory() as uow:
        assert office_copies(uow, anna) == [Identity("email", "buero@annastadt.de")]
        info = describe_recipient(uow, "buero@annastadt.de", default_language="de")
        assert (info.reason, info.on_behalf_of) == ("office", "Anna Muster")
    driver.say("anna", "sprache en")
    answer = driver.say("anna", "notifications office=vorzimmer@annastadt.de")
    assert "Copies of invitations go to your office contact: vorzimmer@annastadt.de." in answer
    with bot.uow_factory() as uow:
        assert office_copies(uow, anna) == [Identity("email", "vorzimmer@annastadt.de")]
        info = describe_recipient(uow, "vorzimmer@annastadt.de", default_language="de")
        assert (info.reason, info.on_behalf_of, info.language) == ("office", "Anna Muster", "en")
        stranger = describe_recipient(uow, "x@example.net", default_language="de")
        assert stranger.reason == "unknown"
    driver.say("anna", "notifications office=keine")
    with bot.uow_factory() as uow:  # the registration's office contact is what is left
        assert office_copies(uow, anna) == [Identity("email", "buero@annastadt.de")]


def test_an_office_contact_that_is_a_name_gets_no_mail(driver: Driver, bot: Bot) -> None:
    driver.say("anna", signup("anna", bueroleitung='"Frau Vorzimmer"'))
    with bot.uow_factory() as uow:
        assert office_copies(uow, _person(bot, "anna")) == []


def test_my_data_shows_and_forget_erases_the_notification_fields(driver: Driver, bot: Bot) -> None:
    driver.say("anna", signup("anna"))
    driver.say("anna", "benachrichtigung beides bueroleitung=buero@annastadt.de")
    driver.say(
        "orga", 'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr"'
    )
    with bot.uow_factory() as uow:  # the invitations went out
        meeting = uow.session.scalars(select(Meeting)).one()
        for pending in itip.plan(uow, meeting):
            itip.record(uow, pending, bot.clock.now())
        uow.commit()
    driver.say("anna", "meine-daten")
    export = [s for s in driver.messenger.transcript if s.kind == "file"][-1]
    data = json.loads(export.content or b"")
    assert data["benachrichtigung"]["weg"] == "beides"
    assert data["benachrichtigung"]["bueroleitung_email"] == "buero@annastadt.de"
    assert "Benachrichtigung: Chat oder E-Mail" in export.text
    sent = data["versandte_einladungen"]
    assert sorted((i["an"], i["als"], i["art"]) for i in sent) == [
        ("anna@example.org", "person", "REQUEST"),
        ("buero@annastadt.de", "office", "REQUEST"),
    ]
    anna = _person(bot, "anna")
    driver.say("anna", "vergessen ja")
    with bot.uow_factory() as uow:
        person = uow.session.get(Person, anna)
        assert person is not None
        assert (person.notify_via, person.office_email, person.email) == (None, None, None)
        assert routes(uow, anna) == [] and office_copies(uow, anna) == []
        assert uow.session.scalars(select(MeetingInvitation)).all() == []
