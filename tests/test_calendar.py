"""The .ics file: read back by icalendar with the right local times across a DST change.

Every calendar file the bot writes is also read by ical.js (the parser of Thunderbird and
Nextcloud; tests/icaljs, run by node): both parsers must find the same UTC instants, and the
expected ones. ical.js is installed from tests/icaljs/package-lock.json when missing; without
node/npm the ical.js tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component, Timezone
from sqlalchemy import select

from app import Bot, build_bot
from bot.clock import SimulatedClock
from handlers.cli import export_ics_cli, import_cli
from storage.models import Meeting
from tests.helpers import Driver, make_settings

BERLIN = ZoneInfo("Europe/Berlin")
ICALJS = Path(__file__).parent / "icaljs"

Parsed = list[dict[str, Any]]


@pytest.fixture(scope="session")
def icaljs() -> Callable[[bytes], Parsed]:
    """A function reading .ics bytes with ical.js (tests/icaljs/parse.mjs), as JSON events."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = "node and npm are needed to read calendar files with ical.js (tests/icaljs)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # One installer at a time (parallel test runs share the folder); from the lockfile only.
    lock = Path(tempfile.gettempdir()) / "stadtlabor-icaljs.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not (ICALJS / "node_modules" / "ical.js" / "package.json").exists():
            done = subprocess.run(
                [npm, "ci", "--prefix", str(ICALJS), "--prefer-offline", "--no-audit", "--no-fund"],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci --prefix {ICALJS} failed:\n{done.stderr}")

    def read(data: bytes) -> Parsed:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "calendar.ics"
            path.write_bytes(data)
            done = subprocess.run(
                [node, str(ICALJS / "parse.mjs"), str(path)],
                capture_output=True,
                text=True,
                timeout=60,
            )
        assert done.returncode == 0, done.stderr
        events: Parsed = json.loads(done.stdout)
        return events

    return read


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _icalendar(data: bytes) -> Parsed:
    """The same fields as parse.mjs, read by icalendar with the file's own VTIMEZONE.

    icalendar would otherwise use its zoneinfo for a known TZID and never look at the
    VTIMEZONE; ``to_tz(lookup_tzid=False)`` makes it expand the file's rules instead.
    """
    cal = Calendar.from_ical(data)
    zones = {
        str(z["TZID"]): z.to_tz(lookup_tzid=False)
        for z in cal.walk("VTIMEZONE")
        if isinstance(z, Timezone)
    }

    def instant(event: Component, name: str) -> str:
        moment: datetime = event.decoded(name)
        tzid = event[name].params.get("TZID")
        if tzid is not None:  # the wall time, read in the file's VTIMEZONE
            moment = moment.replace(tzinfo=zones[tzid])
        return _utc(moment)

    return [
        {
            "uid": str(e["UID"]),
            "summary": str(e["SUMMARY"]),
            "start": instant(e, "DTSTART"),
            "end": instant(e, "DTEND"),
        }
        for e in cal.walk("VEVENT")
    ]


def _instants(events: Parsed) -> dict[str, tuple[str, str]]:
    return {e["summary"]: (e["start"], e["end"]) for e in events}


def _chat_file(driver: Driver, command: str) -> bytes:
    driver.messenger.transcript.clear()
    driver.say("orga", command)
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    assert len(files) == 1 and files[0].content is not None
    return files[0].content


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


# --- ical.js and icalendar read every calendar file alike, across both DST switches -----------

# Berlin 2027: summer time from Sunday 28 March 01:00 UTC, winter time from Sunday 31 October
# 01:00 UTC. Expected instants in UTC; the spring end is the one ical.js read as 15:00 UTC
# (17:00 summer time) from the RDATE-list VTIMEZONE the bot wrote before.
BERLIN_MEETINGS = {
    "Stadtlabor: Auftakt": ('von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr"', "09:00", "14:00"),
    "Stadtlabor: Herbst": ('von="30.10.2027 10 Uhr" bis="31.10.2027 16 Uhr"', "08:00", "15:00"),
    "Stadtlabor: Winter": ('von="20.01.2027 9:30" bis="21.01.2027 15 Uhr"', "08:30", "14:00"),
    "Stadtlabor: Sommer": ('von="01.07.2027 10 Uhr" bis="02.07.2027 13 Uhr"', "08:00", "11:00"),
}
BERLIN_EXPECTED = {
    "Stadtlabor: Auftakt": ("2027-03-27T09:00:00Z", "2027-03-28T14:00:00Z"),
    "Stadtlabor: Herbst": ("2027-10-30T08:00:00Z", "2027-10-31T15:00:00Z"),
    "Stadtlabor: Winter": ("2027-01-20T08:30:00Z", "2027-01-21T14:00:00Z"),
    "Stadtlabor: Sommer": ("2027-07-01T08:00:00Z", "2027-07-02T11:00:00Z"),
    "Begrüßung": ("2027-03-27T09:00:00Z", "2027-03-27T10:00:00Z"),  # day 1, winter time
    "Workshop": ("2027-03-28T08:00:00Z", "2027-03-28T10:00:00Z"),  # day 2, summer time
}


def test_every_calendar_file_reads_alike_in_icaljs_and_icalendar(
    bot: Bot, tmp_path: Path, icaljs: Callable[[bytes], Parsed]
) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27"')
    for summary, (times, _, _) in BERLIN_MEETINGS.items():
        title = summary.removeprefix("Stadtlabor: ")
        extra = ' ort="KörberForum" gastgeber="Hamburg"' if title == "Auftakt" else ""
        assert "ist angelegt" in d.say("orga", f'treffen anlegen titel="{title}" {times}{extra}')
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11 Uhr" titel="Begrüßung" raum="Saal 1"')
    d.say("orga", 'programmpunkt 1 tag=2 von="10 Uhr" bis="12 Uhr" titel="Workshop"')
    target = tmp_path / "cli.ics"
    assert export_ics_cli(bot, "Stadtlabor 2026/27", str(target)) == 0
    with bot.uow_factory() as uow:  # each agenda item raised it
        sequence = uow.session.scalar(select(Meeting.sequence).where(Meeting.number == 1))
    files = {
        "kalender programm=ja": _chat_file(d, "kalender programm=ja"),
        "kalender": _chat_file(d, "kalender"),
        "stadtlabor export ics": target.read_bytes(),
    }
    for name, data in files.items():
        with_items = name != "kalender"
        expected = {
            k: v for k, v in BERLIN_EXPECTED.items() if with_items or k.startswith("Stadtlabor")
        }
        by_icaljs, by_icalendar = icaljs(data), _icalendar(data)
        assert _instants(by_icaljs) == expected, name
        assert _instants(by_icalendar) == expected, name
        # The rule-based VTIMEZONE Outlook and Google write; no RDATE list.
        zone = Calendar.from_ical(data).walk("VTIMEZONE")
        assert [str(z["TZID"]) for z in zone] == ["Europe/Berlin"] and b"RDATE" not in data
        parts = {p.name: p for p in zone[0].subcomponents}
        assert parts["DAYLIGHT"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
        assert parts["STANDARD"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
        assert parts["DAYLIGHT"]["DTSTART"].to_ical() == b"19700329T020000"
        assert parts["STANDARD"]["DTSTART"].to_ical() == b"19701025T030000"
        first = next(e for e in by_icaljs if e["summary"] == "Stadtlabor: Auftakt")
        assert first["tzid"] == "Europe/Berlin" and first["location"] == "KörberForum, Hamburg"
        assert first["dtstamp"] == "2026-11-25T11:00:00Z" and first["sequence"] == sequence
        assert "Auftakt" in first["description"] and "Workshop" in first["description"]
        if with_items:
            workshop = next(e for e in by_icaljs if e["summary"] == "Workshop")
            assert workshop["location"] == "KörberForum, Hamburg"

    # A change keeps the UID and raises SEQUENCE, as ical.js reads it.
    before = {e["summary"]: e for e in icaljs(files["kalender"])}
    d.say("orga", 'treffen 2 aendern bis="31.10.2027 17 Uhr"')
    after = {e["summary"]: e for e in icaljs(_chat_file(d, "kalender"))}
    herbst, old = after["Stadtlabor: Herbst"], before["Stadtlabor: Herbst"]
    assert herbst["uid"] == old["uid"] and herbst["sequence"] > old["sequence"]
    assert herbst["end"] == "2027-10-31T16:00:00Z"


def _switch_days(tz: ZoneInfo, year: int) -> list[datetime]:
    """Local noons after which the zone's offset changed: the ground truth from zoneinfo."""
    noon = datetime(year, 1, 1, 12, tzinfo=tz)
    days = []
    for n in range(1, 366):
        day = datetime.fromordinal(noon.toordinal() + n).replace(hour=12, tzinfo=tz)
        if (
            day.utcoffset()
            != datetime.fromordinal(day.toordinal() - 1).replace(hour=12, tzinfo=tz).utcoffset()
        ):
            days.append(day)
    return days


@pytest.fixture
def zone_bot(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Bot]:
    built = build_bot(
        make_settings(sqlite_url, organizers="console:orga", timezone=request.param),
        SimulatedClock(datetime(2026, 11, 25, 11, 0, tzinfo=UTC)),
    )
    yield built
    built.engine.dispose()


@pytest.mark.parametrize(
    ("zone_bot", "rule_based"),
    [
        ("America/New_York", True),  # n-th Sunday rules (2SU, 1SU)
        ("Australia/Sydney", True),  # southern hemisphere: summer time over New Year
        ("Asia/Tokyo", True),  # no DST: one STANDARD part
        ("Asia/Jerusalem", False),  # "Friday before the last Sunday": no RRULE, so UTC times
    ],
    indirect=["zone_bot"],
)
def test_other_time_zones_are_exact_in_both_parsers(
    zone_bot: Bot, rule_based: bool, tmp_path: Path, icaljs: Callable[[bytes], Parsed]
) -> None:
    tz = zone_bot.settings.tz
    d = Driver(zone_bot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27"')
    # Across every switch of 2027 (two days before to the day after), plus January and July.
    starts = [datetime.fromordinal(s.toordinal() - 2) for s in _switch_days(tz, 2027)]
    starts += [datetime(2027, 1, 14), datetime(2027, 7, 14)]
    expected = {}
    for n, first in enumerate(starts, start=1):
        last = datetime.fromordinal(first.toordinal() + 3)
        times = f'von="{first:%d.%m.%Y} 10 Uhr" bis="{last:%d.%m.%Y} 16 Uhr"'
        assert "ist angelegt" in d.say("orga", f'treffen anlegen titel="T{n}" {times}')
        expected[f"Stadtlabor: T{n}"] = (
            _utc(first.replace(hour=10, tzinfo=tz)),
            _utc(last.replace(hour=16, tzinfo=tz)),
        )
    target = tmp_path / "out.ics"
    assert export_ics_cli(zone_bot, "Stadtlabor 2026/27", str(target)) == 0
    data = target.read_bytes()
    assert _instants(icaljs(data)) == expected == _instants(_icalendar(data))
    zones = Calendar.from_ical(data).walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ([str(tz.key)] if rule_based else [])
    assert (b"DTSTART:2027" in data) != rule_based  # the fallback writes UTC: DTSTART:...Z
    assert b"RDATE" not in data


def test_command_line_names_the_known_cohorts_for_an_unknown_one(
    bot: Bot, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    Driver(bot).say("orga", 'jahrgang anlegen "Stadtlabor 2027" plaetze=5')
    listing = tmp_path / "liste.csv"
    listing.write_text("name,kommune,funktion,email\n", encoding="utf-8")
    assert export_ics_cli(bot, "Gibtsnicht", None) == 2
    assert import_cli(bot, str(listing), "Gibtsnicht", dry_run=True) == 2
    err = capsys.readouterr().err
    assert err.count("Unbekannter Jahrgang 'Gibtsnicht'. Vorhanden: Stadtlabor 2027") == 2
