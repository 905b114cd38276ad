"""One meeting on the web page: the agenda editor (the chat's services; the posted agenda is
edited in place) and the attendance table (organisers only)."""

from __future__ import annotations

from sqlalchemy import select

from app import Bot
from storage.models import AgendaItem
from tests.helpers import Driver
from tests.web import seed
from tests.web.support import client_for, csrf_of, log_in, login_link


def _titles(bot: Bot) -> list[str]:
    with bot.uow_factory() as uow:
        return list(
            uow.session.scalars(select(AgendaItem.title).order_by(AgendaItem.starts_at)).all()
        )


def _ids(bot: Bot) -> list[int]:
    with bot.uow_factory() as uow:
        return list(uow.session.scalars(select(AgendaItem.id).order_by(AgendaItem.starts_at)))


async def test_an_organiser_edits_the_agenda_and_the_posted_agenda_follows(
    driver: Driver, web_bot: Bot
) -> None:
    seed.cohort(driver, "Stadtlabor 2027", people=2, meetings=1, polls=0, rounds=0)
    assert "hinzugefügt" in driver.say(
        "orga", 'programmpunkt 1 von="10 Uhr" bis="11 Uhr" titel="Begrüßung"'
    )
    driver.say("orga", "agenda posten 1")
    driver.messenger.transcript.clear()
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        html = await (await client.get("/treffen/1")).text()
        assert "Begrüßung" in html and "Neuer Programmpunkt" in html
        form = {
            "csrf": csrf_of(html),
            "aktion": "neu",
            "tag": "2",
            "von": "14:00",
            "bis": "15:30",
            "titel": "Kollegiale Beratung <!channel>",
            "art": "Kollegiale Beratung",
            "raum": "Saal 2",
        }
        added = await client.post("/treffen/1/programm", data=form, allow_redirects=False)
        assert added.status == 303 and added.headers["Location"] == "/treffen/1"
        page = await (await client.get("/treffen/1")).text()
        assert "Programmpunkt hinzugefügt" in page and "gepostete Agenda wird aktualisiert" in page
        assert "&lt;!channel&gt;" in page  # escaped on the page

        first, second = _ids(web_bot)
        change = {
            "csrf": csrf_of(page),
            "aktion": "aendern",
            "nr": "1",
            "punkt": str(first),
            "tag": "1",
            "von": "10:00",
            "bis": "10:30",
            "titel": "Begrüßung und Ankommen",
        }
        changed = await client.post("/treffen/1/programm", data=change, allow_redirects=False)
        assert changed.status == 303
        deleted = await client.post(
            "/treffen/1/programm",
            data={"csrf": csrf_of(page), "aktion": "loeschen", "nr": "2", "punkt": str(second)},
            allow_redirects=False,
        )
        assert deleted.status == 303
    assert _titles(web_bot) == ["Begrüßung und Ankommen"]
    driver.flush()
    updates = driver.messenger.texts("update")
    assert updates, driver.messenger.transcript
    assert "Begrüßung und Ankommen" in updates[-1] and "Kollegiale Beratung" not in updates[-1]
    assert "Begrüßung und Ankommen" in driver.say("orga", "agenda 1")


async def test_bad_input_is_refused_with_what_was_typed_kept(driver: Driver, web_bot: Bot) -> None:
    seed.cohort(driver, "Stadtlabor 2027", people=2, meetings=1, polls=0, rounds=0)
    driver.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11 Uhr" titel="Begrüßung"')
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        html = await (await client.get("/treffen/1")).text()
        token = csrf_of(html)
        base = {"csrf": token, "aktion": "neu", "tag": "1", "titel": "Mein langer Titel"}
        bad_time = await client.post(
            "/treffen/1/programm", data={**base, "von": "25:00", "bis": "26:00"}
        )
        text = await bad_time.text()
        assert bad_time.status == 400 and "keine Uhrzeit" in text
        assert 'value="Mein langer Titel"' in text  # nothing typed is lost
        backwards = await client.post(
            "/treffen/1/programm", data={**base, "von": "12:00", "bis": "11:00"}
        )
        assert backwards.status == 400 and "nicht nach dem Beginn" in await backwards.text()
        outside = await client.post(
            "/treffen/1/programm", data={**base, "tag": "7", "von": "9:00", "bis": "10:00"}
        )
        assert outside.status == 400 and "Tag des Treffens" in await outside.text()
        (item_id,) = _ids(web_bot)
        stale = await client.post(
            "/treffen/1/programm",
            data={"csrf": token, "aktion": "loeschen", "nr": "1", "punkt": str(item_id + 99)},
        )
        assert stale.status == 400 and "inzwischen geändert" in await stale.text()
        no_csrf = await client.post(
            "/treffen/1/programm", data={"aktion": "loeschen", "nr": "1", "punkt": str(item_id)}
        )
        assert no_csrf.status == 403
        missing = await client.get("/treffen/9")
        assert missing.status == 404
    assert _titles(web_bot) == ["Begrüßung"]  # nothing changed by any of them


async def test_the_attendance_table_is_for_organisers_only(driver: Driver, web_bot: Bot) -> None:
    users = seed.cohort(driver, "Stadtlabor 2027", people=4, meetings=1, polls=0, rounds=0)
    assert "vegan" in driver.say(users[0], 'teilnahme 1 tag1 essen="vegan" uebernachtung=ja')
    driver.say(users[3], "teilnahme 1 nein")
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        html = await (await client.get("/treffen/1")).text()
        csv = await client.get("/treffen/1/teilnahme.csv")
        csv_text = await csv.text()
    assert "Teilnahme" in html and "vegan" in html
    assert "Ohne Rückmeldung: 1" in html and "Absagen: 1" in html
    assert csv.status == 200 and "vegan" in csv_text
    async with client_for(web_bot) as client:
        page = await log_in(client, login_link(driver, users[2]))
        mine = await (await client.get("/treffen/1")).text()
        refused_csv = await client.get("/treffen/1/teilnahme.csv")
        refused_post = await client.post(
            "/treffen/1/programm",
            data={
                "csrf": csrf_of(page),
                "aktion": "neu",
                "tag": "1",
                "von": "9:00",
                "bis": "10:00",
                "titel": "Von einer Teilnehmerin",
            },
        )
    assert "vegan" not in mine and "Neuer Programmpunkt" not in mine  # the program only
    assert refused_csv.status == 403 and refused_post.status == 403
    assert "Von einer Teilnehmerin" not in _titles(web_bot)
