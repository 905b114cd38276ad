"""Findings of the adversarial review (issues 14 and 15): each test failed before its fix."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import func, select

from app import Bot
from bot.clock import SimulatedClock
from bot.commands import build_registry
from bot.i18n import LOCALE_DIR, translations
from bot.router import parse_line
from bot.services.privacy_traces import purge_expired_state
from storage.models import AgendaItem, Cohort, KeyValue, Person, Poll, Reminder
from tests.helpers import Driver, signup


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    assert "angelegt" in d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=4 sofort')
    d.say("anna", signup("anna"))
    d.messenger.transcript.clear()
    return d


def _polls(bot: Bot) -> int:
    with bot.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Poll)) or 0)


def test_ja_never_publishes_a_deadline_other_than_the_previewed_one(
    driver: Driver, clock: SimulatedClock
) -> None:
    """Preview at 23:50 says "Dienstag 12:00"; ``ja`` at 00:10 published Wednesday 12:00."""
    berlin = ZoneInfo("Europe/Berlin")
    clock.set(datetime(2026, 12, 7, 23, 50, tzinfo=berlin))
    preview = driver.say("orga", 'umfrage "Wann?" "A" "B" bis="morgen 12 Uhr"')
    assert "8. Dezember 2026, 12:00" in preview
    clock.advance(timedelta(minutes=20))
    answer = driver.say("orga", "ja")
    assert _polls(driver.bot) == 0  # nothing published that was not previewed
    assert "geändert" in answer and "9. Dezember 2026, 12:00" in answer  # the new preview
    assert "Umfrage 1 ist angelegt" in driver.say("orga", "ja")  # this one was seen
    assert _polls(driver.bot) == 1


def test_ja_in_the_dm_during_a_dialog_is_not_silently_taken_as_the_answer(
    driver: Driver,
) -> None:
    """The preview says "ja here or in the DM"; with a dialog open the DM's "ja" became the
    dialog's answer (the organiser's name was stored as "ja") and nothing was published."""
    driver.say("orga", "anmelden", dm=True)  # the dialog asks for the name
    assert "Vorschau" in driver.say("orga", 'ankuendigen "Hallo"')
    asked = driver.say("orga", "ja", dm=True)
    assert "Dialog abbrechen" in asked  # asked, not guessed
    answer = driver.say("orga", "ja", dm=True)
    assert "verschickt" in answer
    assert any("Hallo" in p for p in driver.messenger.texts("post"))
    with driver.bot.uow_factory() as uow:
        names = list(uow.session.scalars(select(Person.display_name)))
    assert "ja" not in names


def _state_keys(bot: Bot) -> list[str]:
    with bot.uow_factory() as uow:
        return list(uow.session.scalars(select(KeyValue.key)))


def test_erasure_drops_a_pending_preview_and_meine_daten_shows_it(driver: Driver) -> None:
    """A participant's poll preview (her own question, where she typed it) stayed in bot_state
    under her person id after ``vergessen ja``, and ``meine-daten`` did not mention it."""
    driver.say("anna", 'umfrage "Soll mein Geheimprojekt kommen?" "Ja" "Nein"')
    assert any(k.startswith("confirm:") for k in _state_keys(driver.bot))
    driver.say("anna", "meine-daten", dm=True)
    files = [s.content for s in driver.messenger.transcript if s.filename == "meine-daten.json"]
    assert b"Soll mein Geheimprojekt kommen?" in (files[-1] or b"")
    driver.say("anna", "vergessen ja", dm=True)
    assert not any(k.startswith("confirm:") for k in _state_keys(driver.bot))


def test_an_unconfirmed_preview_is_dropped_after_its_hour(
    driver: Driver, clock: SimulatedClock
) -> None:
    """A preview nobody confirmed stayed in bot_state for ever (only Slack forms and linking
    codes carried an expiry the housekeeping job reads)."""
    driver.say("orga", 'ankuendigen "Vertraulich: Haushaltssperre"')
    clock.advance(timedelta(minutes=61))
    with driver.bot.uow_factory() as uow:
        purge_expired_state(uow, clock.now())
        uow.commit()
    assert not any(k.startswith("confirm:") for k in _state_keys(driver.bot))


def test_a_closed_cohort_is_readable_in_the_direct_chat(driver: Driver) -> None:
    """After ``jahrgang abschliessen`` a participant's DM treated her as an outsider: "nur für
    Teilnehmende … melden Sie sich mit anmelden an" for ``umfragen``/``treffen 1``, "noch
    keinem Jahrgang zugeordnet" in ``ueberblick`` — although reads are promised to keep working."""
    driver.say("orga", 'umfrage "Q?" "A" "B" sofort')
    assert "abgeschlossen" in driver.say("orga", "jahrgang abschliessen ja")
    polls = driver.say("anna", "umfragen", dm=True)
    assert "nur für Teilnehmende" not in polls and "Q?" in polls
    assert "Stadtlabor 2026/27" in driver.say("anna", "ueberblick", dm=True)
    refused = driver.say("anna", "abstimmen 1 1", dm=True)
    assert "abgeschlossen" in refused and "anmelden" not in refused
    assert "Anna" in driver.say("orga", "teilnehmende", dm=True)


def test_every_english_alias_named_in_a_message_is_a_command() -> None:
    """The closed-cohort messages told English users to type “vergessen” (forget) and
    “meine-daten” (my data); ``forget`` was answered "Unknown command" (the alias is
    ``forget-me``, and ``my-data``). Every “German” (english) pair in the English catalogue
    whose German side is a command must name that same command in English."""
    registry = build_registry()
    pairs = 0
    wrong = []
    for english in translations("en")._messages.values():  # type: ignore[attr-defined]
        for german, alias in re.findall(r"“([^”]+)” \(([a-z][a-z -]*)\)", english):
            words = re.fullmatch(r"[a-zäöüß][a-zäöüß -]*", german)
            command = registry.resolve(parse_line(german).tokens) if words else None
            if command is None:
                continue
            pairs += 1
            same = registry.resolve(parse_line(alias).tokens)
            if same is None or same[0].key != command[0].key:
                wrong.append((german, alias))
    assert pairs > 10  # the check sees the messages it is about
    assert wrong == []


def test_a_poll_shown_privately_is_in_the_readers_language(driver: Driver) -> None:
    """``poll 1`` (a private answer) came in the cohort's language: an English participant read
    "Umfrage 1 … Stimmzettel abgegeben … Schluss" (issue 15: private answers in the person's)."""
    driver.say("orga", 'umfrage "Q?" "A" "B" anonym bis="in 3 Tagen 12 Uhr" sofort')
    driver.say("anna", "sprache en")
    shown = driver.say("anna", "poll 1", dm=True)
    assert "Poll 1" in shown and "ballots cast" in shown
    for german in ("Umfrage", "Stimmzettel", "Schluss", "anonym ·"):
        assert german not in shown
    # the channel post stays in the cohort's language
    assert any("Umfrage 1: Q?" in p for p in driver.messenger.texts("post"))


def test_meine_daten_in_english_says_voted_in_english(driver: Driver) -> None:
    """An English voter of an anonymous poll read "Poll 1: abgestimmt" in ``my-data``."""
    driver.say("orga", 'umfrage "Q?" "A" "B" anonym sofort')
    driver.say("anna", "sprache en")
    driver.say("anna", "abstimmen 1 1", dm=True)
    driver.messenger.transcript.clear()
    driver.say("anna", "my-data", dm=True)
    text = "\n".join(driver.messenger.texts())
    assert "Poll 1: voted" in text
    assert "abgestimmt" not in text


def test_no_message_is_translated_two_ways_across_the_catalogues() -> None:
    """``Name``/``Kommune`` were "Name"/"Municipality" in erasure.po and "name"/"municipality"
    in strict.po; the file read last won, so ``my-data`` in English showed "name: …" next to
    "E-mail: …". One msgid, one English text."""
    seen: dict[str, str] = {}
    clashes = []
    for path in sorted((LOCALE_DIR / "en" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for m in read_po(handle, locale="en"):
                if not m.id or not m.string or m.fuzzy:
                    continue
                first = seen.setdefault(str(m.id), str(m.string))
                if first != m.string:
                    clashes.append((m.id, first, m.string, path.name))
    assert clashes == []


def test_jahrgang_shows_outsiders_neither_meeting_dates_nor_participant_statistics(
    driver: Driver,
) -> None:
    """``treffen`` and ``teilnehmende`` are refused to outsiders, yet ``jahrgang`` showed them
    "Ende: <last meeting's end + 30 days>" (the last meeting's date) and "Funktionen:
    Bürgermeister/in 1" (the participants' functions: in a group of 20, "Kämmerer/in 1" names
    someone). The same permission rows now apply."""
    driver.say(
        "orga",
        'treffen anlegen titel="Auftakt" von="10.1.2027 10 Uhr" bis="11.1.2027 16 Uhr" ort=Rathaus',
    )
    outsider = driver.say("zed", "jahrgang")
    assert "Plätze:" in outsider
    assert "Ende:" not in outsider and "2027" not in outsider
    assert "Funktionen" not in outsider
    member = driver.say("anna", "jahrgang")
    assert "Ende:" in member and "Funktionen" in member


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('jahrgang anlegen "K9" plaetze=5 moderiertt', "moderiert"),  # created unmoderated
        ("jahrgang anlegen Stadtlabor 2027", "Anführungszeichen"),  # named "Stadtlabor"
    ],
)
def test_jahrgang_anlegen_refuses_words_it_does_not_know(bot: Bot, line: str, said: str) -> None:
    """A mistyped ``moderiert`` created an *unmoderated* cohort (anyone got a seat); an unquoted
    name kept its first word. Both went through without a word."""
    d = Driver(bot)
    answer = d.say("orga", line)
    assert "Plätze." not in answer and said in answer
    with bot.uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Cohort)) == 0
    assert "angelegt" in d.say("orga", 'jahrgang anlegen "K9" moderiert sofort')


def test_treffen_anlegen_refuses_a_word_next_to_titel(driver: Driver) -> None:
    """``treffen anlegen titel="Auftakt" … ort=Hamburg Altona`` dropped "Altona" (a place in two
    words without quotes) and created the meeting in "Hamburg"."""
    line = 'treffen anlegen titel="Auftakt" von="10.1.2027 10 Uhr" bis="11.1.2027" ort=Hamburg'
    answer = driver.say("orga", line + " Altona")
    assert "Altona" in answer and "ist angelegt" not in answer
    assert "Noch keine Treffen" in driver.say("orga", "treffen")


def test_teilnahme_quotes_the_word_it_did_not_understand(driver: Driver) -> None:
    """``teilnahme 1 ja vielleicht`` answered "„ja“ verstehe ich nicht" (issue 15: error messages
    quote what was typed, and the part not understood)."""
    driver.say(
        "orga", 'treffen anlegen titel="Auftakt" von="10.1.2027 10 Uhr" bis="11.1.2027 16 Uhr"'
    )
    answer = driver.say("anna", "teilnahme 1 ja vielleicht")
    assert "„vielleicht“" in answer and "„ja“ verstehe" not in answer


def test_the_overview_of_a_closed_cohort_offers_no_write_buttons(
    driver: Driver, clock: SimulatedClock
) -> None:
    """Closed during its meeting, the cohort's ``ueberblick`` still showed the meeting with
    "Ich komme" / "Ich komme nicht" — buttons for a write the closed cohort refuses."""
    line = 'treffen anlegen titel="Auftakt" von="10.1.2027 10 Uhr" bis="11.1.2027 16 Uhr"'
    driver.say("orga", line)
    clock.set(datetime(2027, 1, 10, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    assert "Ich komme" in driver.say("anna", "ueberblick")
    driver.say("orga", "jahrgang abschliessen ja")
    shown = driver.say("anna", "ueberblick")
    assert "Ich komme" not in shown and "teilnahme 1" not in shown


def test_an_erased_name_does_not_come_back_from_texts_others_wrote(
    driver: Driver, clock: SimulatedClock
) -> None:
    """The posts were corrected, but the rows they are rendered from kept the name: the next
    vote re-rendered "Umfrage 1: Wie fand ihr Bert Brezel?" into the channel, and a channel
    reminder "Bert Brezel bringt Kuchen" was posted the next morning."""
    driver.say("ben", signup("ben", name='"Bert Brezel"'))
    driver.say("orga", 'umfrage "Wie fandet ihr Bert Brezel?" "gut" "schlecht" sofort')
    driver.say("orga", "erinnern kanal morgen 9 Uhr; Bert Brezel bringt Kuchen")
    driver.say(
        "orga", 'treffen anlegen titel="Auftakt" von="10.1.2027 10 Uhr" bis="11.1.2027 16 Uhr"'
    )
    driver.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11 Uhr" titel="Vortrag Bert Brezel"')
    driver.say("ben", "vergessen ja", dm=True)
    driver.messenger.transcript.clear()
    driver.say("anna", "abstimmen 1 1")
    clock.advance(timedelta(days=1))
    driver.bot.due.run_due(clock.now())
    driver.flush()
    driver.say("orga", "agenda 1")
    assert "Brezel" not in "\n".join(driver.messenger.texts())
    with driver.bot.uow_factory() as uow:
        texts = [
            *uow.session.scalars(select(Poll.question)),
            *uow.session.scalars(select(Reminder.text)),
            *uow.session.scalars(select(AgendaItem.title)),
        ]
    assert not any("Brezel" in (t or "") for t in texts)
