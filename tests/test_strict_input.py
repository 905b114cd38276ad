"""Never silently wrong (issue 15, input #1, #5, #6, #7): unknown options are refused with the
closest known one, functions are free text, commands get through guided dialogs, and small
parsing slips (seats, the console clock) say what to do instead."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, select

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.commands import build_registry
from bot.commands.registry import CommandSpec
from bot.router import fold, parse_line
from bot.services.functions import function_category
from handlers.console_app import start_console
from handlers.slack.forms import form_modal
from tests.conftest import START
from tests.helpers import Driver, make_settings, request, signup

COHORT = 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=3'
MEETING = 'treffen anlegen titel="Auftakt" von="12.12.2026 10 Uhr" bis="13.12.2026 16 Uhr"'


def snapshot(bot: Bot) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: 'nothing stored' means this does not change."""
    meta = MetaData()
    meta.reflect(bot.engine)
    with bot.engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(select(t))), key=repr)
            for t in meta.sorted_tables
        }


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    assert "angelegt" in d.say("orga", COHORT)
    return d


# --- #1 unknown options are refused, not ignored ---------------------------------------------


def test_misspelt_seats_are_refused_with_the_closest_option(bot: Bot) -> None:
    """`jahrgang anlegen "K1" platze=3` used to create a cohort with 20 seats."""
    d = Driver(bot)
    before = snapshot(bot)
    answer = d.say("orga", 'jahrgang anlegen "K1" platze=3')
    assert "„platze=“ kenne ich nicht" in answer and "Meinten Sie plaetze=3?" in answer
    assert "angelegt" not in answer
    assert snapshot(bot)["cohorts"] == before["cohorts"] == []


def test_misspelt_place_is_refused_and_no_meeting_is_created(driver: Driver) -> None:
    """`treffen anlegen … ortt="Hamburg"` used to drop the place silently."""
    answer = driver.say("orga", MEETING + ' ortt="Hamburg"')
    assert "„ortt=“ kenne ich nicht" in answer and "Meinten Sie ort=Hamburg?" in answer
    assert "Noch keine Treffen" in driver.say("orga", "treffen")


def test_english_option_names_are_mapped_to_the_german_ones(bot: Bot) -> None:
    """`cohort create "Lab" seats=3` used to create 20 seats."""
    d = Driver(bot)
    assert "3 Plätze" in d.say("orga", 'cohort create "Lab" seats=3')
    created = d.say(
        "orga",
        'meeting create title="Kick-off" from="12.12.2026 10 Uhr" to="13.12.2026 16 Uhr" '
        'place="Hamburg"',
    )
    assert "Kick-off" in created
    assert "Hamburg" in d.say("orga", "treffen")


def test_the_refusal_is_in_the_callers_language(bot: Bot) -> None:
    d = Driver(bot)
    d.say("orga", "sprache en")
    answer = d.say("orga", 'cohort create "Lab" seat=3')
    assert "I do not know “seat=”" in answer and "Did you mean seats=3?" in answer


def test_a_command_without_options_refuses_key_value_words(driver: Driver) -> None:
    answer = driver.say("orga", "themen farbe=rot")
    assert "„farbe=“ verstehe ich daher nicht" in answer and '"farbe=rot"' in answer


def test_seats_must_be_at_least_one(bot: Bot) -> None:
    """`plaetze=-5` used to say "muss eine ganze Zahl sein" — it is one."""
    answer = Driver(bot).say("orga", 'jahrgang anlegen "K" plaetze=-5')
    assert "ganze Zahl ab 1" in answer and "-5" in answer
    assert snapshot(bot)["cohorts"] == []


def test_help_lists_the_options_from_the_same_table(driver: Driver) -> None:
    german = driver.say("orga", "hilfe jahrgang anlegen")
    assert "plaetze= (seats=, capacity=) — Anzahl der Plätze" in german
    assert "anmeldeschluss= (deadline=)" in german
    driver.say("anna", "sprache en")
    english = driver.say("anna", "help treffen anlegen")
    assert "place=" in english and "from= (von=" in english


def test_every_example_and_documented_line_fits_its_option_table() -> None:
    """Nothing that works today is refused: each command's own example, and lines the
    handlers read in other spellings."""
    registry = build_registry()
    lines = [spec.example for spec in registry.specs] + [
        'treffen 1 aendern beginn="10 Uhr" ende="12 Uhr" notes="x" host="Ulm"',
        'programmpunkt 1 von="10 Uhr" bis="11 Uhr" title="x" who=y room=z kind=Pause day=2',
        "teilnahme 1 ja food=vegan accessibility=Rampe overnight=nein",
        'anmelden e-mail=a@b.de municipality=X function=Y consent=ja office=Z cohort="K"',
        'feedback starten title="x" for=@anna until="morgen" questions="a|b" anonymous=ja sofort',
        'umfrage "F?" "A" "B" multiple=2 results=ende until="morgen" host-abstain=ja sofort',
        "umfrage aus themen 1 2 question=Was? anonym=ja sofort",
        "kalender agenda=ja",
        'meine-daten aendern e-mail=a@b.de municipality=X function="Kämmerer" name=Y',
        "erinnern morgen 9 Uhr; a=b ist Text",
        "feedback 1 antworten 1. a=b 2. c",
    ]
    for line in lines:
        parsed = parse_line(line)
        found = registry.resolve(parsed.tokens)
        assert found is not None, line
        found[0].read_options(parsed.options)  # raises when an option is refused


def _with_options() -> list[CommandSpec]:
    return [s for s in build_registry().specs if s.options and not s.free_text]


@st.composite
def misspelt_option(draw: st.DrawFn) -> tuple[CommandSpec, str]:
    """A command with one of its option names changed by one letter (not another name)."""
    spec = draw(st.sampled_from(_with_options()))
    name = draw(st.sampled_from([n for o in spec.options for n in o.names]))
    at = draw(st.integers(0, len(name) - 1))
    letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
    edit = draw(st.sampled_from(["drop", "swap", "insert", "replace"]))
    if edit == "drop" and len(name) > 2:
        typo = name[:at] + name[at + 1 :]
    elif edit == "swap" and at + 1 < len(name):
        typo = name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    elif edit == "insert":
        typo = name[:at] + letter + name[at:]
    else:
        typo = name[:at] + letter + name[at + 1 :]
    known = {fold(n) for o in spec.options for n in o.names}
    typo = typo.strip("-")
    assume(typo[:1].isalpha() and fold(typo) not in known)
    return spec, fold(typo)


@pytest.fixture(scope="module")
def strict_bot(tmp_path_factory: pytest.TempPathFactory) -> Driver:
    path = tmp_path_factory.mktemp("strict") / "s.db"
    bot = build_bot(
        make_settings(f"sqlite:///{path}", organizers="console:orga"), SimulatedClock(START)
    )
    d = Driver(bot)
    d.say("orga", COHORT)
    d.say("anna", signup("anna"))
    d.say("orga", MEETING)
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11 Uhr" titel="Start"')
    return d


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=misspelt_option(), value=st.sampled_from(["3", "ja", '"Hamburg, Körber"']))
def test_one_misspelt_option_is_refused_and_nothing_happens(
    strict_bot: Driver, case: tuple[CommandSpec, str], value: str
) -> None:
    """Property: for every command with options, one misspelt option → refused, the answer
    names the word, nothing is published or stored."""
    spec, typo = case
    before = snapshot(strict_bot.bot)
    strict_bot.messenger.transcript.clear()
    answer = strict_bot.say("orga", f"{spec.key} 1 {typo}={value}")
    assert f"„{typo}=“" in answer, answer
    assert "nichts ausgeführt" in answer
    assert snapshot(strict_bot.bot) == before  # no outbox row, no change at all
    assert strict_bot.messenger.transcript == []  # nothing sent to anyone


# --- #5 functions are free text --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "category"),
    [
        ("Oberbürgermeister", "Bürgermeister/in"),
        ("Oberbürgermeisterin", "Bürgermeister/in"),
        ("Mayor", "Bürgermeister/in"),
        ("Lord Mayor", "Bürgermeister/in"),
        ("Deputy Mayor", "Beigeordnete/r"),
        ("Erste Beigeordnete", "Beigeordnete/r"),
        ("Kämmerer", "Kämmerer/in"),
        ("Dezernentin", "Fachdezernent/in"),
        ("Stadtplanerin", "Stadtplaner/in"),
        ("Demographiebeauftragter", "Demografiebeauftragte/r"),
        ("Stabsstelle Demografie", "Stabsstelle"),
        ("Leiterin Bürgerbüro", "Sonstige"),
    ],
)
def test_function_categories(typed: str, category: str) -> None:
    assert function_category(typed) == category


@pytest.mark.parametrize(
    "function",
    [
        "Oberbürgermeister",
        "Oberbürgermeisterin",
        "Kämmerer",
        "Dezernentin",
        '"Stabsstelle Demografie"',
        "Mayor",
    ],
)
def test_the_invited_functions_can_register(driver: Driver, function: str) -> None:
    """These were refused ("steht nicht zur Wahl") — exactly the people the programme invites."""
    assert "Platz 1 von 3" in driver.say("anna", signup("anna", funktion=function))
    assert function.strip('"') in driver.say("orga", "teilnehmende")  # stored as typed


def test_the_dialog_suggests_functions_and_takes_a_number_or_any_text(driver: Driver) -> None:
    driver.say("ben", "anmelden kommune=Beispielstadt")
    asked = driver.say("ben", "Ben Beispiel", dm=True)
    assert "Ihre Funktion" in asked and "4. Kämmerer/in" in asked and "eigene" in asked
    assert "Ihre E-Mail" in driver.say("ben", "4", dm=True)
    driver.say("ben", "ben@beispielstadt.de", dm=True)
    driver.say("ben", "-", dm=True)
    assert "Platz 1 von 3" in driver.say("ben", "ja", dm=True)
    assert "Beispielstadt – Kämmerer/in" in driver.say("orga", "teilnehmende")


def test_the_slack_form_suggests_functions_in_a_free_text_field(driver: Driver) -> None:
    req = dataclasses.replace(request("cara", "anmelden"), can_open_forms=True)
    (reply,) = driver.bot.dispatcher.handle(req)
    assert reply.form is not None
    modal = form_modal(reply.form, {}, "de")
    block = next(b for b in modal["blocks"] if b.get("block_id") == "funktion")
    assert block["element"]["type"] == "plain_text_input"
    assert "Bürgermeister/in" in block["element"]["placeholder"]["text"]


# --- #6 guided dialogs let commands through --------------------------------------------------


def _to_consent(driver: Driver, user: str) -> None:
    driver.say(user, f"anmelden name=X kommune=Y funktion=Z email={user}@example.org")
    assert "willige ein" in driver.say(user, "-", dm=True)  # no office contact


def test_a_command_during_a_dialog_runs_and_the_dialog_stays_open(driver: Driver) -> None:
    """`hilfe`, `ueberblick` during a dialog used to be answered "steht nicht zur Wahl"."""
    _to_consent(driver, "anna")
    helped = driver.say("anna", "hilfe", dm=True)
    assert "was Sie tun können" in helped and "Ihre Eingabe läuft weiter" in helped
    overview = driver.say("anna", "ueberblick", dm=True)
    assert "Ihr Überblick" in overview and "läuft weiter" not in overview  # said once
    assert "Platz 1 von 3" in driver.say("anna", "ja", dm=True)  # the dialog was still open


def test_a_command_that_could_be_an_answer_is_asked_about(driver: Driver) -> None:
    driver.say("ben", "anmelden")
    asked = driver.say("ben", "treffen", dm=True)  # the name field: a name, or the command?
    assert "„treffen“ ist auch ein Befehl. Dialog abbrechen" in asked
    assert "Ihre Kommune" in driver.say("ben", "nein", dm=True)  # taken as the name
    assert "Dialog abbrechen" in driver.say("ben", "hilfe", dm=True)
    ran = driver.say("ben", "ja", dm=True)
    assert "Eingabe abgebrochen" in ran and "was Sie tun können" in ran
    assert "keine Eingabe" in driver.say("ben", "abbrechen", dm=True)


def test_a_long_answer_is_quoted_back_shortened(driver: Driver) -> None:
    driver.say("cara", "anmelden name=Cara kommune=Y funktion=Z")
    answer = driver.say("cara", "x" * 240, dm=True)
    assert "keine gültige E-Mail-Adresse" in answer
    assert "x" * 60 + "…" in answer and "x" * 61 not in answer


# --- #7 small parsing: the console clock -----------------------------------------------------


def test_console_clock_takes_seconds_and_never_prints_python_errors(tmp_path: Any) -> None:
    """`!clock +1s` used to print "Invalid isoformat string: '+1s'"."""
    out = io.StringIO()
    settings_ = make_settings(f"sqlite:///{tmp_path}/c.db")
    start_console(
        settings_, build_bot, ["!clock 2030-01-01T09:00", "!clock +1s", "!clock +1x"], out
    )
    text = out.getvalue()
    assert "[clock] 2030-01-01T09:00" in text and text.count("[clock]") == 2  # +1s moved it
    assert "„+1x“ verstehe ich nicht" in text and "!clock +30s" in text
    assert "isoformat" not in text


def test_the_cohort_counts_functions_by_category(driver: Driver) -> None:
    driver.say("anna", signup("anna", funktion="Oberbürgermeisterin"))
    driver.say("ben", signup("ben", funktion="Mayor"))
    driver.say("cara", signup("cara", funktion="Kämmerer"))
    assert "Funktionen: Bürgermeister/in 2, Kämmerer/in 1" in driver.say("orga", "jahrgang")
    driver.say("orga", "sprache en")
    assert "Functions: Mayor 2, City treasurer 1" in driver.say("orga", "jahrgang")


def test_a_command_that_opens_another_dialog_says_the_first_one_ended(driver: Driver) -> None:
    _to_consent(driver, "anna")
    again = driver.say("anna", "anmelden", dm=True)
    assert "Die vorige Eingabe „Anmeldung: Stadtlabor 20“ ist damit beendet" in again
    assert "Ihr Name" in again  # the new dialog asks its first question


def test_the_refusal_lists_english_option_names_in_english(bot: Bot) -> None:
    d = Driver(bot)
    d.say("orga", "sprache en")
    answer = d.say("orga", 'cohort create "Lab" colour=blue')
    assert "Possible: seats=, deadline=" in answer
