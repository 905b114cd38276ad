"""Storage on a real SQLite file and a real PostgreSQL: migrations, unit of work, UTC times."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError, IntegrityError

from app import Bot
from bot.identity import Identity
from bot.people import ensure_person
from storage.migrate import is_current
from storage.models import Cohort, Person, PlatformIdentity

BERLIN = ZoneInfo("Europe/Berlin")


def test_migrations_create_every_table(bot: Bot) -> None:
    tables = set(inspect(bot.engine).get_table_names())
    assert {
        "persons",
        "identities",
        "cohorts",
        "participants",
        "meetings",
        "agenda_items",
        "polls",
        "poll_options",
        "votes",
        "feedback_rounds",
        "feedback_responses",
        "reminders",
        "audit_entries",
        "outbox",
        "alembic_version",
    } <= tables
    assert is_current(bot.engine)


def test_unit_of_work_rolls_back_without_commit(bot: Bot) -> None:
    now = datetime.now(UTC)
    with bot.uow_factory() as uow:
        uow.persons.add(Person(display_name="Ohne Commit", created_at=now))
    with bot.uow_factory() as uow:
        assert uow.persons.find_by_name("Ohne Commit") == []
        uow.persons.add(Person(display_name="Mit Commit", created_at=now))
        uow.commit()
    with bot.uow_factory() as uow:
        assert len(uow.persons.find_by_name("mit commit")) == 1


def test_times_come_back_aware_and_equal(bot: Bot) -> None:
    local = datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN, fold=1)  # winter-time occurrence
    with bot.uow_factory() as uow:
        programme = uow.cohorts.programme("Stadtlabor")
        uow.cohorts.add(
            Cohort(
                programme_id=programme.id,
                name="J",
                capacity=20,
                moderated=False,
                created_at=local,
                seat_version=0,
            )
        )
        uow.commit()
    with bot.uow_factory() as uow:
        cohort = uow.cohorts.get_by_name("j")
        assert cohort is not None
        assert cohort.created_at.tzinfo is not None
        # PEP 495: ambiguous local times never compare equal across zones; compare in UTC.
        assert cohort.created_at == local.astimezone(UTC)
        assert cohort.created_at == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
        assert cohort.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(bot: Bot) -> None:
    with bot.uow_factory() as uow, pytest.raises(Exception, match="naive"):
        uow.persons.add(Person(display_name="x", created_at=datetime(2026, 1, 1)))


def test_identity_is_unique_per_platform(bot: Bot) -> None:
    now = datetime.now(UTC)
    with bot.uow_factory() as uow:
        person = ensure_person(uow, Identity("slack", "U1AAA"), now)
        uow.commit()
        with pytest.raises(IntegrityError):
            uow.persons.add(
                PlatformIdentity(person_id=person.id, platform="slack", external_id="U1AAA")
            )


def test_concurrent_first_contacts_do_not_break(bot: Bot) -> None:
    """Eight threads create eight different people at once: every one is stored."""
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            with bot.uow_factory() as uow:
                ensure_person(uow, Identity("console", f"p{i}"), datetime.now(UTC), f"P {i}")
                uow.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with bot.uow_factory() as uow:
        assert all(uow.persons.get_by_identity("console", f"p{i}") for i in range(8))


def test_same_first_contact_from_two_writers_yields_one_person(bot: Bot) -> None:
    """Two instances (or a retried Slack event) meet the same new identity at once: the one
    that loses the insert uses the winner's person instead of failing (CI saw instance start-ups
    crash on uq_identities_platform while seeding STADTLABOR_ORGANIZERS)."""
    who = Identity("slack", "U0RACE")
    with bot.uow_factory() as uow:
        real_known = uow.persons.known
        calls = 0

        def known_after_the_other_writer(
            platform: str, external_id: str
        ) -> tuple[PlatformIdentity, Person] | None:
            nonlocal calls
            calls += 1
            if calls == 1:  # this writer has looked and found nobody; the other one wins now
                with bot.uow_factory() as other:
                    ensure_person(other, who, datetime.now(UTC), "Erste")
                    other.commit()
                return None
            return real_known(platform, external_id)

        uow.persons.known = known_after_the_other_writer  # type: ignore[method-assign]
        person = ensure_person(uow, who, datetime.now(UTC), "Zweite")
        person.is_organiser = True
        uow.commit()
    with bot.uow_factory() as uow:
        stored = uow.persons.get_by_identity("slack", "U0RACE")
        assert stored is not None and stored.id == person.id
        assert stored.display_name == "Erste" and stored.is_organiser
        assert uow.persons.find_by_name("Zweite") == []


@pytest.mark.postgres
def test_instances_starting_together_migrate_once(pg_schema_url: str) -> None:
    """Four processes' worth of start-ups at once on an empty PostgreSQL schema."""
    from storage.db import create_db_engine
    from storage.migrate import upgrade

    errors: list[BaseException] = []

    def start() -> None:
        engine = create_db_engine(pg_schema_url)
        try:
            upgrade(engine)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = create_db_engine(pg_schema_url)
    assert is_current(engine)
    engine.dispose()


def test_a_read_only_unit_of_work_cannot_write(bot: Bot) -> None:
    """What only shows (the web pages) cannot change anything by mistake: commit is refused,
    and PostgreSQL refuses the write itself (a READ ONLY transaction)."""
    now = datetime.now(UTC)
    with bot.read_uow_factory() as uow:
        if bot.engine.dialect.name == "postgresql":
            with pytest.raises(DBAPIError, match="read-only transaction"):
                uow.persons.add(Person(display_name="Nur gelesen", created_at=now))
                uow.session.flush()
        else:
            uow.persons.add(Person(display_name="Nur gelesen", created_at=now))
            with pytest.raises(RuntimeError, match="read-only"):
                uow.commit()
    with bot.uow_factory() as uow:
        assert uow.persons.find_by_name("Nur gelesen") == []
