"""ueberblick (the personal overview and the organisers' dashboard) and nachfassen (nudges)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import Bot
from bot.caller import role_of
from bot.clock import SimulatedClock
from bot.context import ROLES, Role
from bot.permissions import access
from bot.services.overview import overview
from bot.services.overview_views import Overview
from tests.helpers import Driver, request, signup

COHORT = "Stadtlabor 2027"


@pytest.fixture
def driver(bot: Bot) -> Driver:
    """Seats for anna and ben, cara waitlisted; a meeting with agenda, a poll, a feedback round."""
    d = Driver(bot)
    assert "angelegt" in d.say("orga", f'jahrgang anlegen "{COHORT}" plaetze=2')
    for name in ("anna", "ben", "cara"):
        d.say(name, signup(name))
    d.say("orga", 'treffen anlegen titel="Auftakt" von="3.12.2026 10 Uhr" bis="4.12.2026 16 Uhr"')
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung"')
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="12 Uhr" titel="Werkstatt Wohnen" tag=2')
    assert "Umfrage 1" in d.say(
        "orga", 'umfrage "Welches Thema?" "Wohnen" "Mobilität" bis="Freitag 12 Uhr" sofort'
    )
    assert "1" in d.say(
        "orga", 'feedback starten titel="Plan" fuer=@ben bis="Freitag 18 Uhr" sofort'
    )
    assert "Nr." in d.say("anna", "erinnern morgen 9 Uhr; Bericht schicken")
    d.messenger.transcript.clear()
    return d


def model_of(bot: Bot, user: str) -> tuple[Overview, str]:
    with bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("console", user)
        cohort = uow.cohorts.get_by_name(COHORT)
        assert person is not None
        model, message = overview(
            uow,
            person,
            cohort,
            role=role_of(uow, person, cohort),
            now=bot.clock.now(),
            settings=bot.settings,
            language="de",
        )
        return model, message.plain_text()


def test_participant_with_a_seat_sees_what_she_owes(driver: Driver) -> None:
    model, text = model_of(driver.bot, "anna")
    assert (model.status, model.position, model.capacity) == ("confirmed", 1, 2)
    assert model.meeting is not None and model.meeting.number == 1
    assert [p.number for p in model.polls] == [1] and [r.number for r in model.rounds] == [1]
    assert len(model.reminders) == 1 and model.dashboard is None
    assert "Platz 1 von 2" in text and "Tag 1:" in text and "Tag 2:" in text
    assert text.index("Begrüßung") < text.index("Werkstatt Wohnen")
    assert "→ umfrage 1" in text and "→ feedback 1 geben" in text and "→ teilnahme 1 ja" in text
    assert "Bericht schicken" in text and "nachfassen" not in text
    driver.say("anna", "abstimmen 1 2")
    driver.say("anna", "teilnahme 1 ja")
    model, text = model_of(driver.bot, "anna")
    assert model.polls == () and model.attendance == (1, 2)
    assert "Keine offenen Umfragen ohne Ihre Stimme" in text and "zugesagt (Tag 1, 2)" in text


def test_presenter_and_waitlisted_owe_nothing(driver: Driver) -> None:
    model, _text = model_of(driver.bot, "ben")
    assert model.rounds == () and [p.number for p in model.polls] == [1]
    model, text = model_of(driver.bot, "cara")
    assert (model.status, model.position) == ("waitlisted", 1)
    assert model.polls == () and model.rounds == ()
    assert "Warteliste, Position 1" in text and "Offene Umfragen" not in text
    assert "Auftakt" in text, "the waitlist sees the next meeting"


def test_organiser_dashboard_counts(driver: Driver) -> None:
    driver.say("anna", "abstimmen 1 1")
    driver.say("ben", "teilnahme 1 nein")
    model, text = model_of(driver.bot, "orga")
    board = model.dashboard
    assert board is not None
    assert (board.confirmed, board.capacity, board.waitlisted) == (2, 2, 1)
    counts = {(i.kind, i.number): (i.done, i.eligible) for i in board.items}
    assert counts == {("umfrage", 1): (1, 2), ("feedback", 1): (0, 1), ("teilnahme", 1): (1, 2)}
    assert "2 von 2 Plätzen belegt; Warteliste: 1." in text
    assert "→ nachfassen umfrage 1" in text and "→ nachfassen feedback 1" in text
    assert "→ nachfassen teilnahme 1" in text
    driver.say("ben", "abstimmen 1 2")
    model, text = model_of(driver.bot, "orga")
    assert model.dashboard is not None
    assert "2 von 2 haben abgestimmt" in text and "nachfassen umfrage 1" not in text


def dm_targets(driver: Driver) -> list[str]:
    return sorted(s.target for s in driver.messenger.transcript if s.kind == "dm")


def test_nudge_reaches_exactly_the_missing_once(driver: Driver, clock: SimulatedClock) -> None:
    driver.say("anna", "abstimmen 1 1")
    assert "an 1 Person(en) verschickt" in driver.say("orga", "nachfassen umfrage 1")
    assert dm_targets(driver) == ["console:ben"]
    assert "→ umfrage 1" in driver.messenger.texts("dm")[0]
    driver.messenger.transcript.clear()
    assert "heute schon erinnert" in driver.say("orga", "nachfassen umfrage 1")  # second click
    assert dm_targets(driver) == []
    clock.advance(timedelta(days=1))
    driver.say("orga", "nachfassen umfrage 1")
    assert dm_targets(driver) == ["console:ben"], "a new day allows a new nudge"
    driver.messenger.transcript.clear()
    driver.say("orga", "nachfassen feedback 1")  # ben presents: only anna owes an answer
    assert dm_targets(driver) == ["console:anna"]
    assert "→ feedback 1 geben" in driver.messenger.texts("dm")[0]
    driver.messenger.transcript.clear()
    driver.say("ben", "teilnahme 1 ja")
    driver.say("orga", "nachfassen teilnahme 1")
    assert dm_targets(driver) == ["console:anna"]
    driver.messenger.transcript.clear()
    driver.say("anna", "teilnahme 1 nein")
    assert "fehlt niemand mehr" in driver.say("orga", "nachfassen teilnahme 1")
    assert dm_targets(driver) == []


def test_nudge_refusals_and_mistakes(driver: Driver) -> None:
    assert "Programmteam vorbehalten" in driver.say("anna", "nachfassen umfrage 1")
    assert "So geht es" in driver.say("orga", "nachfassen umfrage")
    assert "So geht es" in driver.say("orga", "nachfassen wahl 1")
    assert "So geht es" in driver.say("orga", "nachfassen umfrage eins")
    assert "gibt es hier nicht" in driver.say("orga", "nachfassen umfrage 9")
    driver.say("orga", "umfrage 1 schliessen")
    assert "geschlossen" in driver.say("orga", "nachfassen umfrage 1")
    assert not [t for t in driver.messenger.texts("dm") if "erinnert Sie" in t]


def test_ueberblick_in_the_console(driver: Driver) -> None:
    text = driver.say("anna", "ueberblick")
    assert "Stadtlabor-Bot: Ihr Überblick" in text and "Platz 1 von 2" in text
    assert "Warteliste, Position 1" in driver.say("cara", "status", dm=True)
    outsider = driver.say("zoe", "overview")
    assert "Nicht angemeldet" in outsider and "→ anmelden" in outsider
    assert "Programmteam: Stand des Jahrgangs" in driver.say("orga", "Überblick")
    driver.say("anna", "sprache en")
    english = driver.say("anna", "overview")
    assert "your overview" in english and "seat 1 of 2" in english
    replies = driver.bot.dispatcher.handle(request("ben", "ueberblick"))
    assert replies and all(r.private for r in replies), "the overview is always private"


def test_organiser_without_a_chosen_cohort_is_told_where(driver: Driver) -> None:
    driver.say("orga", 'jahrgang anlegen "Stadtlabor 2028" plaetze=5', channel="andere")
    assert "kein Jahrgang gewählt" in driver.say("orga", "ueberblick", dm=True)
    assert "Stadtlabor 2028" in driver.say("orga", "ueberblick", channel="andere")
    assert "Platz 1 von 2" in driver.say("anna", "ueberblick", dm=True), "her own cohort"


# -- issue 14, item 9: the overview shows only what the commands would show -----------------
# Each part of the overview, the command that shows the same data, and a text only that part
# contains (the fixture's meeting, agenda item, poll, feedback round, dashboard line).
PARTS: dict[str, tuple[str, str]] = {
    "meeting": ("treffen", "Auftakt"),
    "agenda": ("agenda", "Werkstatt Wohnen"),
    "poll": ("umfragen", "Welches Thema?"),
    "dashboard": ("teilnahme uebersicht", "haben abgestimmt"),
}
PEOPLE: dict[Role, str] = {
    "organiser": "orga",
    "host": "ben",
    "participant": "anna",
    "waitlisted": "cara",
    "outsider": "otto",
}


@pytest.mark.parametrize("role", ROLES)
def test_overview_follows_the_permission_table(driver: Driver, role: Role) -> None:
    """Derived from the table: a part shows iff the role may run the command behind it — in a
    channel, in a DM, and for the Home tab (the same ``ueberblick``)."""
    assert "Gastgeberstadt" in driver.say("orga", "gastgeber @ben ja")
    driver.say("otto", "hilfe")
    user = PEOPLE[role]
    with driver.bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("console", user)
        cohort = uow.cohorts.get_by_name(COHORT)
        assert person is not None and role_of(uow, person, cohort) == role
    for dm in (False, True):
        text = driver.say(user, "ueberblick", dm=dm)
        assert "Ihr Überblick" in text
        for part, (command, marker) in PARTS.items():
            if access(command, role) == "refused":
                assert marker not in text, f"{part} leaks to {role} (dm={dm}): {text}"
        if access("treffen", role) == "refused":
            assert "Noch kein Treffen geplant" not in text  # nor a false statement instead
            assert "Nächstes Treffen" not in text


def test_overview_shows_the_allowed_parts(driver: Driver) -> None:
    """The other half: where the table allows, the part is really there."""
    assert "Auftakt" in driver.say("cara", "ueberblick") and "Werkstatt" in driver.say(
        "cara", "ueberblick"
    )
    anna = driver.say("anna", "ueberblick")
    assert all(marker in anna for part, (_, marker) in PARTS.items() if part != "dashboard")
    assert "haben abgestimmt" in driver.say("orga", "ueberblick")


def test_jahrgang_lists_meetings_only_to_whom_treffen_is_allowed(driver: Driver) -> None:
    driver.say("otto", "hilfe")
    outsider = driver.say("otto", "jahrgang")
    assert "Plätze: 2 von 2" in outsider and "Auftakt" not in outsider
    assert "Auftakt" in driver.say("cara", "jahrgang")  # waitlisted: treffen allowed


def test_help_shows_examples_and_refusals_the_caller_may_act_on(driver: Driver) -> None:
    participant = driver.say("anna", "hilfe treffen")
    assert "Beispiel: treffen" in participant and "aendern ort=" not in participant
    assert "aendern ort=" in driver.say("orga", "hilfe treffen")
    driver.say("otto", "hilfe")
    outsider = driver.say("otto", "hilfe treffen")
    assert "nur für Teilnehmende" in outsider and "Programmteam vorbehalten" not in outsider
    assert "Programmteam vorbehalten" in driver.say("anna", "hilfe jahrgang anlegen")


def test_the_dispatcher_imports_on_its_own() -> None:
    """hilfe uses the dispatcher's refusal words; importing the dispatcher first must work."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import bot.dispatcher"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
