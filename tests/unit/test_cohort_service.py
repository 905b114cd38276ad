"""Cohorts and closing a cohort, on the fake unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bot.errors import UserFacingError
from bot.services import cohort_end
from bot.services import cohorts as svc
from bot.settings import Settings
from storage.models import FeedbackRound, Meeting, Poll, Reminder
from tests.unit.conftest import World


@dataclass
class RecordingClosers:
    """OpenWork that records what closing asked of polls, feedback and meetings."""

    calls: list[tuple[str, int]] = field(default_factory=list)

    def close_poll(self, poll: Poll) -> None:
        self.calls.append(("poll", poll.number))

    def close_round(self, rnd: FeedbackRound) -> None:
        self.calls.append(("round", rnd.number))

    def cancel_meeting(self, meeting: Meeting) -> None:
        self.calls.append(("meeting", meeting.number))


def _meeting(world: World, cohort_id: int, number: int, days: int, deleted: bool = False) -> None:
    start = world.now + timedelta(days=days)
    world.db.insert(
        Meeting(
            cohort_id=cohort_id,
            number=number,
            title=f"Treffen {number}",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            deleted_at=world.now if deleted else None,
        )
    )


def test_create_and_bind_refuse_duplicates_and_are_audited(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort("Stadtlabor 2026/27", actor=orga)
    assert world.uow.cohorts.get_by_channel("console", "stadtlabor") is cohort
    with pytest.raises(UserFacingError, match="gibt es schon"):
        world.cohort("stadtlabor 2026/27", channel="anderer", actor=orga)
    with pytest.raises(UserFacingError, match="gehört schon zu einem Jahrgang"):
        world.cohort("Zweiter", channel="stadtlabor", actor=orga)
    with pytest.raises(UserFacingError, match="zwischen 1 und 1000"):
        world.cohort("Zu groß", capacity=1001, channel=None, actor=orga)
    bound = svc.bind_channel(
        world.uow,
        actor_id=orga.id,
        name="Stadtlabor 2026/27",
        platform="matrix",
        channel_id="!room:example.org",
        now=world.now,
    )
    assert bound is cohort
    assert [b.channel_id for b in world.uow.cohorts.bindings_of(cohort.id)] == [
        "stadtlabor",
        "!room:example.org",
    ]
    assert world.audit_actions() == ["jahrgang.anlegen", "jahrgang.verbinden"]
    with pytest.raises(
        UserFacingError, match=r"kenne ich nicht\. Vorhandene Jahrgänge: Stadtlabor"
    ):
        svc.bind_channel(
            world.uow,
            actor_id=orga.id,
            name="Gibt es nicht",
            platform="console",
            channel_id="x",
            now=world.now,
        )


def test_info_counts_seats_and_lists_meetings_and_the_end(world: World) -> None:
    cohort = world.cohort(capacity=3)
    _meeting(world, cohort.id, 2, days=40)
    _meeting(world, cohort.id, 1, days=10)
    _meeting(world, cohort.id, 3, days=90, deleted=True)
    info = svc.info(world.uow, cohort)
    assert [m[0] for m in info.meetings] == [1, 2]
    assert info.ended_at == world.now + timedelta(days=40, hours=3) + svc.ENDS_AFTER_LAST_MEETING
    assert (info.capacity, info.confirmed, info.waitlisted) == (3, 0, 0)
    assert info.channels == ("console:stadtlabor",)


def test_plan_and_close_a_cohort(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    other = world.cohort("Anderer", channel="anderer", actor=orga)
    _meeting(world, cohort.id, 1, days=-3)  # past: stays
    _meeting(world, cohort.id, 2, days=5)
    for number, closed in ((1, True), (2, False)):
        world.db.insert(
            Poll(
                cohort_id=cohort.id,
                number=number,
                question="?",
                created_at=world.now,
                closed_at=world.now if closed else None,
            )
        )
    world.db.insert(
        FeedbackRound(
            cohort_id=cohort.id,
            number=1,
            title="Runde",
            questions={},
            closes_at=world.now + timedelta(days=1),
            created_at=world.now,
        )
    )
    for key, cohort_id in (("a", cohort.id), ("b", cohort.id), ("c", other.id)):
        world.db.insert(
            Reminder(
                idempotency_key=key,
                due_at=world.now + timedelta(days=1),
                kind="text",
                cohort_id=cohort_id,
                target={},
                created_at=world.now,
            )
        )
    plan = cohort_end.plan(world.uow, cohort, world.now)
    assert plan == cohort_end.ClosingPlan((2,), (1,), (2,), 2, 1)
    closers = RecordingClosers()
    settings = Settings.model_construct(language="de")
    done = cohort_end.close(
        world.uow,
        cohort,
        actor_id=orga.id,
        now=world.tick(),
        settings=settings,
        open_work=closers,
    )
    assert done == plan
    assert closers.calls == [("poll", 2), ("round", 1), ("meeting", 2)]
    assert cohort.ended_at == world.now
    statuses = {r.idempotency_key: r.status for r in world.db.rows(Reminder)}
    assert statuses == {"a": "cancelled", "b": "cancelled", "c": "pending"}
    notice = world.outbox(f"cohort:{cohort.id}:ended")
    assert [m.target["channel_id"] for m in notice] == ["stadtlabor"]
    assert "ist abgeschlossen" in notice[0].payload["message"]["fallback"]
    entry = world.uow.audit.latest(cohort.id, limit=1)[0]
    assert entry.action == "jahrgang.abschliessen"
    assert entry.after is not None and entry.after["erinnerungen-abgesagt"] == 2
    with pytest.raises(UserFacingError, match="bereits abgeschlossen"):
        cohort_end.close(
            world.uow,
            cohort,
            actor_id=orga.id,
            now=world.now,
            settings=settings,
            open_work=closers,
        )
    with pytest.raises(UserFacingError, match="nur noch gelesen"):
        cohort_end.check_writable("anmelden", [], cohort, "Europe/Berlin")
    cohort_end.check_writable("umfrage", ["3"], cohort, "Europe/Berlin")  # reading still works
