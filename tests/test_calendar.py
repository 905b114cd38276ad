"""The .ics file: read back by icalendar with the right local times across a DST change."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component

from app import Bot
from bot.services.calendar import export_ics_cli
from tests.helpers import Driver

BERLIN = ZoneInfo("Europe/Berlin")


def _calendar(driver: Driver, command: str = "kalender") -> Calendar:
    driver.messenger.transcript.clear()
    assert "Kalenderdatei" in driver.say("orga", command)
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    assert files and files[0].filename == "stadtlabor.ics" and files[0].content is not None
    return Calendar.from_ical(files[0].content)


def _events(cal: Calendar) -> dict[str, Component]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_ics_reads_back_with_local_times_across_dst(bot: Bot) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27"')
    # Summer time starts on Sunday 28 March 2027 at 02:00.
    d.say(
        "orga",
        'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr" '
        'ort="Hamburg, KörberForum"',
    )
    d.say("orga", 'treffen anlegen titel="Winter" von="11.11.2027 9:30" bis="12.11.2027 15 Uhr"')
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11 Uhr" titel="Begrüßung" raum="Saal 1"')
    d.say("orga", 'programmpunkt 1 tag=2 von="10 Uhr" bis="12 Uhr" titel="Workshop"')
    cal = _calendar(d, "kalender programm=ja")
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = _events(cal)
    assert len(events) == 4
    first = next(e for e in cal.walk("VEVENT") if e["SUMMARY"] == "Stadtlabor: Auftakt")
    start, end = first.decoded("DTSTART"), first.decoded("DTEND")
    assert (
        start == datetime(2027, 3, 27, 10, 0, tzinfo=BERLIN) and start.utcoffset().seconds == 3600
    )
    assert end == datetime(2027, 3, 28, 16, 0, tzinfo=BERLIN) and end.utcoffset().seconds == 7200
    assert str(first["LOCATION"]) == "Hamburg, KörberForum"
    assert "Begrüßung" in str(first["DESCRIPTION"]) and "Workshop" in str(first["DESCRIPTION"])
    workshop = next(e for e in cal.walk("VEVENT") if e["SUMMARY"] == "Workshop")
    assert workshop.decoded("DTSTART").astimezone(BERLIN).hour == 10
    assert workshop.decoded("DTSTART").utcoffset().seconds == 7200
    winter = next(e for e in cal.walk("VEVENT") if e["SUMMARY"] == "Stadtlabor: Winter")
    assert winter.decoded("DTSTART") == datetime(2027, 11, 11, 9, 30, tzinfo=BERLIN)
    uid, sequence = str(first["UID"]), int(str(first["SEQUENCE"]))

    d.say("orga", 'treffen 1 aendern von="3.4.2027 10 Uhr"')
    moved = _events(_calendar(d))
    assert set(moved) == {uid, str(winter["UID"])}  # stable UIDs, no agenda events this time
    again = moved[uid]
    assert int(str(again["SEQUENCE"])) > sequence
    assert again.decoded("DTSTART") == datetime(2027, 4, 3, 10, 0, tzinfo=BERLIN)
    assert again.decoded("DTEND") == datetime(2027, 4, 4, 16, 0, tzinfo=BERLIN)

    d.say("orga", "treffen 2 loeschen ja")
    cancelled = _events(_calendar(d))[str(winter["UID"])]
    assert str(cancelled["STATUS"]) == "CANCELLED"


def test_command_line_export(bot: Bot, tmp_path: Path) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27"')
    d.say("orga", 'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr"')
    target = tmp_path / "out.ics"
    assert export_ics_cli(bot, "Stadtlabor 2026/27", str(target)) == 0
    cal = Calendar.from_ical(target.read_bytes())
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Stadtlabor: Auftakt"]
    assert export_ics_cli(bot, "Gibt es nicht", str(target)) == 2
    assert export_ics_cli(bot, "Stadtlabor 2026/27", str(tmp_path / "no" / "dir.ics")) == 1
