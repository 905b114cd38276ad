"""Unit tests: services on :class:`storage.memory.FakeUnitOfWork`, no database, milliseconds.

A test here that asks for ``db_url`` (or anything built on it, like ``bot``) fails at once:
database tests belong in the integration suite (``tests/``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services import cohorts as cohort_service
from storage.memory import FakeUnitOfWork, MemoryDatabase
from storage.models import Cohort, OutboxMessage, Person, PlatformIdentity

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # Wed 12:00 in Berlin, as the clock fixture


@pytest.fixture
def db_url() -> str:
    pytest.fail(
        "tests/unit runs on FakeUnitOfWork and never on a database; "
        "put tests that need db_url into tests/ (integration)"
    )


@dataclass
class World:
    """One open fake unit of work, and shortcuts for the people and cohorts a test needs."""

    db: MemoryDatabase
    uow: FakeUnitOfWork
    now: datetime = START

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def person(
        self, name: str, *, organiser: bool = False, municipality: str | None = None
    ) -> Person:
        person = Person(
            display_name=name,
            municipality=municipality,
            is_organiser=organiser,
            created_at=self.now,
        )
        self.uow.persons.add(person)
        handle = name.lower().replace(" ", "")
        self.uow.persons.add(
            PlatformIdentity(
                person_id=person.id,
                platform="console",
                external_id=handle,
                handle=handle,
                last_seen_at=self.now,
            )
        )
        return person

    def cohort(
        self,
        name: str = "Stadtlabor 2026/27",
        *,
        capacity: int = 20,
        moderated: bool = False,
        channel: str | None = "stadtlabor",
        actor: Person | None = None,
    ) -> Cohort:
        return cohort_service.create_cohort(
            self.uow,
            actor_id=actor.id if actor else 0,
            name=name,
            capacity=capacity,
            moderated=moderated,
            deadline=None,
            platform="console",
            channel_id=channel,
            now=self.now,
        )

    def outbox(self, prefix: str = "") -> list[OutboxMessage]:
        return [m for m in self.db.rows(OutboxMessage) if m.idempotency_key.startswith(prefix)]

    def dm_texts(self, person: Person) -> list[str]:
        """The texts DMed to ``person`` (their console identity), oldest first."""
        target = {"identity": f"console:{(person.display_name or '').lower().replace(' ', '')}"}
        texts = []
        for m in self.outbox():
            if m.operation == "dm" and m.target == target and m.payload["message"]:
                texts.append(" ".join(m.payload["message"]["blocks"][0]["lines"]))
        return texts

    def audit_actions(self) -> list[str]:
        return [e.action for e in reversed(self.uow.audit.latest(None, limit=1000))]


@pytest.fixture
def world() -> Iterator[World]:
    db = MemoryDatabase()
    with db() as uow:
        yield World(db, uow)
