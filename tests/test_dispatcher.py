"""The dispatcher: every input gets a message or nothing, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import Bot, build_bot
from bot.clock import SimulatedClock
from tests.conftest import START
from tests.helpers import Driver, make_settings, request

COMMAND_WORDS = [
    "hilfe",
    "help",
    "sprache",
    "anmelden",
    "jahrgang",
    "umfrage",
    '"',
    "„",
    "=",
    "@anna",
    "<!channel>",
    "\x00",
    "ß",
    "ä",
    "\n",
    " ",
]


@pytest.fixture(scope="module")
def fuzz_bot(tmp_path_factory: pytest.TempPathFactory) -> Bot:
    path = tmp_path_factory.mktemp("fuzz") / "f.db"
    return build_bot(make_settings(f"sqlite:///{path}"), SimulatedClock(START))


def _check(bot: Bot, text: str, dm: bool) -> None:
    replies = bot.dispatcher.handle(request("fuzzer", text, dm=dm))
    for reply in replies:
        assert reply.message is not None or reply.form is not None
        if reply.message is not None:
            rendered = reply.message.plain_text()
            assert rendered.strip()
            assert "Traceback" not in rendered
            assert "Entschuldigung, dabei ist ein Fehler" not in rendered  # no unexpected errors


line = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(COMMAND_WORDS), max_size=12).map(" ".join),
)


@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=line, dm=st.booleans())
def test_router_fuzz(fuzz_bot: Bot, text: str, dm: bool) -> None:
    _check(fuzz_bot, text, dm)


@pytest.mark.slow
@settings(
    max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=line, dm=st.booleans())
def test_router_fuzz_long(fuzz_bot: Bot, text: str, dm: bool) -> None:
    _check(fuzz_bot, text, dm)


def test_prefix_only_gives_a_hint(bot: Bot) -> None:
    driver = Driver(bot)
    assert "hilfe" in driver.say("anna", "/stadtlabor")
    assert driver.say("anna", "   ") == ""


def test_organiser_sees_more_help_than_participant(bot: Bot) -> None:
    driver = Driver(bot)
    organiser = driver.say("orga", "hilfe")
    outsider = driver.say("anna", "hilfe")
    assert "Stadtlabor-Bot: was Sie tun können" in organiser
    assert len(organiser.splitlines()) >= len(outsider.splitlines())


def test_language_switch_changes_answers(bot: Bot) -> None:
    driver = Driver(bot)
    assert "Ab jetzt" not in driver.say("anna", "sprache en")
    assert "Unknown command" in driver.say("anna", "xyz")
    assert "Ab jetzt antworte ich Ihnen auf Deutsch." in driver.say("anna", "language de")
    assert "Unbekannter Befehl" in driver.say("anna", "xyz")
    assert "sprache de" in driver.say("anna", "sprache klingonisch")


@pytest.mark.parametrize("text", ['hilfe ""', "hilfe „“", 'HILFE " "', "help    "])
def test_help_with_empty_topic_is_the_general_help(bot: Bot, text: str) -> None:
    assert "Stadtlabor-Bot: was Sie tun können" in Driver(bot).say("anna", text)


@pytest.mark.parametrize(
    ("typed", "never"),
    [
        ("unregister", "anmelden"),
        ("deregister", "anmelden"),
        ("abbrechen", "ablehnen"),
        ("cancel", "ablehnen"),
    ],
)
def test_never_suggests_the_opposite_action(bot: Bot, typed: str, never: str) -> None:
    """`unregister` used to suggest "anmelden", `abbrechen` (no dialog) "ablehnen"."""
    answer = Driver(bot).say("anna", typed)
    assert f"„{never}“" not in answer
    assert "Meinten Sie" not in answer


def test_cancel_without_a_dialog_says_so(bot: Bot) -> None:
    answer = Driver(bot).say("anna", "abbrechen", dm=True)
    assert "keine Eingabe, die „abbrechen“ beenden könnte" in answer


def test_typos_still_get_their_suggestion(bot: Bot) -> None:
    assert "Meinten Sie „abmelden“?" in Driver(bot).say("anna", "abmeldn")
    assert "Meinten Sie „anmelden“?" in Driver(bot).say("anna", "anmeldn")
