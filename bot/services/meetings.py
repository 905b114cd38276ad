"""Meetings of a cohort: numbered 1, 2, 3 in creation order (never reused), two days or so.

Times are stored in UTC and shown in the configured time zone. Every change bumps
``Meeting.sequence`` (the ICS SEQUENCE) and moves the scheduled milestone messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.dates.resolve import to_aware
from bot.errors import NotFound, UserFacingError
from bot.i18n import N_, babel_locale
from bot.scheduling import due as reminders
from bot.services.audit import record
from storage.models import AgendaItem, Cohort, Meeting
from storage.ports import UnitOfWorkPort

MAX_DAYS = 7
LIMITS = {"title": 200, "location": 300, "host_city": 200, "notes": 2000}
OPTION_NAMES = {"title": "titel", "location": "ort", "host_city": "gastgeber", "notes": "hinweise"}


@dataclass(frozen=True)
class MeetingData:
    title: str
    starts_at: datetime
    ends_at: datetime
    location: str | None = None
    host_city: str | None = None
    notes: str | None = None


def items_of(uow: UnitOfWorkPort, meeting: Meeting) -> list[AgendaItem]:
    """The meeting's agenda items in agenda order (time, then creation): item n is the n-th."""
    return uow.agenda.items_of(meeting.id)


def local_days(meeting: Meeting, tz: ZoneInfo) -> list[date]:
    first = meeting.starts_at.astimezone(tz).date()
    last = (meeting.ends_at - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def day_label(day: date, language: str) -> str:
    pattern = "EEEE, d. MMMM y" if language == "de" else "EEEE, d MMMM y"
    return format_date(day, pattern, locale=babel_locale(language))


def span_label(meeting: Meeting, tz: ZoneInfo, language: str) -> str:
    start, end = meeting.starts_at.astimezone(tz), meeting.ends_at.astimezone(tz)
    first = format_date(start.date(), "EEE d.M.y", locale=babel_locale(language))
    if start.date() == end.date():
        return f"{first}, {start:%H:%M}–{end:%H:%M}"
    last = format_date(end.date(), "EEE d.M.y", locale=babel_locale(language))
    return f"{first} {start:%H:%M} – {last} {end:%H:%M}"


def active(uow: UnitOfWorkPort, cohort_id: int) -> list[Meeting]:
    """Not deleted, by start (then number: numbers follow creation, as ids do)."""
    return uow.meetings.scheduled(cohort_id)


def get(uow: UnitOfWorkPort, cohort_id: int, number: int) -> Meeting:
    meeting = uow.meetings.get(cohort_id, number)
    if meeting is None:
        raise NotFound(
            N_("Ein Treffen {n} gibt es nicht. „treffen“ listet die Treffen mit Nummer."),
            n=number,
        )
    return meeting


def upcoming(uow: UnitOfWorkPort, cohort_id: int, now: datetime) -> Meeting | None:
    return next((m for m in active(uow, cohort_id) if m.ends_at > now), None)


def _check_texts(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        limit = LIMITS[key]
        if value is not None and len(value) > limit:
            raise UserFacingError(
                N_("„{field}“ ist zu lang (höchstens {limit} Zeichen)."),
                field=OPTION_NAMES[key],
                limit=limit,
            )
    if "title" in values and not (values["title"] or "").strip():
        raise UserFacingError(N_('Bitte geben Sie einen Titel an, z. B. titel="Auftakt".'))


def _check_times(
    uow: UnitOfWorkPort, cohort_id: int, data: MeetingData, now: datetime, exclude: int | None
) -> None:
    uow.cohorts.lock_for_seats(cohort_id)  # serialises overlap checks and numbering
    if data.ends_at <= data.starts_at:
        raise UserFacingError(
            N_("Das Ende (bis=…) liegt nicht nach dem Beginn (von=…). Bitte prüfen Sie die Zeiten.")
        )
    if data.starts_at <= now:
        raise UserFacingError(
            N_("Der Beginn liegt in der Vergangenheit. Bitte ein künftiges Datum.")
        )
    if data.ends_at - data.starts_at > timedelta(days=MAX_DAYS):
        raise UserFacingError(
            N_("Ein Treffen dauert höchstens {days} Tage. Bitte prüfen Sie bis=…."),
            days=MAX_DAYS,
        )
    for other in active(uow, cohort_id):
        if (
            other.id != exclude
            and other.starts_at < data.ends_at
            and data.starts_at < other.ends_at
        ):
            raise UserFacingError(
                N_(
                    "Das überschneidet sich mit Treffen {n} „{title}“. Bitte wählen Sie "
                    "andere Zeiten oder ändern Sie zuerst jenes Treffen."
                ),
                n=other.number,
                title=other.title,
            )


def snapshot(meeting: Meeting) -> dict[str, Any]:
    return {
        "title": meeting.title,
        "starts_at": meeting.starts_at.isoformat(),
        "ends_at": meeting.ends_at.isoformat(),
        "location": meeting.location,
        "host_city": meeting.host_city,
    }


def _audit(
    uow: UnitOfWorkPort,
    action: str,
    meeting: Meeting,
    actor_id: int,
    now: datetime,
    before: dict[str, Any] | None,
) -> None:
    after = None if meeting.deleted_at else snapshot(meeting)
    record(
        uow, actor_id=actor_id, action=action, now=now, cohort_id=meeting.cohort_id,
        before=before, after=after,
    )  # fmt: skip


def create(
    uow: UnitOfWorkPort,
    cohort: Cohort,
    data: MeetingData,
    *,
    actor_id: int,
    now: datetime,
    tz: ZoneInfo,
) -> Meeting:
    _check_texts({k: getattr(data, k) for k in LIMITS})
    _check_times(uow, cohort.id, data, now, None)
    meeting = Meeting(
        cohort_id=cohort.id,
        number=uow.meetings.highest_number(cohort.id) + 1,
        title=data.title.strip(),
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        location=data.location,
        host_city=data.host_city,
        notes=data.notes,
        sequence=0,
    )
    uow.meetings.add(meeting)
    schedule_milestones(uow, meeting, now, tz)
    _audit(uow, "treffen anlegen", meeting, actor_id, now, None)
    return meeting


def shift(moment: datetime, delta: timedelta, tz: ZoneInfo) -> datetime:
    """Move by a wall-clock difference (a week later stays at 10:00 across a DST change)."""
    return to_aware(moment.astimezone(tz).replace(tzinfo=None) + delta, tz)


def update(
    uow: UnitOfWorkPort,
    meeting: Meeting,
    changes: dict[str, Any],
    *,
    actor_id: int,
    now: datetime,
    tz: ZoneInfo,
) -> Meeting:
    """Apply ``changes`` (field → new value); times are checked again, sequence bumped.

    A new start without a new end moves the whole meeting; its agenda moves along.
    """
    before = snapshot(meeting)
    _check_texts({k: v for k, v in changes.items() if k in LIMITS})
    delta = timedelta(0)
    if "starts_at" in changes:
        local = changes["starts_at"].astimezone(tz).replace(tzinfo=None)
        delta = local - meeting.starts_at.astimezone(tz).replace(tzinfo=None)
        changes.setdefault("ends_at", shift(meeting.ends_at, delta, tz))
    data = MeetingData(
        changes.get("title", meeting.title),
        changes.get("starts_at", meeting.starts_at),
        changes.get("ends_at", meeting.ends_at),
    )
    items = items_of(uow, meeting)
    if "starts_at" in changes or "ends_at" in changes:
        _check_times(uow, meeting.cohort_id, data, now, meeting.id)
        for item in items:
            start, end = shift(item.starts_at, delta, tz), shift(item.ends_at, delta, tz)
            if start < data.starts_at or end > data.ends_at:
                raise UserFacingError(
                    N_(
                        "Programmpunkt „{title}“ läge dann außerhalb des Treffens. Verschieben "
                        "oder löschen Sie ihn zuerst (programmpunkt {n} …)."
                    ),
                    title=item.title,
                    n=meeting.number,
                )
    for item in items:
        item.starts_at, item.ends_at = (
            shift(item.starts_at, delta, tz),
            shift(item.ends_at, delta, tz),
        )
    for key, value in changes.items():
        setattr(meeting, key, value.strip() if key == "title" else value)
    meeting.sequence += 1
    schedule_milestones(uow, meeting, now, tz)
    _audit(uow, "treffen aendern", meeting, actor_id, now, before)
    return meeting


def delete(uow: UnitOfWorkPort, meeting: Meeting, *, actor_id: int, now: datetime) -> None:
    meeting.deleted_at = now
    meeting.sequence += 1
    reminders.cancel(uow, f"meeting:{meeting.id}:")
    _audit(uow, "treffen loeschen", meeting, actor_id, now, snapshot(meeting))


# Milestones: key suffix → (days before day 1, local time, kind). No suffix is a prefix of
# another, so that cancelling one key never cancels a second.
MILESTONES: dict[str, tuple[int, time, str]] = {
    "ask": (21, time(9, 0), "meeting_attendance_ask"),
    "notes14": (14, time(9, 0), "meeting_notes14"),
    "recap1": (1, time(9, 0), "meeting_recap1"),
    "day1": (0, time(8, 0), "meeting_day1"),
}


def milestone_times(meeting: Meeting, tz: ZoneInfo) -> dict[str, datetime]:
    first = meeting.starts_at.astimezone(tz).date()
    return {
        suffix: to_aware(datetime.combine(first - timedelta(days=days), at), tz)
        for suffix, (days, at, _kind) in MILESTONES.items()
    }


def schedule_milestones(uow: UnitOfWorkPort, meeting: Meeting, now: datetime, tz: ZoneInfo) -> None:
    """(Re)schedule the reminders of ``meeting``; ones whose time has passed are dropped, and
    a dropped one comes back when the meeting moves into the future again."""
    for suffix, due_at in milestone_times(meeting, tz).items():
        key = f"meeting:{meeting.id}:{suffix}"
        if due_at <= now:
            reminders.cancel(uow, key)
            continue
        uow.reminders.reopen(key)
        reminders.schedule(
            uow,
            key=key,
            due_at=due_at,
            kind=MILESTONES[suffix][2],
            now=now,
            cohort_id=meeting.cohort_id,
            target={"meeting_id": meeting.id},
        )
