"""Contract: one scenario through the services on FakeUnitOfWork and on the SQL unit of work
(SQLite file and PostgreSQL) gives the same results, so the fake cannot drift from the real
thing. Compared by names and texts, not ids (sequences differ after a rollback)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserFacingError
from bot.services import cohort_end, cohorts, linking, participants, topics
from bot.services import registration as reg
from bot.settings import Settings
from storage.db import create_db_engine, session_factory
from storage.memory import MemoryDatabase
from storage.migrate import upgrade
from storage.models import Cohort, FeedbackRound, Meeting, Person, PlatformIdentity, Poll
from storage.ports import UnitOfWorkPort
from storage.uow import SqlUnitOfWork

START = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
Factory = Callable[[], UnitOfWorkPort]


@dataclass
class NoOpenWork:
    calls: list[str] = field(default_factory=list)

    def close_poll(self, poll: Poll) -> None:
        self.calls.append(f"poll {poll.number}")

    def close_round(self, rnd: FeedbackRound) -> None:
        self.calls.append(f"round {rnd.number}")

    def cancel_meeting(self, meeting: Meeting) -> None:
        self.calls.append(f"meeting {meeting.number}")


def _person(
    uow: UnitOfWorkPort,
    name: str,
    platform: str = "console",
    seen: datetime | None = START,
    **kw: Any,
) -> Person:
    person = Person(display_name=name, created_at=START, **kw)
    uow.persons.add(person)
    handle = name.lower().replace(" ", "")
    uow.persons.add(
        PlatformIdentity(
            person_id=person.id,
            platform=platform,
            external_id=handle,
            handle=handle,
            last_seen_at=seen,
        )
    )
    return person


def _by_name(uow: UnitOfWorkPort, name: str) -> Person:
    found = uow.persons.find_by_name(name)
    assert len(found) == 1, name
    return found[0]


def _cohort(uow: UnitOfWorkPort) -> Cohort:
    cohort = uow.cohorts.get_by_name("Stadtlabor 2026/27")
    assert cohort is not None
    return cohort


def scenario(factory: Factory) -> dict[str, Any]:
    now = START
    with factory() as uow:
        orga = _person(uow, "Orga", is_organiser=True)
        cohort = cohorts.create_cohort(
            uow,
            actor_id=orga.id,
            name="Stadtlabor 2026/27",
            capacity=2,
            moderated=False,
            deadline=None,
            platform="console",
            channel_id="stadtlabor",
            now=now,
        )
        for i, name in enumerate(("Anna", "Ben", "Cem", "Dora")):
            person = _person(uow, name)
            reg.register(
                uow,
                cohort=cohort,
                person=person,
                details=reg.Details(name, "Kassel", "Stabsstelle", f"{name.lower()}@example.org"),
                consent=True,
                now=now + timedelta(seconds=i),
                language="de",
                default_language="de",
                tz=BERLIN,
            )
        uow.commit()
    now += timedelta(minutes=1)
    with factory() as uow:
        cohort, orga = _cohort(uow), _by_name(uow, "Orga")
        participants.remove(
            uow,
            actor_id=orga.id,
            cohort=cohort,
            person=_by_name(uow, "Anna"),
            now=now,
            default_language="de",
        )
        for title in ("Wohnen", "Radwege", "Wohnen im Alter"):
            topics.propose(
                uow,
                cohort=cohort,
                person=_by_name(uow, "Ben"),
                title=title,
                description=None,
                now=now,
            )
        topics.merge(uow, cohort=cohort, keep=1, others=[3], actor_id=orga.id, now=now)
        topics.withdraw(
            uow, cohort=cohort, numbers=[2], actor_id=orga.id, now=now, default_language="de"
        )
        uow.commit()
    with factory() as uow:  # rolled back: leaves no trace
        eva = _person(uow, "Eva")
        reg.register(
            uow,
            cohort=_cohort(uow),
            person=eva,
            details=reg.Details("Eva", "Gera", "Stabsstelle", "eva@example.org"),
            consent=True,
            now=now,
            language="de",
            default_language="de",
            tz=BERLIN,
        )
        uow.rollback()
    with factory() as uow:
        _person(uow, "Ben Matrix", platform="matrix", seen=now)  # seen last: DMs go there
        ben = _by_name(uow, "Ben")
        uow.persons.add(PlatformIdentity(person_id=ben.id, platform="slack", external_id="U1"))
        code = linking.new_code(uow, _by_name(uow, "Ben"), now)
        uow.commit()
    with factory() as uow:
        refused = ""
        try:
            linking.redeem(uow, _by_name(uow, "Dora"), code, now)  # both registered: refused
        except UserFacingError as exc:
            refused = exc.render(lambda s: s)
        uow.rollback()
    with factory() as uow:
        code = linking.new_code(uow, _by_name(uow, "Ben"), now)
        linking.redeem(uow, _by_name(uow, "Ben Matrix"), code, now)
        uow.commit()
    now += timedelta(minutes=1)
    with factory() as uow:
        cohort, orga = _cohort(uow), _by_name(uow, "Orga")
        plan = cohort_end.plan(uow, cohort, now)
        open_work = NoOpenWork()
        cohort_end.close(
            uow,
            cohort,
            actor_id=orga.id,
            now=now,
            settings=Settings.model_construct(language="de"),
            open_work=open_work,
        )
        uow.commit()
    with factory() as uow:
        return _read(uow, plan, open_work, refused)


def _read(
    uow: UnitOfWorkPort, plan: cohort_end.ClosingPlan, open_work: NoOpenWork, refused: str
) -> dict[str, Any]:
    cohort = _cohort(uow)

    def name(person_id: int | None) -> str:
        person = uow.persons.get(person_id) if person_id else None
        return "-" if person is None else (person.display_name or "(leer)")

    info = cohorts.info(uow, cohort)
    ben = _by_name(uow, "Ben")
    return {
        "roster": [
            (r.name, r.status, reg.position_of(uow, p))
            for r, p in zip(
                participants.roster(uow, cohort),
                uow.participants.in_cohort(cohort.id),
                strict=True,
            )
        ],
        "info": (info.confirmed, info.waitlisted, info.channels, info.ended_at),
        "audit": [
            (e.action, name(e.actor_person_id), name(e.subject_person_id), e.before, e.after)
            for e in reversed(uow.audit.latest(cohort.id, limit=100))
            if e.action != "jahrgang.abschliessen"
        ],
        "closed": (plan, open_work.calls),
        "topics": [
            (t.number, t.title, t.status, t.merged_into_number, name(t.proposed_by_person_id))
            for t in uow.topics.of_cohort(cohort.id)
        ],
        "ben": (
            [f"{i.platform}:{i.external_id}" for i in uow.persons.identities_of(ben.id)],
            ben.email,
            [p.status for p in uow.participants.of_person(ben.id)],
        ),
        "eva": uow.persons.find_by_name("Eva"),
        "refused": refused,
        "outbox": sorted(
            (m.operation, str(m.target), m.payload["message"]["fallback"])
            for platform in ("console", "matrix")
            for m in uow.outbox.due(platform, START + timedelta(days=1), limit=1000)
        ),
        "organisers": [p.display_name for p in uow.persons.organisers()],
    }


@pytest.fixture
def sql_factory(db_url: str) -> Iterator[Factory]:
    engine = create_db_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    yield lambda: SqlUnitOfWork(factory)
    engine.dispose()


def test_the_fake_and_the_database_agree(sql_factory: Factory) -> None:
    memory = scenario(MemoryDatabase())
    sql = scenario(sql_factory)
    assert memory["roster"] == [
        ("Anna", "withdrawn", 0),
        ("Ben", "confirmed", 1),
        ("Cem", "confirmed", 2),
        ("Dora", "waitlisted", 1),
    ]
    assert memory["eva"] == [] and memory["refused"].startswith("Beide Konten sind")
    for key in memory:
        assert memory[key] == sql[key], key
