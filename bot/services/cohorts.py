"""Cohorts (Jahrgänge): creation, binding to channels/rooms, closing, announcements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy.orm import object_session

from bot.errors import NotFound, UserFacingError
from bot.i18n import N_
from bot.outbox import mail_participants, post_to_cohort
from bot.services.audit import record
from bot.views import Message
from storage.models import ChannelBinding, Cohort
from storage.ports import UnitOfWorkPort

PROGRAMME = "Stadtlabor demografische Zukunftschancen"
MAX_CAPACITY = 1000
ENDS_AFTER_LAST_MEETING = timedelta(days=30)


@dataclass(frozen=True)
class CohortInfo:
    id: int
    name: str
    capacity: int
    confirmed: int
    waitlisted: int
    moderated: bool
    deadline: datetime | None
    ended_at: datetime | None
    channels: tuple[str, ...]
    meetings: tuple[tuple[int, str, datetime], ...]


def create_cohort(
    uow: UnitOfWorkPort,
    *,
    actor_id: int,
    name: str,
    capacity: int,
    moderated: bool,
    deadline: datetime | None,
    platform: str,
    channel_id: str | None,
    now: datetime,
    language: str | None = None,
) -> Cohort:
    name = name.strip()
    if not name or len(name) > 200:
        raise UserFacingError(
            N_(
                "Bitte geben Sie dem Jahrgang einen Namen (höchstens 200 Zeichen), z. B. "
                'jahrgang anlegen "Stadtlabor 2026/27".'
            )
        )
    if not 1 <= capacity <= MAX_CAPACITY:
        raise UserFacingError(
            N_("Die Zahl der Plätze muss zwischen 1 und {limit} liegen."), limit=MAX_CAPACITY
        )
    if uow.cohorts.get_by_name(name) is not None:
        raise UserFacingError(
            N_(
                "Einen Jahrgang „{name}“ gibt es schon. Verbinden Sie diesen Kanal mit "
                '„jahrgang verbinden "{name}"“ oder wählen Sie einen anderen Namen.'
            ),
            name=name,
        )
    if channel_id is not None and uow.cohorts.binding(platform, channel_id) is not None:
        raise UserFacingError(
            N_(
                "Dieser Kanal gehört schon zu einem Jahrgang. Legen Sie den neuen Jahrgang in "
                "einem eigenen Kanal an."
            )
        )
    programme = uow.cohorts.programme(PROGRAMME)
    cohort = Cohort(
        programme_id=programme.id,
        name=name,
        capacity=capacity,
        moderated=moderated,
        registration_deadline=deadline,
        created_at=now,
        seat_version=0,
        language=language,
    )
    uow.cohorts.add(cohort)
    if channel_id is not None:
        uow.cohorts.add(
            ChannelBinding(cohort_id=cohort.id, platform=platform, channel_id=channel_id)
        )
    record(
        uow,
        actor_id=actor_id,
        action="jahrgang.anlegen",
        now=now,
        cohort_id=cohort.id,
        after={
            "name": name,
            "plaetze": capacity,
            "moderiert": moderated,
            "anmeldeschluss": deadline.isoformat() if deadline else None,
        },
    )
    return cohort


def bind_channel(
    uow: UnitOfWorkPort, *, actor_id: int, name: str, platform: str, channel_id: str, now: datetime
) -> Cohort:
    cohort = uow.cohorts.get_by_name(name.strip())
    if cohort is None:
        raise NotFound(
            N_("Einen Jahrgang „{name}“ kenne ich nicht. Vorhandene Jahrgänge: {names}."),
            name=name[:80],
            names=", ".join(c.name for c in uow.cohorts.active()) or "–",
        )
    existing = uow.cohorts.binding(platform, channel_id)
    if existing is not None:
        if existing.cohort_id == cohort.id:
            return cohort
        raise UserFacingError(N_("Dieser Kanal gehört schon zu einem anderen Jahrgang."))
    uow.cohorts.add(ChannelBinding(cohort_id=cohort.id, platform=platform, channel_id=channel_id))
    record(
        uow,
        actor_id=actor_id,
        action="jahrgang.verbinden",
        now=now,
        cohort_id=cohort.id,
        after={"kanal": f"{platform}:{channel_id}"},
    )
    return cohort


def named_for_cli(uow: UnitOfWorkPort, name: str) -> Cohort:
    """The cohort a command-line call names (``--jahrgang NAME``); raises LookupError with
    the line to print (the known cohorts listed) when there is none."""
    cohort = uow.cohorts.get_by_name(name)
    if cohort is None:
        names = ", ".join(c.name for c in uow.cohorts.active()) or "-"
        raise LookupError(f"Unbekannter Jahrgang {name!r}. Vorhanden: {names}")
    return cohort


def post_language(row: Any, default: str) -> str:
    """The language of posts to the channels of ``row``'s cohort (a poll, round, meeting or
    reminder row with a ``cohort_id``): the cohort's own, else the installation's default —
    never the language of whoever typed the command that caused the post."""
    session = object_session(row)
    cohort_id = getattr(row, "cohort_id", None)
    if session is None or cohort_id is None:
        return default
    cohort = session.get(Cohort, cohort_id)
    return (cohort.language if cohort is not None else None) or default


def end_of(uow: UnitOfWorkPort, cohort: Cohort) -> datetime | None:
    """When the cohort ends: closed explicitly, or 30 days after its last meeting."""
    if cohort.ended_at is not None:
        return cohort.ended_at
    last = uow.meetings.last_end(cohort.id)
    return last + ENDS_AFTER_LAST_MEETING if last is not None else None


def info(uow: UnitOfWorkPort, cohort: Cohort) -> CohortInfo:
    meetings = uow.meetings.scheduled(cohort.id)
    return CohortInfo(
        id=cohort.id,
        name=cohort.name,
        capacity=cohort.capacity,
        confirmed=uow.participants.count(cohort.id, "confirmed"),
        waitlisted=uow.participants.count(cohort.id, "waitlisted")
        + uow.participants.count(cohort.id, "pending"),
        moderated=cohort.moderated,
        deadline=cohort.registration_deadline,
        ended_at=end_of(uow, cohort),
        channels=tuple(f"{b.platform}:{b.channel_id}" for b in uow.cohorts.bindings_of(cohort.id)),
        meetings=tuple((m.number, m.title, m.starts_at) for m in meetings),
    )


def announce(
    uow: UnitOfWorkPort,
    *,
    actor_id: int,
    cohort: Cohort,
    message: Message,
    now: datetime,
    by_mail: bool = False,
) -> tuple[int, int]:
    """Post ``message`` to every channel of the cohort and, ``by_mail``, mail it to every
    confirmed participant with an address; returns (channels, mails)."""
    key = f"announce:{cohort.id}:{uuid4().hex}"
    count = post_to_cohort(uow, cohort.id, message, key, now)
    mails = mail_participants(uow, cohort.id, message, key, now, everyone=True) if by_mail else 0
    after = {"kanaele": count, "emails": mails} if by_mail else {"kanaele": count}
    record(
        uow,
        actor_id=actor_id,
        action="ankuendigen",
        now=now,
        cohort_id=cohort.id,
        after=after,
    )
    return count, mails
