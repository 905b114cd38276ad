"""English output has no German words, German output no English ones (every message id).

Quoted parts (command names, examples, user data in “…” or „…“), placeholders and
``key=value`` examples are code, not language, and are left out of the check."""

from __future__ import annotations

import re

from bot.i18n import translator
from tests.test_i18n import source_messages

GERMAN = {
    "und", "oder", "nicht", "Sie", "bitte", "Bitte", "der", "die", "das", "ist", "mit", "für",
    "auf", "eine", "einer", "werden", "wird", "noch", "schon", "Ihre", "Ihr", "Ihnen", "zum",
    "zur", "vom", "beim", "auch", "Uhr", "Jahrgang", "Umfrage", "Teilnehmende", "Treffen",
    "Runde", "gibt", "kein", "keine", "nur", "wurde", "sind", "haben", "hat", "abgestimmt",
    "bestätigt", "Warteliste", "gelöscht", "geschlossen", "offen",
}  # fmt: skip
ENGLISH = {
    "the", "and", "please", "Please", "you", "your", "is", "not", "with", "for", "poll",
    "meeting", "cohort", "round", "has", "have", "confirmed", "waitlist", "closed",
}  # fmt: skip
CODE = re.compile(
    r"“[^”]*”|„[^“”]*[“”]|\"[^\"]*\"|‘[^’]*’|«[^»]*»|`[^`]*`|\{[^}]*\}|\S+=\S*|\([^)]*\)"
)
WORD = re.compile(r"[A-Za-zÄÖÜäöüß]+")


def _words(text: str) -> set[str]:
    return set(WORD.findall(CODE.sub(" ", text)))


def test_english_output_has_no_german_words() -> None:
    en = translator("en")
    found = {m: sorted(_words(en(m)) & GERMAN) for m in source_messages()}
    bad = {en(m): hit for m, hit in found.items() if hit}
    assert bad == {}


def test_german_output_has_no_english_words() -> None:
    found = {m: sorted(_words(m) & ENGLISH) for m in source_messages()}
    bad = {m: hit for m, hit in found.items() if hit}
    assert bad == {}


def test_the_check_would_notice_a_german_leftover() -> None:
    assert _words("Your vote is counted, bitte warten") & GERMAN == {"bitte"}
    assert _words("Use “umfrage 3 schliessen” to close it") & GERMAN == set()


READS = (
    "hilfe",
    "hilfe anmelden",
    "hilfe umfrage",
    "meine-daten",
    "teilnehmende",
    "umfragen",
    "jahrgang",
    "ueberblick",
    "vergessen",
    "treffen",
    "agenda 1",
    "feedback",
    "erinnerungen",
)


def test_an_english_participant_sees_english_answers(bot: object) -> None:
    from app import Bot
    from tests.helpers import Driver, signup

    assert isinstance(bot, Bot)
    driver = Driver(bot)
    driver.say("orga", 'jahrgang anlegen "Urban Lab" plaetze=3')
    driver.say(
        "orga",
        'treffen anlegen titel="Kick-off" von="3.3.2027 10 Uhr" bis="4.3.2027 16 Uhr"',
    )
    driver.say("orga", 'umfrage "Topic?" "Housing" "Care" sofort')
    driver.say("anna", "sprache en")
    driver.say("anna", signup("anna"))
    driver.say("ben", signup("ben"))
    driver.say("orga", "sprache en")
    assert "To confirm: forget-me yes" in driver.say("anna", "forget-me")
    bad = {}
    for line in READS:
        for who in ("anna", "orga"):
            answer = driver.say(who, line)
            hit = sorted(_words(answer) & GERMAN)
            if hit:
                bad[f"{who}: {line}"] = (hit, answer[:300])
    assert bad == {}
