"""The reminders page: the cohort's scheduled work (what, when, for whom, status), cancel
through the chat's service, "jetzt erinnern" through ``nachfassen``'s; organisers only."""

from __future__ import annotations

import re

from sqlalchemy import select

from app import Bot
from storage.models import AuditEntry, Reminder
from tests.helpers import Driver
from tests.web.support import client_for, csrf_of, log_in, login_link, world


def _status(bot: Bot, reminder_id: int) -> str:
    with bot.uow_factory() as uow:
        row = uow.session.get(Reminder, reminder_id)
        assert row is not None
        return row.status


def _id(answer: str) -> int:
    found = re.search(r"Nr\. (\d+)", answer)
    assert found, answer
    return int(found.group(1))


def _nudges(bot: Bot) -> list[AuditEntry]:
    with bot.uow_factory() as uow:
        rows = list(
            uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "nachfassen"))
        )
        uow.session.expunge_all()
        return rows


async def test_the_page_lists_cancels_and_reminds_now(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" bis="Freitag 12 Uhr" sofort')
    driver.say("anna", "abstimmen 1 1")
    channel = _id(driver.say("orga", "erinnern kanal morgen 9 Uhr; Bitte Berichte schicken"))
    mine = _id(driver.say("orga", "erinnern morgen 8 Uhr; Agenda prüfen"))
    annas = _id(driver.say("anna", "erinnern morgen 7 Uhr; Geheimer Termin"))
    driver.flush()
    driver.messenger.transcript.clear()
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
        html = await (await client.get("/erinnerungen")).text()
        assert 'href="/erinnerungen" aria-current="page"' in html  # the nav entry
        assert "Umfrage 1 schließt" in html and "Erinnerung an Umfrage 1" in html
        assert "Teilnehmende, die noch nicht abgestimmt haben" in html
        assert "Bitte Berichte schicken" in html and "Kanäle des Jahrgangs" in html
        assert "Agenda prüfen" in html and "Direktnachricht an Sie" in html
        assert "Geheimer Termin" not in html  # another person's own reminder stays private
        assert "Freitag, 27. November 2026, 12:00 Uhr" in html  # Babel, the reader's language
        assert "1 von 2" in html  # the open poll's progress
        csrf = csrf_of(html)

        cancelled = await client.post(
            "/erinnerungen/loeschen", data={"csrf": csrf, "erinnerung": str(channel)}
        )
        text = await cancelled.text()
        assert cancelled.status == 200 and f"Erinnerung Nr. {channel} gelöscht." in text
        assert _status(web_bot, channel) == "cancelled"
        assert "Bitte Berichte schicken" in text.split("Zuletzt erledigt")[1]  # listed as done
        foreign = await client.post(
            "/erinnerungen/loeschen", data={"csrf": csrf, "erinnerung": str(annas)}
        )
        assert "gehört nicht Ihnen" in await foreign.text()
        assert _status(web_bot, annas) == "pending"
        no_csrf = await client.post("/erinnerungen/loeschen", data={"erinnerung": str(mine)})
        assert no_csrf.status == 403 and _status(web_bot, mine) == "pending"

        now = await client.post(
            "/erinnerungen/jetzt", data={"csrf": csrf, "art": "umfrage", "nr": "1"}
        )
        text = await now.text()
        assert "Erinnerung an 1 Person(en) verschickt, die bei Umfrage 1 noch fehlen." in text
        again = await client.post(
            "/erinnerungen/jetzt", data={"csrf": csrf, "art": "umfrage", "nr": "1"}
        )
        assert "die anderen wurden heute schon erinnert" in await again.text()
        missing = await client.post(
            "/erinnerungen/jetzt", data={"csrf": csrf, "art": "feedback", "nr": "7"}
        )
        assert "Eine Feedback-Runde #7 gibt es nicht." in await missing.text()
    first, _second = _nudges(web_bot)
    assert first.after == {"was": "umfrage 1", "fehlend": 1, "gesendet": 1}
    driver.flush()
    dms = [s for s in driver.messenger.transcript if s.kind == "dm"]
    assert [s.target for s in dms if "Umfrage 1" in s.text] == ["console:bert"], dms


async def test_participants_and_forged_requests_are_refused(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" bis="Freitag 12 Uhr" sofort')
    channel = _id(driver.say("orga", "erinnern kanal morgen 9 Uhr; Bitte Berichte schicken"))
    driver.say("orga", 'jahrgang anlegen "Anderer" plaetze=3', channel="andere")
    other = _id(driver.say("orga", "erinnern kanal morgen 9 Uhr; Anderer Kanal", channel="andere"))
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "anna"))
        csrf = csrf_of(html)
        assert (await client.get("/erinnerungen")).status == 403
        assert 'href="/erinnerungen"' not in html
        for path, data in (
            ("/erinnerungen/loeschen", {"erinnerung": str(channel)}),
            ("/erinnerungen/jetzt", {"art": "umfrage", "nr": "1"}),
        ):
            answer = await client.post(path, data={"csrf": csrf, **data})
            assert answer.status == 403, path
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
        csrf = csrf_of(html)
        with web_bot.uow_factory() as uow:
            ids = {c.name: c.id for c in uow.cohorts.active()}
        await client.post("/jahrgang/wahl", data={"csrf": csrf, "jahrgang": ids["Stadtlabor 2027"]})
        assert "Anderer Kanal" not in await (await client.get("/erinnerungen")).text()
        foreign = await client.post(
            "/erinnerungen/loeschen", data={"csrf": csrf, "erinnerung": str(other)}
        )
        assert f"Keine offene Erinnerung Nr. {other}" in await foreign.text()
        no_csrf = await client.post("/erinnerungen/jetzt", data={"art": "umfrage", "nr": "1"})
        assert no_csrf.status == 403
    assert _status(web_bot, channel) == "pending" and _status(web_bot, other) == "pending"
    assert _nudges(web_bot) == []
