"""A person's overview (status, next meeting, what they still owe) and the organisers' dashboard.

Platform-neutral: :func:`build` collects a view model from the existing services (registration,
meetings/agenda, attendance, polls, feedback, reminders), :func:`render` turns it into a
:class:`~bot.views.Message`. The same message answers ``ueberblick`` everywhere and fills the
Slack Home tab. The organisers' nudge (``nachfassen``): :func:`nudge` DMs exactly the people
still missing, once per person, item and day (the outbox key makes a second click a no-op).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from bot.errors import UserFacingError
from bot.i18n import N_, format_when
from bot.notify import tell
from bot.scheduling.service import pending_for
from bot.services import agenda, attendance, meetings, polls
from bot.services import feedback as fb
from bot.services.audit import record
from bot.services.overview_views import render
from bot.services.registration import position_of
from bot.settings import Settings
from bot.views import Button, Message
from storage.models import Cohort, FeedbackRound, Meeting, Person, Poll
from storage.models_polls import PollBallot
from storage.uow import UnitOfWork

Status = Literal["confirmed", "waitlisted", "pending", "none"]
MAX_ITEMS = 10  # per list: polls, rounds, reminders (the Home tab holds 100 blocks)


@dataclass(frozen=True)
class Progress:
    """One open item: for the person what they owe; for organisers ``done`` of ``eligible``."""

    kind: Literal["umfrage", "feedback", "teilnahme"]
    number: int
    title: str
    closes_at: datetime | None
    done: int = 0
    eligible: int = 0

    @property
    def missing(self) -> int:
        return self.eligible - self.done


@dataclass(frozen=True)
class NextMeeting:
    number: int
    title: str
    starts_at: datetime


@dataclass(frozen=True)
class Dashboard:
    confirmed: int
    capacity: int
    waitlisted: int
    items: tuple[Progress, ...]


@dataclass(frozen=True)
class Overview:
    cohort_name: str | None
    status: Status
    position: int  # seat number or waitlist place
    capacity: int
    organiser: bool
    meeting: NextMeeting | None
    agenda: Message | None
    attendance: tuple[int, ...] | None  # own answer: days, () = declined, None = open
    polls: tuple[Progress, ...]
    rounds: tuple[Progress, ...]
    reminders: tuple[str, ...]
    more_reminders: int
    dashboard: Dashboard | None


# -- counting (shared with the nudges) -------------------------------------------------------
def poll_missing(uow: UnitOfWork, poll_id: int) -> tuple[list[int], int]:
    """(eligible voters without a ballot, number eligible) for an open poll."""
    poll = uow.session.get(Poll, poll_id)
    assert poll is not None
    eligible = polls.eligible_voters(uow, poll)
    voted = set(
        uow.session.scalars(select(PollBallot.person_id).where(PollBallot.poll_id == poll.id))
    )
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
    organiser: bool,
    now: datetime,
    settings: Settings,
    language: str,
) -> tuple[Overview, Message]:
    """The view model and its message (what ``ueberblick`` and the Slack Home tab show)."""
    model = build(
        uow, person, cohort, organiser=organiser, now=now, settings=settings, language=language
    )
    return model, render(model, language, settings)


def build(
    uow: UnitOfWork,
    person: Person,
    cohort: Cohort | None,
    *,
    organiser: bool,
    now: datetime,
    settings: Settings,
    language: str,
) -> Overview:
    rows = pending_for(uow, person.id, cohort.id if cohort else None, False)
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
    meeting = meetings.upcoming(uow, cohort.id, now)
    own_days: tuple[int, ...] | None = None
    if meeting is not None:
        row = attendance.answer_of(uow, meeting, person.id)
        own_days = attendance.days_of(row) if row is not None else None
    return Overview(
        cohort_name=cohort.name,
        status=status,
        position=position,
        capacity=cohort.capacity,
        organiser=organiser,
        meeting=NextMeeting(meeting.number, meeting.title, meeting.starts_at) if meeting else None,
        agenda=agenda.render(uow, meeting, settings.tz, language, short=True) if meeting else None,
        attendance=own_days,
        polls=_polls_to_vote(uow, cohort, person, now),
        rounds=_rounds_owed(uow, cohort, person, now),
        reminders=reminders,
        more_reminders=more,
        dashboard=_dashboard(uow, cohort, meeting, now) if organiser else None,
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
            missing, eligible = poll_missing(uow, poll.id)
            items.append(
                Progress(
                    "umfrage",
                    poll.number,
                    poll.question,
                    poll.closes_at,
                    eligible - len(missing),
                    eligible,
                )
            )
    for rnd in fb.rounds_of(uow, cohort):
        if fb.is_open(rnd, now):
            people, eligible = round_missing(uow, rnd)
            label = fb.presenters_label(uow, rnd)
            items.append(
                Progress(
                    "feedback", rnd.number, label, rnd.closes_at, eligible - len(people), eligible
                )
            )
    if meeting is not None and not attendance.is_closed(uow, meeting):
        people, eligible = attendance_missing(uow, meeting)
        items.append(
            Progress(
                "teilnahme",
                meeting.number,
                meeting.title,
                meeting.starts_at,
                eligible - len(people),
                eligible,
            )
        )
    return Dashboard(
        confirmed=uow.participants.count(cohort.id, "confirmed"),
        capacity=cohort.capacity,
        waitlisted=uow.participants.count(cohort.id, "waitlisted")
        + uow.participants.count(cohort.id, "pending"),
        items=tuple(items[: 3 * MAX_ITEMS]),
    )


def _reminder_line(
    rid: int, due_at: datetime, text: str | None, settings: Settings, language: str
) -> str:
    return f"Nr. {rid} · {format_when(due_at.astimezone(settings.tz), language)}: {text or ''}"


# -- nudges ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Nudged:
    missing: int  # eligible people without a vote/answer
    sent: int  # new DMs (the others were nudged today already)


NUDGE_TEXT = {
    "umfrage": N_(
        "Das Programmteam erinnert Sie: Umfrage {number} „{title}“ wartet noch auf Ihre Stimme "
        "(bis {when})."
    ),
    "feedback": N_(
        "Das Programmteam erinnert Sie: Feedback-Runde {number} „{title}“ wartet noch auf Ihre "
        "Antwort (bis {when})."
    ),
    "teilnahme": N_(
        "Das Programmteam bittet um Ihre Rückmeldung: Kommen Sie zu Treffen {number} „{title}“ "
        "({when})?"
    ),
}


def nudge(
    uow: UnitOfWork,
    cohort: Cohort,
    kind: Literal["umfrage", "feedback", "teilnahme"],
    number: int,
    *,
    actor_id: int,
    now: datetime,
    settings: Settings,
) -> Nudged:
    """One DM to each eligible person still missing; idempotent per item, person and day."""
    people, title, when, obj_id, buttons = _targets(uow, cohort, kind, number, now)
    day = now.astimezone(settings.tz).date().isoformat()
    sent = 0
    for person in people:
        if person.erased_at is not None:
            continue
        language = person.language or settings.language
        sent += tell(
            uow,
            person,
            NUDGE_TEXT[kind],
            now=now,
            default_language=settings.language,
            key=f"nudge:{kind}:{obj_id}:{person.id}:{day}",
            buttons=buttons,
            number=number,
            title=title[:150],
            when=format_when(when.astimezone(settings.tz), language) if when else "–",
        )
    record(
        uow,
        actor_id=actor_id,
        action="nachfassen",
        now=now,
        cohort_id=cohort.id,
        after={"was": f"{kind} {number}", "fehlend": len(people), "gesendet": sent},
    )
    return Nudged(len(people), sent)


def _targets(
    uow: UnitOfWork, cohort: Cohort, kind: str, number: int, now: datetime
) -> tuple[list[Person], str, datetime | None, int, tuple[Button, ...]]:
    if kind == "umfrage":
        poll = polls.get_poll(uow, cohort.id, number)
        if not polls.is_open(poll, now):
            raise UserFacingError(
                N_("Umfrage {n} ist geschlossen; nachfassen geht nur bei offenen."), n=number
            )
        ids, _eligible = poll_missing(uow, poll.id)
        people = [p for p in (uow.persons.get(i) for i in ids) if p is not None]
        button = Button(
            N_("Zur Umfrage"), "nudge_poll", str(number), "primary", f"umfrage {number}"
        )
        return people, poll.question, poll.closes_at, poll.id, (button,)
    if kind == "feedback":
        rnd = fb.get_round(uow, cohort, number)
        if not fb.is_open(rnd, now):
            raise UserFacingError(
                N_("Feedback-Runde {n} ist geschlossen; nachfassen geht nur bei offenen."), n=number
            )
        people, _eligible = round_missing(uow, rnd)
        button = Button(
            N_("Feedback geben"),
            "nudge_feedback",
            str(number),
            "primary",
            f"feedback {number} geben",
        )
        return people, fb.presenters_label(uow, rnd), rnd.closes_at, rnd.id, (button,)
    meeting = meetings.get(uow, cohort.id, number)
    if meeting.ends_at <= now or attendance.is_closed(uow, meeting):
        raise UserFacingError(
            N_("Für Treffen {n} werden keine Rückmeldungen mehr gesammelt; nachfassen entfällt."),
            n=number,
        )
    people, _eligible = attendance_missing(uow, meeting)
    yes = Button(
        N_("Ich komme"), "nudge_attend", f"{number}:ja", "primary", f"teilnahme {number} ja"
    )
    no = Button(
        N_("Ich komme nicht"), "nudge_attend", f"{number}:nein", None, f"teilnahme {number} nein"
    )
    return people, meeting.title, meeting.starts_at, meeting.id, (yes, no)
