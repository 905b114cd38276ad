"""Topic proposals and account linking on the fake unit of work."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import UserFacingError
from bot.identity import Identity
from bot.services import linking, topics
from bot.services import registration as reg
from storage.models import Dialog, PlatformIdentity, Reminder
from tests.unit.conftest import BERLIN, World


def test_proposals_are_numbered_deduplicated_merged_and_withdrawn(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    anna, ben = world.person("Anna", municipality="Jena"), world.person("Ben", municipality="Ulm")
    first = topics.propose(
        world.uow,
        cohort=cohort,
        person=anna,
        title="  Wohnen  im Alter ",
        description=None,
        now=world.now,
    )
    assert (first.number, first.title, first.status) == (1, "Wohnen im Alter", "offen")
    with pytest.raises(UserFacingError, match=r"schon vorgeschlagen \(Nr. 1\)"):
        topics.propose(
            world.uow,
            cohort=cohort,
            person=ben,
            title="wohnen IM alter",
            description=None,
            now=world.now,
        )
    second = topics.propose(
        world.uow,
        cohort=cohort,
        person=ben,
        title="Wohnen für Ältere",
        description="Mehrgenerationen",
        now=world.now,
    )
    third = topics.propose(
        world.uow, cohort=cohort, person=ben, title="Radwege", description=None, now=world.now
    )
    assert (second.number, third.number) == (2, 3)
    kept = topics.merge(
        world.uow, cohort=cohort, keep=1, others=[2], actor_id=orga.id, now=world.now
    )
    assert kept is first and first.description == "Mehrgenerationen"
    rows = topics.listing(world.uow, cohort.id)
    assert [(r.topic.number, r.proposers) for r in rows] == [
        (1, ["Anna (Jena)", "Ben (Ulm)"]),
        (3, ["Ben (Ulm)"]),
    ]
    with pytest.raises(UserFacingError, match="nicht mehr offen"):
        topics.merge(world.uow, cohort=cohort, keep=2, others=[3], actor_id=orga.id, now=world.now)
    topics.withdraw(
        world.uow,
        cohort=cohort,
        numbers=[3],
        actor_id=orga.id,
        now=world.now,
        default_language="de",
    )
    assert [t.number for t in topics.topics_of(world.uow, cohort.id, "offen")] == [1]
    assert len(world.dm_texts(ben)) == 1 and "Themenvorschlag 3 „Radwege“" in world.dm_texts(ben)[0]
    with pytest.raises(UserFacingError, match="Einen Themenvorschlag 9 gibt es nicht"):
        topics.get_topic(world.uow, cohort.id, 9)
    fourth = topics.propose(
        world.uow, cohort=cohort, person=anna, title="Radwege", description=None, now=world.now
    )
    assert fourth.number == 4  # a withdrawn title may come again; numbers never repeat
    assert world.audit_actions()[-2:] == ["themen.zusammenfuehren", "themen.zurueckziehen"]


def test_a_code_links_two_accounts_once(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    slack_anna, console_anna = world.person("Anna"), world.person("Anna Zwei")
    console_anna.email = None
    world.uow.persons.add(
        PlatformIdentity(person_id=slack_anna.id, platform="slack", external_id="U1")
    )
    reg.register(
        world.uow,
        cohort=cohort,
        person=console_anna,
        details=reg.Details("Anna Zwei", "Kiel", "Stabsstelle", "anna@example.org"),
        consent=True,
        now=world.now,
        language="de",
        default_language="de",
        tz=BERLIN,
    )
    world.db.insert(Dialog(person_id=console_anna.id, kind="x", state={}, updated_at=world.now))
    world.db.insert(
        Reminder(
            idempotency_key="r",
            due_at=world.now,
            kind="text",
            person_id=console_anna.id,
            target={},
            created_at=world.now,
        )
    )
    code = linking.new_code(world.uow, slack_anna, world.now)
    assert len(code) == 8 and world.uow.state.get(f"link:{code}") is not None
    merged = linking.redeem(world.uow, console_anna, code.lower(), world.now + timedelta(minutes=5))
    assert merged is slack_anna
    assert world.uow.state.get(f"link:{code}") is None  # one use only
    assert {i.external_id for i in world.uow.persons.identities_of(slack_anna.id)} == {
        "anna",
        "annazwei",
        "U1",
    }
    row = world.uow.participants.get(cohort.id, slack_anna.id)
    assert row is not None and row.status == "confirmed"
    assert world.uow.dialogs.of_person(console_anna.id) is None
    assert world.db.rows(Reminder)[0].person_id == slack_anna.id
    assert console_anna.erased_at is not None and console_anna.display_name is None
    assert slack_anna.email == "anna@example.org"  # taken over where the target had none
    assert world.audit_actions()[-1] == "verknuepfen"
    with pytest.raises(UserFacingError, match="kenne ich nicht"):
        linking.redeem(world.uow, console_anna, code, world.now)


def test_codes_expire_and_configured_organisers_are_not_linked(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    other = world.person("Orga Zwei", organiser=True)
    code = linking.new_code(world.uow, orga, world.now)
    with pytest.raises(UserFacingError, match="abgelaufen"):
        linking.redeem(world.uow, other, code, world.now + timedelta(minutes=16))
    code = linking.new_code(world.uow, orga, world.now)
    with pytest.raises(UserFacingError, match="STADTLABOR_ORGANIZERS"):
        linking.redeem(world.uow, other, code, world.now, configured=(Identity("console", "orga"),))
    code = linking.new_code(world.uow, orga, world.now)
    with pytest.raises(UserFacingError, match="bereits verknüpft"):
        linking.redeem(world.uow, orga, code, world.now)
