"""A person's overview (status, next meeting, what they still owe) and the organisers' dashboard.

Platform-neutral: :func:`build` collects the view model (:class:`~bot.services.overview_views.
Overview`) from the existing services (registration, meetings/agenda, attendance, polls,
feedback, reminders); :func:`overview` also renders it (:mod:`bot.services.overview_views`) into
a :class:`~bot.views.Message`. The same message answers ``ueberblick`` everywhere and fills the
Slack Home tab. The counts of who is missing
are shared with the organisers' nudge (:mod:`bot.services.overview_nudge`).
"""

from __future__ import annotations

from collections.abc import Sized
from datetime import datetime

from bot.context import Role
from bot.i18n import format_when
from bot.permissions import access
from bot.scheduling.service import pending_for
from bot.services import agenda, attendance, meetings, polls
from bot.services import feedback as fb
from bot.services.overview_views import (
    Dashboard,
    Kind,
    NextMeeting,
    Overview,
    Progress,
    Status,
    render,
)
from bot.services.registration import position_of
from bot.settings import Settings
from bot.views import Message
from storage.models import Cohort, FeedbackRound, Meeting, Person
from storage.uow import UnitOfWork

MAX_ITEMS = 10  # per list: polls, rounds, reminders (the Home tab holds 100 blocks)


# -- counting (shared with the nudges) -------------------------------------------------------
def poll_missing(uow: UnitOfWork, poll_id: int) -> tuple[list[int], int]:
    """(eligible voters without a ballot, number eligible) for an open poll."""
    poll = uow.polls.by_id(poll_id)
    assert poll is not None
    eligible = polls.eligible_voters(uow, poll)
    voted = uow.polls.voter_ids(poll.id)
    return [p for p in eligible if p not in voted], len(eligible)


def round_missing(uow: UnitOfWork, rnd: FeedbackRound) -> tuple[list[Person], int]:
    eligible = fb.eligible(uow, rnd)
    answered = {r.author_person_id for r in fb.responses(uow, rnd)}
    return [p for p in eligible if p.id not in answered], len(eligible)


def attendance_missing(uow: UnitOfWork, meeting: Meeting) -> tuple[list[Person], int]:
    if attendance.is_closed(uow, meeting):
        return [], 0
    confirmed = uow.participants.count(meeting.cohort_id, "confirmed")
    return attendance.unanswered(uow, meeting), confirmed


# -- the view model -------------------------------------------------------------------------
def overview(
    uow: UnitOfWork,
    person: Person,
    cohort: Cohort | None,
    *,
    role: Role,
    now: datetime,
    settings: Settings,
    language: str,
) -> tuple[Overview, Message]:
    """The view model and its message (what ``ueberblick`` and the Slack Home tab show)."""
    model = build(uow, person, cohort, role=role, now=now, settings=settings, language=language)
    return model, render(model, language, settings)


def _may(key: str, role: Role) -> bool:
    """Each part of the overview shows what a command shows: it follows that command's row of
    the permission table, so the overview never shows more than the command would."""
    return access(key, role) != "refused"


def build(
    uow: UnitOfWork,
    person: Person,
    cohort: Cohort | None,
    *,
    role: Role,
    now: datetime,
    settings: Settings,
    language: str,
) -> Overview:
    organiser = role == "organiser"
    rows = pending_for(uow, person.id, cohort.id if cohort else None, False)
    if not _may("erinnerungen", role):
        rows = []
    reminders = tuple(
        _reminder_line(r.id, r.due_at, r.text, settings, language) for r in rows[:MAX_ITEMS]
    )
    more = max(0, len(rows) - MAX_ITEMS)
    if cohort is None:
        return Overview(
            None, "none", 0, 0, organiser, None, None, None, (), (), reminders, more, None
        )
    participant = uow.participants.get(cohort.id, person.id)
    status: Status = "none"
    position = 0
    if participant is not None and participant.status in ("confirmed", "waitlisted", "pending"):
        status = participant.status  # type: ignore[assignment]
        position = position_of(uow, participant)
    # A closed cohort has no next meeting to answer (its writes are refused): no meeting line.
    meetings_visible = _may("treffen", role) and cohort.ended_at is None
    meeting = meetings.upcoming(uow, cohort.id, now) if meetings_visible else None
    own_days: tuple[int, ...] | None = None
    if meeting is not None and _may("teilnahme", role):
        row = attendance.answer_of(uow, meeting, person.id)
        own_days = attendance.days_of(row) if row is not None else None
    return Overview(
        cohort_name=cohort.name,
        status=status,
        position=position,
        capacity=cohort.capacity,
        organiser=organiser,
        meeting=NextMeeting(meeting.number, meeting.title, meeting.starts_at) if meeting else None,
        agenda=agenda.render(uow, meeting, settings.tz, language, short=True)
        if meeting and _may("agenda", role)
        else None,
        attendance=own_days,
        polls=_polls_to_vote(uow, cohort, person, now) if _may("umfragen", role) else (),
        rounds=_rounds_owed(uow, cohort, person, now) if _may("feedback", role) else (),
        reminders=reminders,
        more_reminders=more,
        dashboard=_dashboard(uow, cohort, meeting, now)
        if _may("teilnahme uebersicht", role) and _may("nachfassen", role)
        else None,
        meetings_visible=meetings_visible,
    )


def _polls_to_vote(
    uow: UnitOfWork, cohort: Cohort, person: Person, now: datetime
) -> tuple[Progress, ...]:
    return tuple(
        Progress("umfrage", p.number, p.question, p.closes_at)
        for p in polls.polls_of(uow, cohort.id)
        if polls.is_open(p, now)
        and polls.eligible(uow, p, person.id)
        and polls.ballot_of(uow, p.id, person.id) is None
    )[:MAX_ITEMS]


def _rounds_owed(
    uow: UnitOfWork, cohort: Cohort, person: Person, now: datetime
) -> tuple[Progress, ...]:
    return tuple(
        Progress("feedback", r.number, fb.presenters_label(uow, r), r.closes_at)
        for r in fb.waiting_for(uow, cohort, person, now)
        if fb.response_of(uow, r, person.id) is None
    )[:MAX_ITEMS]


def _dashboard(
    uow: UnitOfWork, cohort: Cohort, meeting: Meeting | None, now: datetime
) -> Dashboard:
    items: list[Progress] = []
    for poll in polls.polls_of(uow, cohort.id):
        if polls.is_open(poll, now):
            ids, eligible = poll_missing(uow, poll.id)
            items.append(
                _item("umfrage", poll.number, poll.question, poll.closes_at, ids, eligible)
            )
    for rnd in fb.rounds_of(uow, cohort):
        if fb.is_open(rnd, now):
            people, eligible = round_missing(uow, rnd)
            label = fb.presenters_label(uow, rnd)
            items.append(_item("feedback", rnd.number, label, rnd.closes_at, people, eligible))
    if meeting is not None and not attendance.is_closed(uow, meeting):
        people, eligible = attendance_missing(uow, meeting)
        title, start = meeting.title, meeting.starts_at
        items.append(_item("teilnahme", meeting.number, title, start, people, eligible))
    return Dashboard(
        confirmed=uow.participants.count(cohort.id, "confirmed"),
        capacity=cohort.capacity,
        waitlisted=uow.participants.count(cohort.id, "waitlisted")
        + uow.participants.count(cohort.id, "pending"),
        items=tuple(items[: 3 * MAX_ITEMS]),
    )


def _item(
    kind: Kind, number: int, title: str, when: datetime | None, missing: Sized, eligible: int
) -> Progress:
    return Progress(kind, number, title, when, eligible - len(missing), eligible)


def _reminder_line(
    rid: int, due_at: datetime, text: str | None, settings: Settings, language: str
) -> str:
    return f"Nr. {rid} · {format_when(due_at.astimezone(settings.tz), language)}: {text or ''}"
