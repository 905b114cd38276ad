"""The participants page: filter and sort by GET query, add, edit and remove through the
chat's services (same audit entries and DMs); participants and forged forms are refused."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app import Bot
from storage.models import AuditEntry, Person
from tests.helpers import Driver, signup
from tests.web.support import client_for, csrf_of, log_in, login_link, world


def _audit(bot: Bot, action: str) -> list[AuditEntry]:
    with bot.uow_factory() as uow:
        rows = list(uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        uow.session.expunge_all()
        return rows


def _person(bot: Bot, name: str) -> int:
    with bot.uow_factory() as uow:
        found = uow.session.scalar(select(Person.id).where(Person.display_name == name))
        assert found is not None, name
        return int(found)


def _names(html: str) -> list[str]:
    """The rows' names in page order."""
    return re.findall(r'<th scope="row">([^<]+?)(?: <span|</th>)', html)


async def _get(client: TestClient[Any, Any], query: str = "") -> tuple[int, str]:
    answer = await client.get("/teilnehmende" + query)
    return answer.status, await answer.text()


def _unmoderated_world(driver: Driver) -> None:
    """Capacity 3: anna, bert, cora seated; dora and emil on the waitlist (in that order)."""
    driver.say("orga", 'jahrgang anlegen "Stadtlabor 2027" plaetze=3')
    driver.say("anna", signup("anna", funktion="Kämmerin"))
    driver.say("bert", signup("bert", kommune="Zederstadt"))
    driver.say("cora", signup("cora", funktion='"Stabsstelle Demografie"'))
    driver.say("dora", signup("dora"))
    driver.say("emil", signup("emil", kommune="Ahornstadt"))


async def test_filter_and_sort_by_query(driver: Driver, web_bot: Bot) -> None:
    _unmoderated_world(driver)
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        status, html = await _get(client)
        assert status == 200
        assert _names(html) == [
            "Dora Muster",
            "Emil Muster",
            "Anna Muster",
            "Bert Muster",
            "Cora Muster",
        ]
        # the waitlist keeps its real places when filtered
        status, html = await _get(client, "?status=warteliste&suche=ahorn")
        assert status == 200 and _names(html) == ["Emil Muster"]
        assert "<td>2</td>" in html and "Niemand passt zum Filter." in html
        status, html = await _get(client, "?status=bestaetigt&sortierung=kommune")
        assert _names(html) == ["Anna Muster", "Cora Muster", "Bert Muster"]  # Zederstadt last
        status, html = await _get(client, "?funktion=Kämmerer/in")
        assert _names(html) == ["Anna Muster"]
        status, html = await _get(client, "?funktion=Stabsstelle")
        assert _names(html) == ["Cora Muster"]
        status, html = await _get(client, "?suche=BERT")
        assert _names(html) == ["Bert Muster"]
        # refused rather than guessed: the message, and the unfiltered list
        status, html = await _get(client, "?status=irgendwas")
        assert status == 400 and "Unbekannter Status „irgendwas“" in html
        assert len(_names(html)) == 5
        status, html = await _get(client, "?sortierung=alter")
        assert status == 400 and "Unbekannte Sortierung" in html


async def test_add_edit_and_remove_through_the_chat_services(driver: Driver, web_bot: Bot) -> None:
    _unmoderated_world(driver)
    driver.flush()
    driver.messenger.transcript.clear()
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        _status, html = await _get(client)
        csrf = csrf_of(html)
        form = {
            "csrf": csrf,
            "name": "Ben Beispiel",
            "kommune": "Beispielstadt",
            "funktion": "Beigeordneter",
            "email": "kein-at-zeichen",
            "bueroleitung": "Frau Vorzimmer",
        }
        bad = await client.post("/teilnehmende/neu", data=form)
        text = await bad.text()
        assert bad.status == 400 and "keine gültige E-Mail-Adresse" in text
        assert 'value="Ben Beispiel"' in text and 'value="Frau Vorzimmer"' in text  # kept
        assert _audit(web_bot, "teilnehmende.hinzufuegen") == []
        form["email"] = "ben@beispielstadt.de"
        added = await client.post("/teilnehmende/neu", data=form)
        text = await added.text()
        assert (
            added.status == 200 and "Ben Beispiel ist angemeldet: Warteliste (Position 3)." in text
        )
        assert len(_audit(web_bot, "teilnehmende.hinzufuegen")) == 1
        ben = _person(web_bot, "Ben Beispiel")

        asked = await client.post("/teilnehmende/bearbeiten", data={"csrf": csrf, "person": ben})
        text = await asked.text()
        assert asked.status == 200 and 'value="ben@beispielstadt.de"' in text
        change = {**form, "person": str(ben), "aktion": "speichern", "kommune": "Neustadt"}
        change["name"] = ""
        refused = await client.post("/teilnehmende/bearbeiten", data=change)
        text = await refused.text()
        assert refused.status == 400 and "Bitte füllen Sie „Name“ aus." in text
        assert 'value="Neustadt"' in text  # what was typed
        change["name"] = "Ben Beispiel"
        saved = await client.post("/teilnehmende/bearbeiten", data=change)
        text = await saved.text()
        assert "Die Angaben von Ben Beispiel sind geändert (Kommune)." in text
        same = await client.post("/teilnehmende/bearbeiten", data=change)
        assert same.status == 400 and "Nichts geändert" in await same.text()
        (entry,) = _audit(web_bot, "teilnehmende.aendern")
        assert entry.before == {"kommune": "Beispielstadt"}
        assert entry.after == {"kommune": "Neustadt"}
        assert entry.subject_person_id == ben

        anna = _person(web_bot, "Anna Muster")
        asked = await client.post("/teilnehmende/entfernen", data={"csrf": csrf, "person": anna})
        text = await asked.text()
        assert asked.status == 200 and "Wirklich Anna Muster aus „Stadtlabor 2027“" in text
        assert _audit(web_bot, "teilnehmende.entfernen") == []  # only asked
        removed = await client.post(
            "/teilnehmende/entfernen", data={"csrf": csrf, "person": anna, "bestaetigt": "ja"}
        )
        text = await removed.text()
        assert "Anna Muster wurde entfernt" in text and "nachgerückt: Dora Muster" in text
        gone = await client.post(
            "/teilnehmende/entfernen", data={"csrf": csrf, "person": anna, "bestaetigt": "ja"}
        )
        assert gone.status == 404  # not registered any more: nothing happens twice
    assert len(_audit(web_bot, "teilnehmende.entfernen")) == 1
    roster = driver.say("orga", "teilnehmende")
    assert "Anna Muster" not in roster and "Neustadt" in roster
    driver.flush()
    dms = driver.messenger.texts("dm")
    assert any("Programmteam hat Ihre Anmeldung" in t for t in dms), dms


async def test_participants_forged_forms_and_foreign_people_are_refused(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    driver.say("orga", 'jahrgang anlegen "Anderer" plaetze=3', channel="andere")
    driver.say("fritz", signup("fritz"), channel="andere")
    fritz = _person(web_bot, "Fritz Muster")
    anna = _person(web_bot, "Anna Muster")
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "anna"))
        csrf = csrf_of(html)
        status, _html = await _get(client)
        assert status == 403
        for path in ("/teilnehmende/neu", "/teilnehmende/bearbeiten", "/teilnehmende/entfernen"):
            answer = await client.post(
                path, data={"csrf": csrf, "person": str(anna), "bestaetigt": "ja", "name": "X"}
            )
            assert answer.status == 403, path
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
        csrf = csrf_of(html)
        with web_bot.uow_factory() as uow:
            ids = {c.name: c.id for c in uow.cohorts.active()}
        await client.post("/jahrgang/wahl", data={"csrf": csrf, "jahrgang": ids["Stadtlabor 2027"]})
        no_csrf = await client.post(
            "/teilnehmende/entfernen", data={"person": str(anna), "bestaetigt": "ja"}
        )
        assert no_csrf.status == 403
        foreign = await client.post(
            "/teilnehmende/entfernen", data={"csrf": csrf, "person": str(fritz), "bestaetigt": "ja"}
        )
        assert foreign.status == 404
        foreign_edit = await client.post(
            "/teilnehmende/bearbeiten", data={"csrf": csrf, "person": str(fritz)}
        )
        assert foreign_edit.status == 404
    assert _audit(web_bot, "teilnehmende.entfernen") == []
    assert "Fritz Muster" in driver.say("orga", "teilnehmende", channel="andere")
    assert "Anna Muster" in driver.say("orga", "teilnehmende")
