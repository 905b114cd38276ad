"""Views that show a command's data follow that command's permission row (issue 14, item 9).

The calendar file holds the meetings (``treffen``) and, with ``programm=ja``, the agenda
(``agenda``). Today both rows equal ``kalender``'s; the file must follow them if they differ.
"""

from __future__ import annotations

import pytest

from app import Bot
from bot.errors import PermissionDenied
from bot.permissions import PERMISSIONS
from bot.services import calendar
from tests.helpers import Driver, signup

MEETING = 'von="10.12.2026 10:00" bis="11.12.2026 16:00"'


def _world(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Kalender" plaetze=1')
    assert "Platz 1" in d.say("paul", signup("paul"))
    assert "Warteliste" in d.say("wanda", signup("wanda"))
    assert "angelegt" in d.say("orga", f'treffen anlegen titel="Auftakt" {MEETING}')
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Vertrauliche Sanierung"')
    assert "Umfrage 1" in d.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Mobilität" sofort')
    d.messenger.transcript.clear()
    return d


def _ics(d: Driver, user: str) -> str:
    answer = d.say(user, "kalender programm=ja")
    assert "Kalenderdatei" in answer, answer
    (sent,) = [s for s in d.messenger.transcript if s.kind == "file" and user in s.target]
    assert sent.content is not None
    return sent.content.decode("utf-8")


def test_the_calendar_follows_the_agenda_row(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    d = _world(bot)
    assert "Vertrauliche Sanierung" in _ics(d, "wanda")  # agenda allowed: in the file
    monkeypatch.setitem(PERMISSIONS, "agenda", {**PERMISSIONS["agenda"], "waitlisted": "refused"})
    d.messenger.transcript.clear()
    waitlisted = _ics(d, "wanda")
    assert "Auftakt" in waitlisted  # treffen still allowed: the meeting is there
    assert "Vertrauliche Sanierung" not in waitlisted and "DESCRIPTION" not in waitlisted
    assert "Vertrauliche Sanierung" in _ics(d, "paul")


def test_the_calendar_is_refused_where_treffen_is(bot: Bot) -> None:
    _world(bot)
    with bot.uow_factory() as uow:
        cohort = uow.cohorts.get_by_name("Kalender")
        assert cohort is not None
        now, tz = bot.clock.now(), bot.settings.tz
        with pytest.raises(PermissionDenied):
            calendar.build(uow, cohort, tz=tz, language="de", now=now, role="outsider")
        assert b"Auftakt" in calendar.build(uow, cohort, tz=tz, language="de", now=now)


# the overview's parts, the command each follows, a text only that part shows
PARTS = {"treffen": "Auftakt", "agenda": "Vertrauliche Sanierung", "umfragen": "Welches Thema?"}


@pytest.mark.parametrize("command", sorted(PARTS))
def test_each_overview_part_follows_its_command(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    d = _world(bot)
    assert PARTS[command] in d.say("paul", "ueberblick")
    refused = {**PERMISSIONS[command], "participant": "refused"}
    monkeypatch.setitem(PERMISSIONS, command, refused)
    overview = d.say("paul", "ueberblick")
    assert "Ihr Überblick" in overview and PARTS[command] not in overview
    others = [marker for key, marker in PARTS.items() if key != command and key != "agenda"]
    assert all(marker in overview for marker in others), overview
