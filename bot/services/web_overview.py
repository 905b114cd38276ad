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
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    not_,
    or_,
    select,
)
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


def _confirmed_member(
    cohort_id: InstrumentedAttribute[int] | ColumnElement[Any],
) -> ColumnElement[bool]:
    return and_(Participant.cohort_id == cohort_id, Participant.status == "confirmed")


# The statements are built once (building costs more Python than running them) and run with
# the request's values, like bot.caller.CALLER_IN_CHANNEL; built on first use, not at import.
@cache
def _statements() -> dict[str, Select[Any]]:
    erased = Person.erased_at.is_not(None)
    COHORT: BindParameter[int] = bindparam("cohort")
    NOW: BindParameter[datetime] = bindparam("now")
    IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
    statements: dict[str, Any] = {
        "counts": select(Participant.status, Participant.is_host, erased, func.count())
        .join(Person, Person.id == Participant.person_id)
        .where(Participant.cohort_id == COHORT)
        .group_by(Participant.status, Participant.is_host, erased),
        "meetings": select(Meeting, MeetingState.attendance_closed_at)
        .outerjoin(MeetingState, MeetingState.meeting_id == Meeting.id)
        .where(Meeting.cohort_id == COHORT, Meeting.deleted_at.is_(None))
        .order_by(Meeting.starts_at, Meeting.number),
        "answered": select(Attendance.meeting_id, func.count())
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
            Meeting.cohort_id == COHORT,
            Attendance.days != NOT_ANSWERED,
            Person.erased_at.is_(None),
        )
        .group_by(Attendance.meeting_id),
        "polls": select(Poll)
        .where(
            Poll.cohort_id == COHORT,
            Poll.closed_at.is_(None),
            or_(Poll.closes_at.is_(None), Poll.closes_at > NOW),
        )
        .order_by(Poll.number),
        "voted": select(PollBallot.poll_id, func.count())
        .join(Poll, Poll.id == PollBallot.poll_id)
        .join(
            Participant,
            and_(
                Participant.person_id == PollBallot.person_id,
                _confirmed_member(Poll.cohort_id),
            ),
        )
        .where(
            PollBallot.poll_id.in_(IDS),
            not_(and_(Poll.host_abstain, Participant.is_host)),
        )
        .group_by(PollBallot.poll_id),
        "rounds": select(FeedbackRound)
        .where(
            FeedbackRound.cohort_id == COHORT,
            FeedbackRound.closed_at.is_(None),
            FeedbackRound.closes_at > NOW,
        )
        .order_by(FeedbackRound.number),
        "presenters": select(
            FeedbackPresenter.round_id,
            Person.id,
            Person.display_name,
            Person.municipality,
            Participant.status,
        )
        .join(Person, Person.id == FeedbackPresenter.person_id)
        .outerjoin(
            Participant,
            and_(Participant.person_id == Person.id, Participant.cohort_id == COHORT),
        )
        .where(FeedbackPresenter.round_id.in_(IDS))
        .order_by(FeedbackPresenter.round_id, Person.id),
        "answers": select(FeedbackResponse.round_id, func.count())
        .join(Person, Person.id == FeedbackResponse.author_person_id)
        .join(
            Participant,
            and_(
                Participant.person_id == FeedbackResponse.author_person_id,
                _confirmed_member(COHORT),
            ),
        )
        .where(
            FeedbackResponse.round_id.in_(IDS),
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
        .group_by(FeedbackResponse.round_id),
    }
    return statements


def read(uow: UnitOfWork, cohort: Cohort, now: datetime) -> CohortOverview:
    q = _statements()
    run = uow.session.execute
    counts: dict[str, int] = defaultdict(int)
    hosts = 0
    live = 0  # confirmed and not erased
    for status, is_host, erased, n in run(q["counts"], {"cohort": cohort.id}):
        counts[status] += n
        if status == "confirmed":
            hosts += n if is_host else 0
            live += 0 if erased else n
    meetings = run(q["meetings"], {"cohort": cohort.id}).all()
    answered = {row[0]: int(row[1]) for row in run(q["answered"], {"cohort": cohort.id})}
    polls = uow.session.scalars(q["polls"], {"cohort": cohort.id, "now": now}).all()
    voted: dict[int, int] = {}
    if polls:
        voted = {row[0]: int(row[1]) for row in run(q["voted"], {"ids": [p.id for p in polls]})}
    confirmed = counts["confirmed"]
    return CohortOverview(
        cohort=cohort,
        confirmed=confirmed,
        waitlisted=counts["waitlisted"] + counts["pending"],
        pending=counts["pending"],
        meetings=tuple(
            MeetingRow(meeting, int(answered.get(meeting.id, 0)), closed is not None)
            for meeting, closed in meetings
        ),
        polls=tuple(
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
        ),
        rounds=_rounds(uow, cohort, now, live),
    )


def _rounds(uow: UnitOfWork, cohort: Cohort, now: datetime, live: int) -> tuple[Item, ...]:
    q = _statements()
    rounds = uow.session.scalars(q["rounds"], {"cohort": cohort.id, "now": now}).all()
    if not rounds:
        return ()
    ids = [r.id for r in rounds]
    presenting: dict[int, set[int]] = defaultdict(set)
    labels: dict[int, list[str]] = defaultdict(list)
    for round_id, person_id, name, municipality, status in uow.session.execute(
        q["presenters"], {"ids": ids, "cohort": cohort.id}
    ):
        if status == "confirmed":
            presenting[round_id].add(person_id)
        label = name or "?"
        labels[round_id].append(f"{label} ({municipality})" if municipality else label)
    answered = {
        row[0]: int(row[1])
        for row in uow.session.execute(q["answers"], {"ids": ids, "cohort": cohort.id})
    }
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


def registrations(uow: UnitOfWork, cohort: Cohort) -> list[tuple[Participant, Person, int]]:
    """Every registration with its person and place (seat number, or waitlist place), in the
    chat's order (registration time), in one query."""
    out: list[tuple[Participant, Person, int]] = []
    seats = waiting = 0
    for participant, person in uow.session.execute(
        select(Participant, Person)
        .join(Person, Person.id == Participant.person_id)
        .where(Participant.cohort_id == cohort.id)
        .order_by(Participant.registered_at, Participant.id)
    ).all():
        if participant.status == "confirmed":
            seats += 1
            place = seats
        elif participant.status in ("waitlisted", "pending"):
            waiting += 1
            place = waiting
        else:
            place = 0
        out.append((participant, person, place))
    return out
