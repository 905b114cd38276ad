"""The alumni circle's repository: rows by person, folded topic keys, lookups by key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.orm import Session

from storage.models import Person
from storage.models_alumni import (
    AlumniGuest,
    AlumniImport,
    AlumniMeeting,
    AlumniTopicKey,
    Alumnus,
)


@dataclass(frozen=True)
class KeyHit:
    """An alumnus found by one of their keys (with what the answer shows of them)."""

    alumnus_id: int
    person_id: int | None
    name: str
    municipality: str | None
    year: int | None
    tag: str  # the tag (or, for a Vorhaben, the topic) the answer names


class AlumniRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_person(self, person_id: int) -> Alumnus | None:
        return self.session.scalar(select(Alumnus).where(Alumnus.person_id == person_id))

    def add(self, alumnus: Alumnus) -> None:
        self.session.add(alumnus)
        self.session.flush()

    def remove(self, alumnus: Alumnus) -> None:
        self.session.execute(delete(AlumniTopicKey).where(AlumniTopicKey.alumnus_id == alumnus.id))
        self.session.execute(delete(AlumniGuest).where(AlumniGuest.alumnus_id == alumnus.id))
        self.session.delete(alumnus)
        self.session.flush()

    def opted_in(self) -> list[Alumnus]:
        return list(self.session.scalars(select(Alumnus).where(Alumnus.consent == "ja")))

    def count(self) -> int:
        return int(self.session.scalar(select(func.count(Alumnus.id))) or 0)

    def replace_keys(self, alumnus_id: int, keys: Iterable[tuple[str, str, str]]) -> None:
        """Set the (key, kind, tag) rows of an alumnus (the old ones go)."""
        self.session.execute(delete(AlumniTopicKey).where(AlumniTopicKey.alumnus_id == alumnus_id))
        self.session.add_all(
            AlumniTopicKey(alumnus_id=alumnus_id, key=k[:80], kind=kind, tag=tag[:200])
            for k, kind, tag in keys
        )
        self.session.flush()

    def best_by_keys(
        self, asked: str, topic: str, *, exclude: Iterable[int] = (), limit: int = 10
    ) -> list[tuple[KeyHit, int]]:
        """The ``limit`` consenting alumni who match best, each with the strength of their best
        key (3: the tag as asked, 2: a tag of the same curated topic, 1: the topic in their
        Vorhaben) and the tag or topic it came from. Found through the index on the key column;
        strength, order and limit are computed by the database, so only the shown rows come
        back. Alumni whose person row was erased, and people in ``exclude``, never do."""
        if not asked:
            return []
        keys, kind = AlumniTopicKey.key, AlumniTopicKey.kind
        strength = case(
            (and_(kind == "tag", keys == asked), 3),
            (and_(kind.in_(("tag", "topic")), keys == topic), 2),
            (and_(kind == "vorhaben", keys == topic), 1),
            else_=0,
        )
        name = func.coalesce(Person.display_name, Alumnus.name)
        best = func.max(strength).label("strength")
        query = (
            select(Alumnus.id, best)
            .join(AlumniTopicKey, AlumniTopicKey.alumnus_id == Alumnus.id)
            .outerjoin(Person, Person.id == Alumnus.person_id)
            .where(keys.in_(sorted({asked, topic} - {""})), Alumnus.consent == "ja")
            .where(or_(Alumnus.person_id.is_(None), Person.erased_at.is_(None)))
            .group_by(Alumnus.id, name)
            .having(best > 0)
            .order_by(best.desc(), func.lower(name), Alumnus.id)
            .limit(limit)
        )
        excluded = sorted(set(exclude))
        if excluded:
            query = query.where(
                or_(Alumnus.person_id.is_(None), Alumnus.person_id.not_in(excluded))
            )
        top = {aid: int(level) for aid, level in self.session.execute(query)}
        if not top:
            return []
        rows = self.session.execute(
            select(
                Alumnus.id,
                Alumnus.person_id,
                name,
                func.coalesce(Person.municipality, Alumnus.municipality),
                Alumnus.year,
                strength,
                AlumniTopicKey.tag,
            )
            .join(AlumniTopicKey, AlumniTopicKey.alumnus_id == Alumnus.id)
            .outerjoin(Person, Person.id == Alumnus.person_id)
            .where(Alumnus.id.in_(list(top)), keys.in_(sorted({asked, topic} - {""})))
            .order_by(AlumniTopicKey.id)
        )
        found: dict[int, tuple[KeyHit, int]] = {}
        for aid, pid, who, municipality, year, level, tag in rows:
            if level == top[aid] and aid not in found:
                found[aid] = (KeyHit(aid, pid, who or "?", municipality, year, tag), level)
        return [found[aid] for aid in top if aid in found]

    def record_import(self, alumni_import: AlumniImport) -> None:
        self.session.add(alumni_import)
        self.session.flush()

    # -- meetings opened for alumni -------------------------------------------------------------

    def meeting_open(self, meeting_id: int) -> AlumniMeeting | None:
        return self.session.get(AlumniMeeting, meeting_id)

    def open_meeting(self, meeting_id: int, now: datetime) -> None:
        self.session.add(AlumniMeeting(meeting_id=meeting_id, opened_at=now))
        self.session.flush()

    def close_meeting(self, meeting_id: int) -> list[AlumniGuest]:
        """Close the meeting for alumni; returns the guests (removed)."""
        guests = self.guests(meeting_id)
        self.session.execute(delete(AlumniGuest).where(AlumniGuest.meeting_id == meeting_id))
        self.session.execute(delete(AlumniMeeting).where(AlumniMeeting.meeting_id == meeting_id))
        self.session.flush()
        return guests

    def guests(self, meeting_id: int) -> list[AlumniGuest]:
        return list(
            self.session.scalars(
                select(AlumniGuest)
                .where(AlumniGuest.meeting_id == meeting_id)
                .order_by(AlumniGuest.id)
            )
        )

    def guest(self, meeting_id: int, alumnus_id: int) -> AlumniGuest | None:
        return self.session.scalar(
            select(AlumniGuest).where(
                AlumniGuest.meeting_id == meeting_id, AlumniGuest.alumnus_id == alumnus_id
            )
        )

    def guest_rows_of(self, alumnus_id: int) -> list[AlumniGuest]:
        return list(
            self.session.scalars(select(AlumniGuest).where(AlumniGuest.alumnus_id == alumnus_id))
        )

    def add_guest(self, guest: AlumniGuest) -> None:
        self.session.add(guest)
        self.session.flush()

    def get(self, alumnus_id: int) -> Alumnus | None:
        return self.session.get(Alumnus, alumnus_id)
