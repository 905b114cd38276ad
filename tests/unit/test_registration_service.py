"""Registration on the fake unit of work: seats, the cap, the waitlist, moderation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.actions import CommandAction
from bot.errors import UserFacingError
from bot.services import registration as reg
from bot.views import Message
from storage.models import Cohort, Person
from tests.unit.conftest import BERLIN, World


def _details(person: Person, municipality: str = "Kassel") -> reg.Details:
    return reg.Details(
        name=person.display_name or "?",
        municipality=municipality,
        function="Bürgermeister/in",
        email=f"{(person.display_name or 'x').lower().replace(' ', '.')}@example.org",
    )


def _register(world: World, cohort: Cohort, person: Person, **kw: object) -> reg.Outcome:
    world.tick()
    return reg.register(
        world.uow,
        cohort=cohort,
        person=person,
        details=_details(person),
        consent=bool(kw.get("consent", True)),
        now=world.now,
        language="de",
        default_language="de",
        tz=BERLIN,
    )


def _withdraw(world: World, cohort: Cohort, person: Person) -> Person | None:
    world.tick()
    return reg.withdraw(
        world.uow, cohort=cohort, person=person, now=world.now, default_language="de"
    )


def test_twenty_seats_then_the_waitlist_in_order(world: World) -> None:
    cohort = world.cohort()
    assert cohort.capacity == 20  # the programme's default cap
    people = [world.person(f"Person {i}") for i in range(23)]
    outcomes = [_register(world, cohort, p) for p in people]
    assert [o.status for o in outcomes] == ["confirmed"] * 20 + ["waitlisted"] * 3
    assert [o.position for o in outcomes] == [*range(1, 21), 1, 2, 3]
    assert world.uow.participants.count(cohort.id, "confirmed") == 20
    assert cohort.seat_version == 23
    registered = world.uow.participants.in_cohort(cohort.id)
    assert len(registered) == 23 and all(p.consent_at is not None for p in registered)
    assert people[0].municipality == "Kassel" and people[0].function == "Bürgermeister/in"


def test_withdrawal_promotes_the_first_on_the_waitlist_and_tells_them(world: World) -> None:
    cohort = world.cohort(capacity=2)
    anna, ben, cem, dora = (world.person(n) for n in ("Anna", "Ben", "Cem", "Dora"))
    for p in (anna, ben, cem, dora):
        _register(world, cohort, p)
    moved = _withdraw(world, cohort, anna)
    assert moved is cem
    cem_row = world.uow.participants.get(cohort.id, cem.id)
    assert cem_row is not None and cem_row.status == "confirmed"
    assert reg.position_of(world.uow, cem_row) == 2  # Ben keeps seat 1, Cem gets seat 2
    dora_row = world.uow.participants.get(cohort.id, dora.id)
    assert dora_row is not None and reg.position_of(world.uow, dora_row) == 1
    assert world.dm_texts(cem) == [
        "Gute Nachricht: Im Jahrgang „Stadtlabor 2026/27“ ist ein Platz frei geworden. "
        "Ihre Teilnahme ist jetzt bestätigt (Platz 2)."
    ]
    assert world.dm_texts(dora) == []
    anna_row = world.uow.participants.get(cohort.id, anna.id)
    assert anna_row is not None and anna_row.status == "withdrawn"


def test_a_waitlisted_withdrawal_promotes_nobody(world: World) -> None:
    cohort = world.cohort(capacity=1)
    anna, ben, cem = (world.person(n) for n in ("Anna", "Ben", "Cem"))
    for p in (anna, ben, cem):
        _register(world, cohort, p)
    assert _withdraw(world, cohort, ben) is None
    cem_row = world.uow.participants.get(cohort.id, cem.id)
    assert cem_row is not None and cem_row.status == "waitlisted"
    assert reg.position_of(world.uow, cem_row) == 1


def test_registering_again_after_withdrawal_goes_to_the_back(world: World) -> None:
    cohort = world.cohort(capacity=1)
    anna, ben, cem = (world.person(n) for n in ("Anna", "Ben", "Cem"))
    for p in (anna, ben, cem):
        _register(world, cohort, p)
    _withdraw(world, cohort, ben)
    again = _register(world, cohort, ben)
    assert again == reg.Outcome("waitlisted", 2)  # behind Cem
    assert len(world.uow.participants.in_cohort(cohort.id)) == 3  # the row is reused


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [(5, "Sie sind bereits angemeldet (Platz 1)."), (0, None)],
)
def test_duplicate_registration_is_refused_with_the_place(
    world: World, capacity: int, expected: str | None
) -> None:
    cohort = world.cohort(capacity=max(capacity, 1))
    if capacity == 0:  # full: the second person waits, and is told the waitlist position
        _register(world, cohort, world.person("Erste"))
        expected = "Sie stehen bereits auf der Warteliste (Position 1)."
    anna = world.person("Anna")
    _register(world, cohort, anna)
    with pytest.raises(UserFacingError) as caught:
        _register(world, cohort, anna)
    assert caught.value.render(lambda s: s) == expected
    assert len(world.uow.participants.in_cohort(cohort.id)) == (2 if capacity == 0 else 1)


def test_without_consent_nothing_is_stored(world: World) -> None:
    cohort = world.cohort()
    anna = world.person("Anna")
    with pytest.raises(UserFacingError, match="Einwilligung"):
        _register(world, cohort, anna, consent=False)
    assert world.uow.participants.get(cohort.id, anna.id) is None


def test_deadline_and_closed_cohort_refuse(world: World) -> None:
    cohort = world.cohort()
    cohort.registration_deadline = world.now - timedelta(hours=1)
    with pytest.raises(UserFacingError, match="Anmeldefrist"):
        _register(world, cohort, world.person("Spät"))
    cohort.registration_deadline, cohort.ended_at = None, world.now
    with pytest.raises(UserFacingError, match="abgeschlossen"):
        _register(world, cohort, world.person("Noch später"))


def test_withdrawing_without_registration_is_refused(world: World) -> None:
    cohort = world.cohort()
    with pytest.raises(UserFacingError, match="nichts abzumelden"):
        _withdraw(world, cohort, world.person("Niemand"))


def test_moderated_registration_waits_and_organisers_are_asked(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(moderated=True, actor=orga)
    anna = world.person("Anna")
    outcome = _register(world, cohort, anna)
    assert outcome == reg.Outcome("pending", 1)
    asked = [m for m in world.outbox("organisers:") if m.target == {"identity": "console:orga"}]
    assert len(asked) == 1
    message = asked[0].payload["message"]
    assert "Neue Anmeldung für „Stadtlabor 2026/27“: Anna (Kassel)" in message["fallback"]
    buttons = Message.from_dict(message).blocks[-1].buttons  # type: ignore[union-attr]
    assert [b.action for b in buttons] == [
        CommandAction("bestaetigen", ("console:anna",)),
        CommandAction("ablehnen", ("console:anna",)),
    ]
    with pytest.raises(UserFacingError, match="bereits zur Bestätigung"):
        _register(world, cohort, anna)


def test_moderated_confirm_and_reject_are_audited_and_told(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(moderated=True, capacity=1, actor=orga)
    anna, ben, cem = (world.person(n) for n in ("Anna", "Ben", "Cem"))
    for p in (anna, ben, cem):
        _register(world, cohort, p)
    accepted = reg.decide(
        world.uow,
        actor_id=orga.id,
        cohort=cohort,
        person=anna,
        accept=True,
        now=world.tick(),
        default_language="de",
    )
    assert accepted == reg.Outcome("confirmed", 1)
    with pytest.raises(UserFacingError, match="Alle 1 Plätze sind belegt"):
        reg.decide(
            world.uow,
            actor_id=orga.id,
            cohort=cohort,
            person=ben,
            accept=True,
            now=world.tick(),
            default_language="de",
        )
    declined = reg.decide(
        world.uow,
        actor_id=orga.id,
        cohort=cohort,
        person=cem,
        accept=False,
        now=world.tick(),
        default_language="de",
    )
    assert declined.status == "declined"
    with pytest.raises(UserFacingError, match="wartet nicht auf eine Bestätigung"):
        reg.decide(
            world.uow,
            actor_id=orga.id,
            cohort=cohort,
            person=cem,
            accept=True,
            now=world.tick(),
            default_language="de",
        )
    entries = [
        (e.action, e.subject_person_id, e.before, e.after)
        for e in reversed(world.uow.audit.latest(cohort.id))
        if e.action in ("bestaetigen", "ablehnen")
    ]
    assert entries == [
        ("bestaetigen", anna.id, {"status": "pending"}, {"status": "confirmed"}),
        ("ablehnen", cem.id, {"status": "pending"}, {"status": "declined"}),
    ]
    assert world.dm_texts(anna)[-1].startswith("Ihre Anmeldung für „Stadtlabor 2026/27“ ist best")
    assert "nicht berücksichtigt" in world.dm_texts(cem)[-1]


def test_a_freed_seat_in_a_moderated_cohort_asks_the_organisers(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(moderated=True, capacity=1, actor=orga)
    anna, ben = world.person("Anna"), world.person("Ben", municipality="Gotha")
    _register(world, cohort, anna)
    _register(world, cohort, ben)
    reg.decide(
        world.uow,
        actor_id=orga.id,
        cohort=cohort,
        person=anna,
        accept=True,
        now=world.tick(),
        default_language="de",
    )
    before = len(world.outbox("organisers:"))
    assert _withdraw(world, cohort, anna) is None  # nobody moves up on their own
    ben_row = world.uow.participants.get(cohort.id, ben.id)
    assert ben_row is not None and ben_row.status == "pending"
    asked = world.outbox("organisers:")[before:]
    assert len(asked) == 1 and "ist ein Platz frei" in asked[0].payload["message"]["fallback"]
