"""The cohort's polls with their results for the web page, in four queries for any number.

The result is shown exactly when the chat shows it (:func:`bot.services.poll_results.
results_visible`: named live polls at once, others after closing, anonymous ones only after
closing and from the anonymity threshold); before that only the ballot count, as in the post.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.errors import PermissionDenied
from bot.services import poll_close
from bot.services.poll_results import results_visible
from bot.services.poll_views import Tally
from bot.settings import Settings
from storage.models import Person, Poll, PollOption, Vote
from storage.models_polls import PollCounter
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Bar:
    position: int
    label: str
    votes: int
    share: float  # of the ballots, 0..1


@dataclass(frozen=True)
class PollResult:
    poll: Poll
    ballots: int
    bars: tuple[Bar, ...] | None  # None: not to be shown (yet)
    options: tuple[str, ...]


def results(uow: UnitOfWork, cohort_id: int, threshold: int) -> list[PollResult]:
    polls = uow.session.scalars(
        select(Poll).where(Poll.cohort_id == cohort_id).order_by(Poll.number.desc())
    ).all()
    if not polls:
        return []
    ids = [p.id for p in polls]
    options: dict[int, list[PollOption]] = defaultdict(list)
    for option in uow.session.scalars(
        select(PollOption).where(PollOption.poll_id.in_(ids)).order_by(PollOption.position)
    ):
        options[option.poll_id].append(option)
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for poll_id, position, n in uow.session.execute(
        select(PollOption.poll_id, PollOption.position, func.count(Vote.id))
        .join(Vote, Vote.option_id == PollOption.id)
        .where(PollOption.poll_id.in_(ids))
        .group_by(PollOption.poll_id, PollOption.position)
    ):
        counts[poll_id][int(position)] = int(n)
    ballots = {
        row[0]: int(row[1])
        for row in uow.session.execute(
            select(PollCounter.poll_id, PollCounter.ballots).where(PollCounter.poll_id.in_(ids))
        )
    }
    out = []
    for poll in polls:
        tally = Tally(counts[poll.id], ballots.get(poll.id, 0))
        bars = None
        if results_visible(poll, tally, threshold):
            bars = tuple(
                Bar(
                    o.position,
                    o.label,
                    tally.counts.get(o.position, 0),
                    tally.counts.get(o.position, 0) / tally.ballots if tally.ballots else 0.0,
                )
                for o in options[poll.id]
            )
        labels = tuple(f"{o.position}. {o.label}" for o in options[poll.id])
        out.append(PollResult(poll, tally.ballots, bars, labels))
    return out


def may_close(poll: Poll, person: Person) -> None:
    """The chat's rule (:func:`bot.services.poll_close.may_close`); raises PermissionDenied."""
    poll_close.may_close(poll, person)


def closable(poll: Poll, person: Person) -> bool:
    """Whether ``person`` may close ``poll`` now (the chat's rule: the programme team and the
    poll's creator; only an open poll)."""
    if poll.closed_at is not None:
        return False
    try:
        poll_close.may_close(poll, person)
    except PermissionDenied:
        return False
    return True


def close(
    uow: UnitOfWork, poll: Poll, person: Person, *, now: datetime, settings: Settings
) -> Poll:
    """Close ``poll`` as ``umfrage N schliessen`` does: the same permission check, then
    :func:`bot.services.poll_close.close_poll` (seal, result in place, summary post, audit
    entry ``umfrage.schliessen``). A closed poll raises the chat's "bereits geschlossen"."""
    poll_close.may_close(poll, person)
    return poll_close.close_poll(uow, poll.id, now=now, settings=settings, actor_id=person.id)
