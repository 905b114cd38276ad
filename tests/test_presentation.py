"""How answers and posts read: headings on their own line, echoes that say what they echo,
nothing printed for what was not given, DMs shown in the console as soon as they are sent."""

from __future__ import annotations

import io
from pathlib import Path

from app import Bot, build_bot
from bot.clock import SimulatedClock
from handlers.console_app import start_console
from tests.helpers import Driver, make_settings, signup


def _meeting(driver: Driver) -> None:
    driver.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    driver.say(
        "orga",
        'treffen anlegen titel="Auftakt" von="3.3.2027 10 Uhr" bis="4.3.2027 16 Uhr"',
    )


def test_agenda_day_heading_stands_on_its_own_line(bot: Bot) -> None:
    driver = Driver(bot)
    _meeting(driver)
    driver.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung"')
    lines = driver.say("orga", "agenda 1").splitlines()
    day = next(i for i, line in enumerate(lines) if line.startswith("Tag 1"))
    assert lines[day] == "Tag 1: Mittwoch, 3. März 2027"
    assert "Begrüßung" in lines[day + 1]


def test_attendance_receipt_labels_what_it_echoes(bot: Bot) -> None:
    driver = Driver(bot)
    _meeting(driver)
    driver.say("anna", signup("anna"))
    driver.say("ben", signup("ben"))
    answer = driver.say("anna", "teilnahme 1 ja essen=vegan barrierefreiheit=Rollstuhl")
    assert "Essen: vegan" in answer and "Barrierefreiheit: Rollstuhl" in answer
    plain = driver.say("ben", "teilnahme 1 ja")
    assert "Essen:" not in plain and "Barrierefreiheit:" not in plain


def test_two_week_notice_has_no_empty_notes(bot: Bot, clock: SimulatedClock) -> None:
    driver = Driver(bot)
    _meeting(driver)
    driver.say("anna", signup("anna"))
    driver.say("anna", "teilnahme 1 ja")
    driver.messenger.transcript.clear()
    clock.set(clock.now().replace(year=2027, month=2, day=17, hour=9, minute=1))
    bot.due.run_due(clock.now())
    driver.flush()
    notices = [t for t in driver.messenger.texts("dm") if "In zwei Wochen" in t]
    assert notices, driver.messenger.texts()
    assert all("Hinweise" not in t for t in notices)


def test_console_shows_every_organiser_notice_at_once(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = make_settings(f"sqlite:///{tmp_path}/c.db", organizers="console:orga")
    lines = ['@orga jahrgang anlegen "K" plaetze=5 moderiert'] + [
        f"@{n} " + signup(n) for n in ("anna", "ben", "cara")
    ]
    assert start_console(settings, build_bot, lines, out) == 0
    assert out.getvalue().count("Neue Anmeldung für „K“") == 3
