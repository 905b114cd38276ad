"""What the organisers' web overview shows, read in a fixed number of queries.

The chat's dashboard (:mod:`bot.services.overview`) asks per poll, round and person; a page
that lists every open item of a cohort at once reads each kind with one grouped query instead,
so the statement count does not grow with the cohort (tests/web/test_web_queries.py counts
them). The counting rules are the chat's: a poll counts ballots of confirmed participants
(hosts not when they abstain), a round answers of confirmed, not erased participants who do not
present, a meeting answers (days given) of confirmed, not erased participants.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from bot.services.attendance import NOT_ANSWERED
from storage.models import (
    Cohort,
    FeedbackResponse,
    FeedbackRound,
    Meeting,
    Participant,
    Person,
    Poll,
)
from storage.models_feedback import FeedbackPresenter
from storage.models_meetings import Attendance, MeetingState
from storage.models_polls import PollBallot
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Item:
    """An open poll or round, or a meeting's attendance question: ``done`` of ``eligible``."""

    kind: str  # "umfrage" | "feedback" | "teilnahme"
    number: int
    title: str
    closes_at: datetime | None
    done: int
    eligible: int
    anonymous: bool = False

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.eligible) if self.eligible else 0


@dataclass(frozen=True)
class MeetingRow:
    meeting: Meeting
    answered: int
    closed: bool


@dataclass(frozen=True)
class CohortOverview:
    cohort: Cohort
    confirmed: int
    waitlisted: int  # waiting: waitlisted and pending (moderated) registrations
    pending: int
    meetings: tuple[MeetingRow, ...]
    polls: tuple[Item, ...]
    rounds: tuple[Item, ...]


def _confirmed_member(cohort_id_column: InstrumentedAttribute[int] | int) -> ColumnElement[bool]:
    return and_(
        Participant.cohort_id == cohort_id_column,
        Participant.status == "confirmed",
    )


def read(uow: UnitOfWork, cohort: Cohort, now: datetime) -> CohortOverview:
    session = uow.session
    counts: dict[str, int] = defaultdict(int)
    hosts = 0
    live = 0  # confirmed and not erased
    for status, is_host, erased, n in session.execute(
        select(
            Participant.status,
            Participant.is_host,
            Person.erased_at.is_not(None),
            func.count(),
        )
        .join(Person, Person.id == Participant.person_id)
        .where(Participant.cohort_id == cohort.id)
        .group_by(Participant.status, Participant.is_host, Person.erased_at.is_not(None))
    ):
        counts[status] += n
        if status == "confirmed":
            hosts += n if is_host else 0
            live += 0 if erased else n
    meetings = _meetings(uow, cohort, live)
    polls = _polls(uow, cohort, now, counts["confirmed"], hosts)
    rounds = _rounds(uow, cohort, now, live)
    return CohortOverview(
        cohort=cohort,
        confirmed=counts["confirmed"],
        waitlisted=counts["waitlisted"] + counts["pending"],
        pending=counts["pending"],
        meetings=meetings,
        polls=polls,
        rounds=rounds,
    )


def _meetings(uow: UnitOfWork, cohort: Cohort, live: int) -> tuple[MeetingRow, ...]:
    rows = uow.session.execute(
        select(Meeting, MeetingState.attendance_closed_at)
        .outerjoin(MeetingState, MeetingState.meeting_id == Meeting.id)
        .where(Meeting.cohort_id == cohort.id, Meeting.deleted_at.is_(None))
        .order_by(Meeting.starts_at, Meeting.number)
    ).all()
    answered = dict(
        uow.session.execute(
            select(Attendance.meeting_id, func.count())
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .join(Person, Person.id == Attendance.person_id)
            .join(
                Participant,
                and_(
                    Participant.person_id == Attendance.person_id,
                    _confirmed_member(Meeting.cohort_id),
                ),
            )
            .where(
                Meeting.cohort_id == cohort.id,
                Attendance.days != NOT_ANSWERED,
                Person.erased_at.is_(None),
            )
            .group_by(Attendance.meeting_id)
        ).all()
    )
    return tuple(
        MeetingRow(meeting, int(answered.get(meeting.id, 0)), closed is not None)
        for meeting, closed in rows
    )


def _polls(
    uow: UnitOfWork, cohort: Cohort, now: datetime, confirmed: int, hosts: int
) -> tuple[Item, ...]:
    polls = uow.session.scalars(
        select(Poll)
        .where(
            Poll.cohort_id == cohort.id,
            Poll.closed_at.is_(None),
            or_(Poll.closes_at.is_(None), Poll.closes_at > now),
        )
        .order_by(Poll.number)
    ).all()
    if not polls:
        return ()
    voted = dict(
        uow.session.execute(
            select(PollBallot.poll_id, func.count())
            .join(Poll, Poll.id == PollBallot.poll_id)
            .join(
                Participant,
                and_(
                    Participant.person_id == PollBallot.person_id,
                    _confirmed_member(Poll.cohort_id),
                ),
            )
            .where(
                PollBallot.poll_id.in_([p.id for p in polls]),
                not_(and_(Poll.host_abstain, Participant.is_host)),
            )
            .group_by(PollBallot.poll_id)
        ).all()
    )
    return tuple(
        Item(
            "umfrage",
            p.number,
            p.question,
            p.closes_at,
            int(voted.get(p.id, 0)),
            confirmed - (hosts if p.host_abstain else 0),
            p.anonymous,
        )
        for p in polls
    )


def _rounds(uow: UnitOfWork, cohort: Cohort, now: datetime, live: int) -> tuple[Item, ...]:
    rounds = uow.session.scalars(
        select(FeedbackRound)
        .where(
            FeedbackRound.cohort_id == cohort.id,
            FeedbackRound.closed_at.is_(None),
            FeedbackRound.closes_at > now,
        )
        .order_by(FeedbackRound.number)
    ).all()
    if not rounds:
        return ()
    ids = [r.id for r in rounds]
    presenting: dict[int, set[int]] = defaultdict(set)
    labels: dict[int, list[str]] = defaultdict(list)
    for round_id, person_id, name, municipality, status in uow.session.execute(
        select(
            FeedbackPresenter.round_id,
            Person.id,
            Person.display_name,
            Person.municipality,
            Participant.status,
        )
        .join(Person, Person.id == FeedbackPresenter.person_id)
        .outerjoin(
            Participant,
            and_(Participant.person_id == Person.id, Participant.cohort_id == cohort.id),
        )
        .where(FeedbackPresenter.round_id.in_(ids))
        .order_by(FeedbackPresenter.round_id, Person.id)
    ):
        if status == "confirmed":
            presenting[round_id].add(person_id)
        label = name or "?"
        labels[round_id].append(f"{label} ({municipality})" if municipality else label)
    answered = dict(
        uow.session.execute(
            select(FeedbackResponse.round_id, func.count())
            .join(Person, Person.id == FeedbackResponse.author_person_id)
            .join(
                Participant,
                and_(
                    Participant.person_id == FeedbackResponse.author_person_id,
                    _confirmed_member(cohort.id),
                ),
            )
            .where(
                FeedbackResponse.round_id.in_(ids),
                Person.erased_at.is_(None),
                not_(
                    select(FeedbackPresenter.id)
                    .where(
                        FeedbackPresenter.round_id == FeedbackResponse.round_id,
                        FeedbackPresenter.person_id == FeedbackResponse.author_person_id,
                    )
                    .exists()
                ),
            )
            .group_by(FeedbackResponse.round_id)
        ).all()
    )
    return tuple(
        Item(
            "feedback",
            r.number,
            f"{r.title} – {r.subject or ', '.join(labels[r.id]) or '?'}",
            r.closes_at,
            int(answered.get(r.id, 0)),
            live - len(presenting[r.id]),
            r.anonymous,
        )
        for r in rounds
    )
