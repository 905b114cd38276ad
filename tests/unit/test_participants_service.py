"""Participants on the fake unit of work: add, remove, edit (import), roles; all audited."""

from __future__ import annotations

import pytest

from bot.errors import UserFacingError
from bot.services import participants as parts
from bot.services import registration as reg
from storage.models import Cohort, Person
from tests.unit.conftest import BERLIN, World


def _add(world: World, cohort: Cohort, orga: Person, name: str, email: str) -> Person:
    person, status, _ = parts.add_on_behalf(
        world.uow,
        actor_id=orga.id,
        cohort=cohort,
        details=reg.Details(name, "Jena", "Kämmerer/in", email),
        now=world.tick(),
        language="de",
        default_language="de",
        tz=BERLIN,
    )
    assert status in ("confirmed", "waitlisted")
    return person


def test_adding_on_behalf_creates_the_person_and_an_audit_entry(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    person = _add(world, cohort, orga, "Paula Neu", "paula@example.org")
    assert (person.display_name, person.municipality, person.email) == (
        "Paula Neu",
        "Jena",
        "paula@example.org",
    )
    entry = world.uow.audit.latest(cohort.id, limit=1)[0]
    assert (entry.action, entry.actor_person_id, entry.subject_person_id) == (
        "teilnehmende.hinzufuegen",
        orga.id,
        person.id,
    )
    assert entry.after == {"name": "Paula Neu", "kommune": "Jena", "status": "confirmed"}
    rows = parts.roster(world.uow, cohort, *reg.ACTIVE)
    assert [(r.name, r.status, r.is_host) for r in rows] == [("Paula Neu", "confirmed", False)]


def test_removal_frees_the_seat_tells_the_person_and_is_audited(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(capacity=1, actor=orga)
    anna, ben = world.person("Anna"), world.person("Ben")
    for p in (anna, ben):
        reg.register(
            world.uow,
            cohort=cohort,
            person=p,
            details=reg.Details(p.display_name or "", "Ulm", "Stabsstelle", "a@example.org"),
            consent=True,
            now=world.tick(),
            language="de",
            default_language="de",
            tz=BERLIN,
        )
    before, moved_up = parts.remove(
        world.uow,
        actor_id=orga.id,
        cohort=cohort,
        person=anna,
        now=world.tick(),
        default_language="de",
    )
    assert (before, moved_up) == ("confirmed", ben)
    assert world.dm_texts(anna) == [
        "Das Programmteam hat Ihre Anmeldung für „Stadtlabor 2026/27“ beendet. Bei Fragen "
        "wenden Sie sich bitte an die Organisation. Ihre Daten können Sie mit „meine-daten“ "
        "abrufen."
    ]
    entry = world.uow.audit.latest(cohort.id, limit=1)[0]
    assert (entry.action, entry.subject_person_id, entry.before, entry.after) == (
        "teilnehmende.entfernen",
        anna.id,
        {"status": "confirmed"},
        {"status": "withdrawn"},
    )
    with pytest.raises(UserFacingError, match="nichts abzumelden"):
        parts.remove(
            world.uow,
            actor_id=orga.id,
            cohort=cohort,
            person=anna,
            now=world.tick(),
            default_language="de",
        )


def test_import_updates_adds_and_reports_by_line(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    known = _add(world, cohort, orga, "Karl Alt", "karl@example.org")
    _add(world, cohort, orga, "Gleich Bleibt", "gleich@example.org")
    content = (
        "\ufeffname,kommune,funktion,email\n"
        "Karl Neu,Jena,Stadtplaner/in,KARL@example.org\n"
        "Gleich Bleibt,Jena,Kämmerer/in,gleich@example.org\n"
        "Nina Neu,Gera,Stabsstelle,nina@example.org\n"
        "Kaputt,Gera,Stabsstelle,keine-adresse\n"
        "Doppelt,Gera,Stabsstelle,nina@example.org\n"
    )
    report = parts.read_import(world.uow, cohort, content)
    assert [d.name for d in report.updated] == ["Karl Neu"]
    assert [d.name for d in report.new] == ["Nina Neu"]
    assert report.unchanged == 1
    assert [(line, e.render(lambda s: s)) for line, e in report.errors] == [
        (5, "Spalte „email“ enthält keine gültige E-Mail-Adresse."),
        (6, "Die E-Mail-Adresse steht schon in Zeile 4."),
    ]
    with pytest.raises(UserFacingError, match="nichts importiert"):
        parts.apply_import(
            world.uow,
            actor_id=orga.id,
            cohort=cohort,
            report=report,
            now=world.tick(),
            language="de",
            default_language="de",
            tz=BERLIN,
        )
    assert known.display_name == "Karl Alt"  # all rows or none
    report.errors.clear()
    parts.apply_import(
        world.uow,
        actor_id=orga.id,
        cohort=cohort,
        report=report,
        now=world.tick(),
        language="de",
        default_language="de",
        tz=BERLIN,
    )
    assert (known.display_name, known.function) == ("Karl Neu", "Stadtplaner/in")
    edit = next(e for e in world.uow.audit.latest(cohort.id) if e.action == "import.aendern")
    assert edit.subject_person_id == known.id
    assert edit.before == {"name": "Karl Alt", "kommune": "Jena", "funktion": "Kämmerer/in"}
    names = sorted(r.name for r in parts.roster(world.uow, cohort))
    assert names == ["Gleich Bleibt", "Karl Neu", "Nina Neu"]


def test_export_neutralises_formulas(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    _add(world, cohort, orga, "=HYPERLINK(1)", "f@example.org")
    data = parts.export_csv(parts.roster(world.uow, cohort)).decode("utf-8-sig")
    assert data.splitlines()[1].startswith("'=HYPERLINK(1),Jena,")


def test_host_flag_needs_a_confirmed_seat_and_roles_keep_one_organiser(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(capacity=1, actor=orga)
    host = _add(world, cohort, orga, "Gastgeberin", "g@example.org")
    waiting = _add(world, cohort, orga, "Wartend", "w@example.org")
    parts.set_host(
        world.uow, actor_id=orga.id, cohort=cohort, person=host, host=True, now=world.tick()
    )
    row = world.uow.participants.get(cohort.id, host.id)
    assert row is not None and row.is_host
    with pytest.raises(UserFacingError, match="keinen bestätigten Platz"):
        parts.set_host(
            world.uow, actor_id=orga.id, cohort=cohort, person=waiting, host=True, now=world.now
        )
    with pytest.raises(UserFacingError, match="einzige Person im Programmteam"):
        parts.set_organiser(
            world.uow, actor_id=orga.id, person=orga, organiser=False, now=world.now
        )
    parts.set_organiser(world.uow, actor_id=orga.id, person=host, organiser=True, now=world.now)
    parts.set_organiser(world.uow, actor_id=orga.id, person=orga, organiser=False, now=world.now)
    assert world.uow.persons.organisers() == [host]
    assert world.audit_actions()[-4:] == ["teilnehmende.hinzufuegen", "gastgeber", "rolle", "rolle"]
