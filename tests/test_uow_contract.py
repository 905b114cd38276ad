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
from bot.services import (
    agenda,
    attendance,
    cohort_end,
    cohorts,
    linking,
    meetings,
    participants,
    topics,
)
from bot.services import feedback as fb
from bot.services import feedback_close as fb_close
from bot.services import feedback_erase as fb_erase
from bot.services import registration as reg
from bot.services.feedback_start import RoundRequest
from bot.settings import Settings
from storage.db import create_db_engine, session_factory
from storage.memory import MemoryDatabase
from storage.migrate import upgrade
from storage.models import (
    Cohort,
    FeedbackRound,
    Meeting,
    Person,
    PlatformIdentity,
    Poll,
)
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


DAY1 = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)  # Thursday 10:00 in Berlin
K2 = Settings.model_construct(language="de", anonymity_threshold=2)


def meetings_feedback_scenario(factory: Factory) -> dict[str, Any]:
    """Meetings (create, agenda, move, delete), attendance, and two feedback rounds (named,
    anonymous with a batch, closed and sealed), then one person's erasure."""
    now = START
    with factory() as uow:
        orga = _person(uow, "Orga", is_organiser=True)
        cohort = cohorts.create_cohort(
            uow,
            actor_id=orga.id,
            name="Stadtlabor 2026/27",
            capacity=20,
            moderated=False,
            deadline=None,
            platform="console",
            channel_id="stadtlabor",
            now=now,
        )
        for i, name in enumerate(("Anna", "Ben", "Cem", "Dora", "Emil")):
            reg.register(
                uow,
                cohort=cohort,
                person=_person(uow, name, municipality=f"{name}stadt"),
                details=reg.Details(name, f"{name}stadt", "Stabsstelle", f"{name}@example.org"),
                consent=True,
                now=now + timedelta(seconds=i),
                language="de",
                default_language="de",
                tz=BERLIN,
            )
        data = meetings.MeetingData("Auftakt", DAY1, DAY1 + timedelta(days=1, hours=6), "Kassel")
        first = meetings.create(uow, cohort, data, actor_id=orga.id, now=now, tz=BERLIN)
        for minutes, length, title, kind in (
            (180, 60, "Workshop", None),
            (0, 90, "Begrüßung", None),
            (60, 30, "Kaffee", "Pause"),
        ):
            start = DAY1 + timedelta(minutes=minutes)
            agenda.add_item(
                uow,
                first,
                agenda.ItemData(start, start + timedelta(minutes=length), title, kind),
                BERLIN,
            )
        second = meetings.create(
            uow,
            cohort,
            meetings.MeetingData(
                "Zwei", DAY1 + timedelta(days=40), DAY1 + timedelta(days=40, hours=6)
            ),
            actor_id=orga.id,
            now=now,
            tz=BERLIN,
        )
        meetings.delete(uow, second, actor_id=orga.id, now=now)
        uow.commit()
    with factory() as uow:
        cohort, orga = _cohort(uow), _by_name(uow, "Orga")
        first = meetings.get(uow, cohort.id, 1)
        meetings.update(
            uow,
            first,
            {"starts_at": DAY1 + timedelta(days=7)},
            actor_id=orga.id,
            now=now,
            tz=BERLIN,
        )
        item = agenda.item_at(uow, first, 3)
        agenda.update_item(
            uow,
            first,
            item,
            agenda.ItemData(
                item.starts_at - timedelta(hours=2, minutes=30),
                item.ends_at - timedelta(hours=2, minutes=30),
                "Workshop A",
            ),
            BERLIN,
        )
        for name, days, needs in (
            ("Anna", (1, 2), {"dietary": "vegetarisch"}),
            ("Ben", (2,), {"overnight": True}),
            ("Cem", (), {}),
        ):
            attendance.give(uow, first, _by_name(uow, name), attendance.Answer(days), now, **needs)
        attendance.give(uow, first, _by_name(uow, "Dora"), None, now, accessibility="Rampe")
        uow.commit()
    with factory() as uow:  # rolled back: no trace, no reminder moved
        cohort, orga = _cohort(uow), _by_name(uow, "Orga")
        meetings.update(
            uow,
            meetings.get(uow, cohort.id, 1),
            {"starts_at": DAY1 + timedelta(days=14)},
            actor_id=orga.id,
            now=now,
            tz=BERLIN,
        )
        uow.rollback()
    with factory() as uow:
        cohort = _cohort(uow)
        anna = _by_name(uow, "Anna")
        for anonymous in (False, True):
            rnd = fb.open_round(
                uow,
                cohort=cohort,
                wanted=RoundRequest(
                    "Quartier", [anna], None, now + timedelta(days=5), anonymous, ["Was gefällt?"]
                ),
                now=now,
                settings=K2,
            )
            for i, name in enumerate(("Ben", "Cem", "Dora", "Emil")):
                fb.submit(
                    uow,
                    rnd=rnd,
                    person=_by_name(uow, name),
                    answers=[f"{name} sagt {i}"],
                    now=now + timedelta(seconds=i),
                    settings=K2,
                )
        uow.commit()
    now += timedelta(days=1)
    with factory() as uow:
        cohort = _cohort(uow)
        for rnd in fb.rounds_of(uow, cohort):
            fb_close.close(uow, rnd, now, K2)
        fb_erase.erase_named_answers(uow, _by_name(uow, "Ben").id, now=now, language="de")
        ben = _by_name(uow, "Ben")
        attendance.erase_person(uow, ben.id, "Person 2")
        fb.erase_person(uow, ben.id, "Person 2")
        uow.commit()
    with factory() as uow:
        return _read_meetings_feedback(uow)


def _utc(moment: datetime) -> str:
    """The instant (the fake keeps the zone a value was given in; the databases give UTC)."""
    return moment.astimezone(UTC).isoformat()


def _read_meetings_feedback(uow: UnitOfWorkPort) -> dict[str, Any]:
    cohort = _cohort(uow)
    every = uow.meetings.every(cohort.id)
    rounds = fb.rounds_of(uow, cohort)
    names = {
        "meeting": {m.id: f"M{m.number}" for m in every},
        "agenda": {m.id: f"M{m.number}" for m in every},
        "feedback": {r.id: f"R{r.number}" for r in rounds},
    }

    def key(text: str) -> str:  # ids differ between stores: name them by number
        parts = text.split(":")
        ids = names.get(parts[0], {})
        return ":".join(
            ids.get(int(p), p) if p.isdigit() and i == 1 else p for i, p in enumerate(parts)
        )

    first = every[0]
    summary = attendance.summarise(uow, first, BERLIN)
    return {
        "meetings": [
            (m.number, m.title, _utc(m.starts_at), m.sequence, m.deleted_at is not None)
            for m in every
        ],
        "agenda": [
            (i.title, _utc(i.starts_at), agenda.overlaps_of(uow, first, i))
            for i in meetings.items_of(uow, first)
        ],
        "reminders": sorted(
            (key(r.idempotency_key), r.status, _utc(r.due_at))
            for m in every
            for suffix in meetings.MILESTONES
            if (r := uow.reminders.by_key(f"meeting:{m.id}:{suffix}")) is not None
        ),
        "attendance": (
            summary.per_day,
            summary.declined,
            summary.missing,
            summary.needs,
            summary.overnight,
        ),
        "csv": attendance.export_csv(uow, first).decode(),
        "anna": attendance.export_person(uow, _by_name(uow, "Anna").id)["teilnahme"],
        "rounds": [
            (
                r.number,
                r.anonymous,
                r.closed_at is not None,
                r.subject,
                [p.display_name for p in fb.presenters_of(uow, r)],
                sorted(
                    (v.label or "-", v.answers, v.erased) for v in fb_close.answer_views(uow, r)
                ),
                sorted(
                    (a.author_person_id is None, a.answers.get("batch"), a.published_at is None)
                    for a in fb.responses(uow, r)
                ),
            )
            for r in rounds
        ],
        "outbox": sorted(
            (key(m.idempotency_key).rsplit(":", 1)[0], m.operation, m.status)
            for m in uow.outbox.with_prefix("")
            if not m.idempotency_key.startswith(("register", "welcome", "cohort"))
        ),
        "exports": [
            fb.export_person(uow, _by_name(uow, name).id) for name in ("Anna", "Ben", "Cem")
        ],
    }


def test_meetings_and_feedback_agree(sql_factory: Factory) -> None:
    memory = meetings_feedback_scenario(MemoryDatabase())
    sql = meetings_feedback_scenario(sql_factory)
    assert [m[:2] for m in memory["meetings"]] == [(1, "Auftakt"), (2, "Zwei")]
    assert [a[0] for a in memory["agenda"]] == ["Begrüßung", "Workshop A", "Kaffee"]
    assert memory["attendance"][0] == {1: 1, 2: 1}  # Ben's answer is erased
    assert memory["rounds"][1][5] and all(v[0] == "-" for v in memory["rounds"][1][5])
    for key in memory:
        assert memory[key] == sql[key], key
