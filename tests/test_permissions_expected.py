"""The permission table against an independent expectation, and every allowed cell really runs.

``tests/test_permissions.py`` derives its expected answers from ``bot.permissions.PERMISSIONS``,
the table the code enforces: a wrong cell there is a wrong expectation too. Here the expectation
is written by hand from the README's promises and the programme's roles (issue 14):

* the programme team (organisers) may do everything;
* self-service works for everyone, known or not: help, language, the cohort's public facts
  (``jahrgang``: seats, deadline), registering and withdrawing, one's own data (Art. 15-17
  GDPR), linking one's accounts, one's own reminders and one's own overview;
* the programme (meetings, agenda, calendar) is for the cohort's people: confirmed seats, the
  host city and the waitlist (they may move up and must be able to plan); not for outsiders;
* the cohort's work (attendance, topics, polls, feedback, the participant list) needs a
  confirmed seat; the participant list is reduced for non-organisers (no e-mails, no waitlist);
* the host city is a participant with a flag, not a deputy organiser: every sub-action that
  changes the programme (``treffen 1 aendern``, ``teilnahme 1 schliessen`` …) is refused to it.

Then every cell is tried in its own copy of one world: an allowed cell must show the command's
answer (its effect), a refused one the refusal — never the effect.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from app import build_bot
from bot.clock import SimulatedClock
from bot.context import ROLES, Role
from bot.permissions import PERMISSIONS, Access
from tests.conftest import START
from tests.helpers import Driver, make_settings

A: Access = "allowed"
R: Access = "refused"
V: Access = "reduced"
ALL = (A, A, A, A, A)
TEAM = (A, R, R, R, R)
SEAT = (A, A, A, R, R)  # a confirmed seat (host city included)
COHORT = (A, A, A, A, R)  # the cohort's people, waitlist included

# Written by hand (see the module docstring), in the order organiser, host, participant,
# waitlisted, outsider. Never generated from bot.permissions.
EXPECTED: dict[str, tuple[Access, Access, Access, Access, Access]] = {
    "hilfe": (A, V, V, V, V),
    "sprache": ALL,
    "jahrgang": ALL,
    "jahrgang anlegen": TEAM,
    "jahrgang verbinden": TEAM,
    "jahrgang abschliessen": TEAM,
    "ankuendigen": TEAM,
    "rolle": TEAM,
    "gastgeber": TEAM,
    "anmelden": ALL,
    "abmelden": ALL,
    "bestaetigen": TEAM,
    "ablehnen": TEAM,
    "teilnehmende": (A, V, V, R, R),
    "teilnehmende hinzufuegen": TEAM,
    "teilnehmende entfernen": TEAM,
    "import teilnehmende": TEAM,
    "export teilnehmende": TEAM,
    "protokoll": TEAM,
    "meine-daten": ALL,
    "meine-daten aendern": ALL,
    "vergessen": ALL,
    "verknuepfen": ALL,
    "benachrichtigung": ALL,  # one's own data: where the bot's messages go
    "treffen": COHORT,
    "treffen anlegen": TEAM,
    "treffen aendern": TEAM,
    "treffen loeschen": TEAM,
    "programmpunkt": TEAM,
    "agenda": COHORT,
    "agenda posten": TEAM,
    "teilnahme": SEAT,
    "teilnahme uebersicht": TEAM,
    "teilnahme schliessen": TEAM,
    "export teilnahme": TEAM,
    "kalender": COHORT,
    "thema vorschlagen": SEAT,
    "themen": SEAT,
    "themen zusammenfuehren": TEAM,
    "themen zurueckziehen": TEAM,
    "umfrage": SEAT,
    "umfrage aus themen": TEAM,
    # networking (issue 18): profiles are for the cohort's people, a waitlisted person sees and
    # keeps only their own; finding and introducing need a seat; tandems are organised
    "profil": (A, A, A, V, R),
    "profil aendern": COHORT,
    "wer kennt sich aus": SEAT,
    "vorstellen": SEAT,
    "vorstellen annehmen": SEAT,
    "vorstellen ablehnen": SEAT,
    "tandems": TEAM,
    "tandems starten": TEAM,
    "tandems stand": TEAM,
    "tandem": SEAT,  # answering "Haben Sie sich ausgetauscht?" needs a place in a tandem
    # Vorhaben check-ins: answered and read by the cohort's seats, scheduled by the team
    "checkin": SEAT,
    "checkin tag": TEAM,
    "checkins": SEAT,
    # the alumni circle: anyone asks their own state; joining checks for a closed cohort
    "alumni": ALL,
    "alumni raum": TEAM,
    "alumni mitglieder": TEAM,
    "alumni import": TEAM,
    "alumni entfernen": TEAM,
    "umfrage schliessen": SEAT,  # one's own poll; organisers any
    "umfragen": SEAT,
    "abstimmen": SEAT,
    "export umfrage": TEAM,
    "feedback": SEAT,
    "feedback starten": TEAM,
    "feedback schliessen": TEAM,
    "export feedback": TEAM,
    "erinnern": ALL,
    "erinnern kanal": TEAM,
    "erinnerungen": ALL,
    "erinnerung": ALL,
    "spaeter": ALL,
    "ueberblick": ALL,
    "nachfassen": TEAM,
    # a login link to the web pages: the cohort's people (each page checks its own command)
    "dashboard": COHORT,
}


def test_the_table_is_the_expected_one_cell_by_cell() -> None:
    assert set(EXPECTED) == set(PERMISSIONS), set(EXPECTED) ^ set(PERMISSIONS)
    wrong = [
        f"{key} / {role}: table says {PERMISSIONS[key][role]}, expected {cell}"
        for key, row in EXPECTED.items()
        for role, cell in zip(ROLES, row, strict=True)
        if PERMISSIONS[key][role] != cell
    ]
    assert not wrong, "\n".join(wrong)


# -- every cell, run ---------------------------------------------------------------------------
USERS: dict[Role, str] = {
    "organiser": "orga",
    "host": "hanna",
    "participant": "paul",
    "waitlisted": "wanda",
    "outsider": "otto",
}
REFUSAL = re.compile(r"„[^“]+“ ist (dem Programmteam vorbehalten|nur für Teilnehmende|erst mit)")
MEETING = 'von="10.12.2026 10:00" bis="11.12.2026 16:00"'
LATER = 'von="14.01.2027 10:00" bis="15.01.2027 16:00"'


def _signup(user: str) -> str:
    return (
        f'anmelden name="{user.title()} Muster" kommune="{user.title()}stadt" '
        f"funktion=Stabsstelle email={user}@example.org zustimmung=ja"
    )


def _world(path: Path) -> None:
    """Organiser, host city, participant, waitlisted, outsider; meeting 1 with an agenda,
    poll 1, topics 1 and 2, feedback round 1 (about the host city)."""
    bot = build_bot(
        make_settings(f"sqlite:///{path}", organizers="console:orga"), SimulatedClock(START)
    )
    d = Driver(bot)
    steps = [
        ("orga", 'jahrgang anlegen "Rechte" plaetze=2', "angelegt"),
        ("hanna", _signup("hanna"), "Platz 1"),
        ("paul", _signup("paul"), "Platz 2"),
        ("wanda", _signup("wanda"), "Warteliste"),
        ("orga", "gastgeber @hanna ja", "Gastgeberstadt"),
        ("otto", "hilfe", "was Sie tun können"),
        ("olga", "hilfe", "was Sie tun können"),  # a second organiser: orga may erase herself
        ("orga", "rolle @olga organisation", "Programmteam"),
        ("orga", f'treffen anlegen titel="Auftakt" {MEETING} ort="Rathaus"', "angelegt"),
        ("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Sanierung"', "hinzugefügt"),
        ("orga", 'umfrage "Welches Thema?" "Wohnen" "Mobilität" sofort', "Umfrage 1"),
        ("paul", 'thema vorschlagen "Radwege"', ""),
        ("hanna", 'thema vorschlagen "Marktplatz"', ""),
        ("orga", 'feedback starten titel="Plan" fuer=@hanna bis="Freitag 18 Uhr" sofort', "1"),
    ]
    for user, line, expect in steps:
        answer = d.say(user, line)
        assert expect in answer, (user, line, answer)
    bot.engine.dispose()


Run = Callable[[Driver, str], str]


def _line(text: str, channel: str | None = None) -> Run:
    if channel is not None:
        return lambda d, user: d.say(user, text, channel=channel)
    return lambda d, user: d.say(user, text)


def _then(first: str, pattern: str, second: str) -> Run:
    """Type ``first``, take the number ``pattern`` finds in its answer, type ``second``."""

    def run(d: Driver, user: str) -> str:
        answer = d.say(user, first)
        match = re.search(pattern, answer)
        return d.say(user, second.format(n=match.group(1))) if match else answer

    return run


# key → (what the caller does, what the answer shows when the command ran)
CASES: dict[str, tuple[Run, str]] = {
    "hilfe": (_line("hilfe"), "was Sie tun können"),
    "sprache": (_line("sprache de"), "Deutsch"),
    "jahrgang": (_line("jahrgang"), "Plätze: 2 von 2"),
    "jahrgang anlegen": (_line('jahrgang anlegen "Zwei" plaetze=3', "#zwei"), "angelegt"),
    "jahrgang verbinden": (
        _line('jahrgang verbinden "Rechte"', "#zwei"),
        "gehört jetzt zum Jahrgang",
    ),
    "jahrgang abschliessen": (_line("jahrgang abschliessen ja"), "abgeschlossen"),
    "ankuendigen": (_line('ankuendigen "Willkommen" sofort'), "verschickt"),
    "rolle": (_line("rolle @paul organisation"), "gehört jetzt zum Programmteam"),
    "gastgeber": (_line("gastgeber @paul ja"), "gehört jetzt zur Gastgeberstadt"),
    "anmelden": (lambda d, u: d.say(u, _signup(u)), "angemeldet|Warteliste"),
    "abmelden": (_line("abmelden ja"), "abgemeldet|zurückgezogen|nicht angemeldet"),
    "bestaetigen": (_line("bestaetigen @wanda"), "moderiert|bestätigt|Plätze sind belegt"),
    "ablehnen": (_line("ablehnen @wanda"), "moderiert|abgelehnt|Plätze sind belegt"),
    "teilnehmende": (_line("teilnehmende"), "Paul Muster"),
    "teilnehmende hinzufuegen": (
        _line('teilnehmende hinzufuegen name="Ben B" kommune=B funktion=Stabsstelle email=b@b.de'),
        "Ben B",
    ),
    "teilnehmende entfernen": (_line("teilnehmende entfernen @paul ja"), "entfernt"),
    "import teilnehmende": (_line("import teilnehmende"), "(?i)csv|datei"),
    "export teilnehmende": (_line("export teilnehmende"), "Direktchat"),
    "protokoll": (_line("protokoll"), "Protokoll"),
    "meine-daten": (_line("meine-daten"), "in Ihren Direktchat"),
    "meine-daten aendern": (
        _line("meine-daten aendern funktion=Stabsstelle"),
        "Geändert: funktion=Stabsstelle",
    ),
    "vergessen": (_line("vergessen ja"), "gelöscht|nichts gespeichert"),
    "verknuepfen": (_line("verknuepfen"), "Ihr Code"),
    "benachrichtigung": (
        _line("benachrichtigung chat"),
        "Gespeichert: Sie erhalten Nachrichten des Bots im Chat",
    ),
    "treffen": (_line("treffen"), "Auftakt"),
    "treffen anlegen": (_line(f'treffen anlegen titel="Zwei" {LATER}'), "Treffen 2"),
    "treffen aendern": (_line('treffen 1 aendern ort="Bautzen"'), "ist geändert"),
    "treffen loeschen": (_line("treffen 1 loeschen ja"), "Treffen 1 „Auftakt“ ist gelöscht"),
    "programmpunkt": (
        _line('programmpunkt 1 von="13 Uhr" bis="14 Uhr" titel="Pause"'),
        "hinzugefügt",
    ),
    "agenda": (_line("agenda 1"), "Sanierung"),
    "agenda posten": (_line("agenda posten 1"), "wird gepostet"),
    "teilnahme": (_line("teilnahme 1 ja"), "Sie kommen|nur bestätigte Teilnehmende"),
    "teilnahme uebersicht": (_line("teilnahme 1 uebersicht"), "Rückmeldungen zu Treffen 1"),
    "teilnahme schliessen": (_line("teilnahme 1 schliessen"), "sind geschlossen"),
    "export teilnahme": (_line("export teilnahme 1"), "CSV-Datei als Direktnachricht"),
    "kalender": (_line("kalender"), "Kalenderdatei"),
    # without STADTLABOR_WEB_URL the command answers that the pages are not set up here
    "dashboard": (_line("dashboard"), "Stadtlabor-Webseite"),
    "thema vorschlagen": (_line('thema vorschlagen "Schulen"'), "Ihr Vorschlag ist Thema 3"),
    "themen": (_line("themen"), "Radwege"),
    "themen zusammenfuehren": (_line("themen zusammenfuehren 1 2"), "Zusammengeführt in Thema 1"),
    "themen zurueckziehen": (_line("themen zurueckziehen 1"), "(?i)zurückgezogen"),
    "umfrage": (_line('umfrage "Neu?" "X" "Y" sofort'), "Umfrage 2"),
    "umfrage aus themen": (_line("umfrage aus themen 1 2 sofort"), "Umfrage 2"),
    "profil": (_line("profil"), "Noch kein Profil"),
    "profil aendern": (_line('profil aendern themen="Pflege" groesse=Kleinstadt'), "gespeichert"),
    "wer kennt sich aus": (_line("wer kennt sich aus mit Pflege"), "noch niemand Expertise"),
    "vorstellen": (_line("vorstellen @paul thema=Radwege"), "gefragt, ob|Sich selbst kann ich"),
    "vorstellen annehmen": (_line("vorstellen annehmen"), "keine offene Anfrage"),
    "vorstellen ablehnen": (_line("vorstellen ablehnen"), "keine offene Anfrage"),
    "tandems": (_line("tandems"), "Noch keine Tandems"),
    "tandems starten": (_line("tandems starten"), "Tandem-Runde 1"),
    "tandems stand": (_line("tandems stand"), "Noch keine Tandems"),
    "tandem": (_line("tandem ja Gut"), "keiner Tandem-Runde"),
    "checkin": (_line("checkin"), "noch kein Vorhaben|Check-ins sind für bestätigte"),
    "checkin tag": (_line("checkin tag"), "monatlichen Check-ins sind aus"),
    "checkins": (_line("checkins"), "Noch niemand im Jahrgang hat ein Vorhaben"),
    "alumni": (_line("alumni"), "nicht im Alumni-Kreis"),
    "alumni raum": (_line("alumni raum"), "kein Alumni-Raum"),
    "alumni mitglieder": (_line("alumni mitglieder"), "Alumni-Kreis: 0 Personen"),
    "alumni import": (_line("alumni import fehlt.csv"), "kann ich nicht lesen"),
    "alumni entfernen": (_line("alumni entfernen x@example.org"), "keinen importierten"),
    "umfrage schliessen": (
        _then('umfrage "Eigene?" "X" "Y" sofort', r"Umfrage (\d+)", "umfrage {n} schliessen"),
        "(?i)geschlossen",
    ),
    "umfragen": (_line("umfragen"), "Welches Thema?"),
    "abstimmen": (_line("abstimmen 1 1"), "ist gezählt|Abstimmen können nur bestätigte"),
    "export umfrage": (_line("export umfrage 1"), "Direktchat"),
    "feedback": (_line("feedback"), "Plan|Hannastadt|Hanna"),
    "feedback starten": (
        _line('feedback starten titel="Zwei" fuer=@paul bis="Freitag 18 Uhr" sofort'),
        "Feedback-Runde #2",
    ),
    "feedback schliessen": (_line("feedback schliessen 1"), "ist geschlossen"),
    "export feedback": (_line("export feedback 1"), "Direktchat"),
    "erinnern": (_line("erinnern morgen 9 Uhr; Notiz"), "Nr. "),
    "erinnern kanal": (_line("erinnern kanal morgen 9 Uhr; Alle"), "für die Kanäle"),
    "erinnerungen": (
        _then("erinnern morgen 9 Uhr; Notiz", r"Nr\. (\d+)", "erinnerungen"),
        "Notiz",
    ),
    "erinnerung": (
        _then("erinnern morgen 9 Uhr; Notiz", r"Nr\. (\d+)", "erinnerung {n} löschen"),
        "(?i)gelöscht",
    ),
    "spaeter": (_line("später 1 Stunde"), "Erinnerung"),
    "ueberblick": (_line("ueberblick"), "Ihr Überblick"),
    "nachfassen": (_line("nachfassen umfrage 1"), "Erinnerung an"),
}


# key → what only the full (organiser's) view shows: README: participants see the list without
# e-mails and without the waitlist; ``hilfe`` lists only what the caller may do.
REDUCED: dict[str, str] = {
    "teilnehmende": r"@example\.org|Wanda",
    "hilfe": r"jahrgang anlegen|protokoll",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("world") / "world.db"
    _world(path)
    return path


def test_every_key_has_a_case() -> None:
    assert set(CASES) == set(EXPECTED)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_cell_runs_as_expected(template: Path, tmp_path: Path, key: str, role: Role) -> None:
    path = tmp_path / "cell.db"
    shutil.copy(template, path)
    bot = build_bot(
        make_settings(f"sqlite:///{path}", organizers="console:orga"), SimulatedClock(START)
    )
    try:
        run, effect = CASES[key]
        answer = run(Driver(bot), USERS[role])
    finally:
        bot.engine.dispose()
    expected = EXPECTED[key][ROLES.index(role)]
    ran = re.search(effect, answer) is not None
    refused = REFUSAL.search(answer) is not None
    if expected == R:
        assert refused and not ran, f"{key} as {role} should be refused: {answer!r}"
    else:
        assert ran and not refused, f"{key} as {role} should run: {answer!r}"
    if key in REDUCED and expected != R:  # the full view has it, the reduced one must not
        hidden = REDUCED[key]
        assert (re.search(hidden, answer) is None) == (expected == V), (
            f"{key} as {role}: {answer!r}"
        )
