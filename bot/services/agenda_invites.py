"""Agenda-only changes re-invite: a changed programme reaches the calendars of everyone who
has the meeting's invitation by e-mail, as one update per burst of edits.

Every change of a meeting's agenda (``programmpunkt …`` in the chat, the agenda editor of the
web page; both end in :func:`bot.services.agenda.changed`) calls :func:`schedule_update`. It
does not send: it schedules (or moves) one due-work row per meeting and SEQUENCE (kind
:data:`KIND`), due :data:`DEBOUNCE` after the latest edit but never later than :data:`CAP`
after the first edit of the burst. When the row runs
(:func:`bot.services.invitations.send_agenda_update`), the SEQUENCE is raised once and a
REQUEST with the agenda as it is then goes to every invited address (the office copies too).
Without invitations by mail, :func:`bot.services.agenda.changed` raises the SEQUENCE at once, as
before. (While an update waits, a ``kalender`` download shows the new agenda with the old
SEQUENCE; the update raises it within :data:`CAP`.)

Nothing lives in memory: a restart keeps the row, several instances run it once (the due
kernel claims it). A meeting change (``treffen N aendern``) raises the SEQUENCE and sends the
current agenda itself; a pending agenda row of the older SEQUENCE then has nothing to do.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.scheduling import due
from storage.models import Meeting
from storage.models_meetings import MeetingInvitation
from storage.ports import UnitOfWorkPort

KIND = "meeting-agenda-invite"
DEBOUNCE = timedelta(minutes=2)  # after the latest edit of a burst
CAP = timedelta(minutes=15)  # after its first edit: a long session still sends updates


def key_of(meeting: Meeting) -> str:
    return f"meeting:{meeting.id}:agenda-invite:{meeting.sequence}"


def schedule_update(uow: UnitOfWorkPort, meeting: Meeting, now: datetime) -> datetime | None:
    """Schedule (or move) the coalesced invitation update after an agenda change, in the
    transaction of the change; returns when it is due, or None when no address has the
    meeting's invitation (nobody to update: the caller raises the SEQUENCE itself). The key
    holds the SEQUENCE, which stays put until the update (or a meeting change) raises it, so
    every edit of a burst finds the same row."""
    session = getattr(uow, "session", None)
    if session is None or meeting.deleted_at is not None:
        return None  # the in-memory unit of work of service tests keeps no invitations
    invited = session.scalar(
        select(MeetingInvitation.id)
        .where(MeetingInvitation.meeting_id == meeting.id, MeetingInvitation.method == "REQUEST")
        .limit(1)
    )
    if invited is None:
        return None
    key = key_of(meeting)
    row = uow.reminders.by_key(key)
    first = now
    if row is not None and row.status == "pending":
        first = datetime.fromisoformat(str(row.target.get("first") or now.isoformat()))
    elif row is not None:  # ran without raising it: the meeting is over or deleted
        return None
    due_at = min(now + DEBOUNCE, first + CAP)
    target: dict[str, Any] = {
        "meeting_id": meeting.id,
        "sequence": meeting.sequence,
        "first": first.isoformat(),
    }
    due.schedule(
        uow,
        key=key,
        due_at=due_at,
        kind=KIND,
        now=now,
        cohort_id=meeting.cohort_id,
        target=target,
    )
    return due_at
