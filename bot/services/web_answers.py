"""The answer page behind a one-time link: what it shows and how an answer is stored.

An answer goes through the chat's own services — :func:`bot.services.poll_votes.cast_vote`
under the poll's lock, :func:`bot.services.attendance.give` — so the rules (open, eligible,
one ballot, changeable until the close), the counters and the refresh of the channel post are
the chat's. The page shows the link owner's own answer and, for a poll, only the result the
chat shows (:func:`bot.services.poll_results.results_visible`); never anyone else's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.errors import UserFacingError
from bot.i18n import N_, translator
from bot.services import attendance, poll_votes, polls
from bot.services import feedback as fb
from bot.services import feedback_views as fb_views
from bot.services.answer_links import LinkTarget, is_open
from bot.services.meetings import day_label, local_days, span_label
from bot.services.poll_results import options_of, results_visible, tally
from bot.services.web_polls import Bar
from bot.settings import Settings
from storage.models import FeedbackRound, Meeting, Person, Poll, PollOption, Vote
from storage.models_meetings import Attendance
from storage.uow import UnitOfWork

GONE = N_(
    "Die Frage zu diesem Link gibt es nicht mehr. Was noch offen ist, zeigt Ihnen der Bot im "
    "Chat mit „ueberblick“."
)


@dataclass(frozen=True)
class PollQuestion:
    poll: Poll
    options: list[PollOption]
    chosen: tuple[int, ...]  # the link owner's current choice; () none (or sealed)
    ballots: int
    bars: tuple[Bar, ...] | None  # the result where the chat shows it, else None


@dataclass(frozen=True)
class AttendanceQuestion:
    meeting: Meeting
    span: str
    days: tuple[str, ...]  # day labels, day 1 first
    answer: Attendance | None  # the link owner's answer (None: not yet)
    chosen: tuple[int, ...]  # the days of that answer


@dataclass(frozen=True)
class FeedbackQuestion:
    round: FeedbackRound
    presenters: str
    deadline: str
    questions: tuple[str, ...]
    answers: tuple[str, ...]  # the link owner's answers; () none yet (or sealed)
    locked: bool  # anonymous and already published: no longer changeable (the chat's rule)


@dataclass(frozen=True)
class LinkView:
    target: LinkTarget
    person: Person | None  # None once an anonymous item was sealed
    open: bool
    poll: PollQuestion | None = None
    attendance: AttendanceQuestion | None = None
    feedback: FeedbackQuestion | None = None


def view(
    uow: UnitOfWork, target: LinkTarget, now: datetime, settings: Settings, language: str
) -> LinkView:
    """The question, the owner's answer and (closed) what came of it; UserFacingError GONE
    when the item no longer exists."""
    person = uow.persons.get(target.person_id) if target.person_id is not None else None
    if person is not None and person.erased_at is not None:
        person = None
    open_now = is_open(uow, target, now) and person is not None
    if target.kind == "umfrage":
        return LinkView(target, person, open_now, poll=_poll(uow, target, person, settings))
    if target.kind == "teilnahme":
        question = _attendance(uow, target, person, settings, language)
        return LinkView(target, person, open_now, attendance=question)
    asked = _feedback(uow, target, person, settings, language)
    return LinkView(target, person, open_now, feedback=asked)


def _poll(
    uow: UnitOfWork, target: LinkTarget, person: Person | None, settings: Settings
) -> PollQuestion:
    poll = uow.session.get(Poll, target.item_id)
    if poll is None:
        raise UserFacingError(GONE)
    options = options_of(uow, poll.id)
    chosen = _choice(uow, poll, options, person.id) if person is not None else ()
    counted = tally(uow, poll)
    bars = None
    if results_visible(poll, counted, settings.anonymity_threshold):
        bars = tuple(
            Bar(
                o.position,
                o.label,
                counted.counts.get(o.position, 0),
                counted.counts.get(o.position, 0) / counted.ballots if counted.ballots else 0.0,
            )
            for o in options
        )
    return PollQuestion(poll, options, chosen, counted.ballots, bars)


def _choice(
    uow: UnitOfWork, poll: Poll, options: list[PollOption], person_id: int
) -> tuple[int, ...]:
    """The person's own choice, through their ballot (anonymous votes carry no person; a
    sealed poll has no ballots any more)."""
    ballot = polls.ballot_of(uow, poll.id, person_id)
    if ballot is None or not ballot.vote_ids:
        return ()
    position_of = {o.id: o.position for o in options}
    option_ids = uow.session.scalars(
        select(Vote.option_id).where(Vote.id.in_([int(i) for i in ballot.vote_ids]))
    )
    return tuple(sorted(position_of[o] for o in option_ids if o in position_of))


def _attendance(
    uow: UnitOfWork,
    target: LinkTarget,
    person: Person | None,
    settings: Settings,
    language: str,
) -> AttendanceQuestion:
    meeting = uow.meetings.by_id(target.item_id)
    if meeting is None or meeting.deleted_at is not None:
        raise UserFacingError(GONE)
    row = attendance.answer_of(uow, meeting, person.id) if person is not None else None
    days = tuple(day_label(d, language) for d in local_days(meeting, settings.tz))
    return AttendanceQuestion(
        meeting,
        span_label(meeting, settings.tz, language),
        days,
        row,
        attendance.days_of(row) if row is not None else (),
    )


def _feedback(
    uow: UnitOfWork,
    target: LinkTarget,
    person: Person | None,
    settings: Settings,
    language: str,
) -> FeedbackQuestion:
    rnd = uow.session.get(FeedbackRound, target.item_id)
    if rnd is None:
        raise UserFacingError(GONE)
    about = fb.info(uow, rnd, language, settings)
    own = fb.response_of(uow, rnd, person.id) if person is not None else None
    answers = tuple(str(a) for a in own.answers.get("answers", [])) if own else ()
    locked = own is not None and rnd.anonymous and own.published_at is not None
    asked = tuple(fb_views.questions(rnd, translator(language)))
    return FeedbackQuestion(rnd, about.presenters, about.deadline, asked, answers, locked)


SEALED = N_("Diese Frage ist geschlossen; Antworten sind nicht mehr möglich.")


def _owner(uow: UnitOfWork, target: LinkTarget) -> Person:
    """The link's person: a sealed link (anonymous item, closed) has none any more."""
    if target.person_id is None:
        raise UserFacingError(SEALED)
    person = uow.persons.get(target.person_id)
    if person is None or person.erased_at is not None:
        raise UserFacingError(GONE)
    return person


def give_feedback(
    uow: UnitOfWork,
    target: LinkTarget,
    answers: list[str],
    now: datetime,
    settings: Settings,
) -> fb.Submitted:
    """The link owner's answers (``feedback N antworten 1. … 2. …``); the caller commits."""
    person = _owner(uow, target)
    rnd = uow.session.get(FeedbackRound, target.item_id)
    if rnd is None or target.kind != "feedback":
        raise UserFacingError(GONE)
    return fb.submit(uow, rnd=rnd, person=person, answers=answers, now=now, settings=settings)


def vote(
    uow: UnitOfWork,
    target: LinkTarget,
    positions: tuple[int, ...],
    now: datetime,
    settings: Settings,
    *,
    withdraw: bool = False,
) -> poll_votes.VoteOutcome:
    """The link owner's whole choice (like ``abstimmen N 1,3``), or ``withdraw`` it (``abstimmen
    N zurueckziehen``), under the poll's lock like a click; the caller commits."""
    person = _owner(uow, target)
    if target.kind != "umfrage":
        raise UserFacingError(GONE)
    if not positions and not withdraw:
        raise UserFacingError(N_("Bitte wählen Sie mindestens eine Option aus, dann „Abstimmen“."))
    poll, options = polls.lock_by_id_with_options(uow, target.item_id)
    return poll_votes.cast_vote(
        uow,
        poll,
        person_id=person.id,
        positions=() if withdraw else positions,
        mode="replace",
        now=now,
        settings=settings,
        options=options,
    )


def attend(
    uow: UnitOfWork,
    target: LinkTarget,
    days: tuple[int, ...],
    needs: dict[str, str | bool | None],
    now: datetime,
) -> tuple[Meeting, Attendance]:
    """The link owner's attendance answer (``teilnahme N tag1 essen=…``); caller commits."""
    person = _owner(uow, target)
    meeting = uow.meetings.by_id(target.item_id)
    if meeting is None or meeting.deleted_at is not None or target.kind != "teilnahme":
        raise UserFacingError(GONE)
    row = attendance.give(uow, meeting, person, attendance.Answer(days), now, **needs)
    return meeting, row
