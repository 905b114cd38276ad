"""Polls: create, vote (change until close), close with a summary; numbered per cohort.

Ballot changes are serialised per poll: SQLite takes its write lock at BEGIN IMMEDIATE,
PostgreSQL locks the poll row (SELECT … FOR UPDATE) before a person's ballot is read and
replaced. In anonymous polls the ``votes`` rows carry no person; the only link is the
``PollBallot`` row, which is deleted at close (see :mod:`bot.services.poll_close`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, select

from bot import reminders
from bot.errors import NotFound, UserFacingError
from bot.i18n import N_
from bot.outbox import post_to_cohort
from bot.services.audit import record
from bot.services.poll_results import options_of, push_results, render_for_channel
from bot.services.poll_spec import PollSpec as PollSpec
from bot.services.poll_spec import validate
from bot.settings import Settings
from storage.models import Cohort, Poll, PollOption, Vote
from storage.models_polls import PollBallot, PollCounter
from storage.uow import UnitOfWork

NUDGE_BEFORE = timedelta(hours=24)
Mode = Literal["set", "add", "withdraw"]


@dataclass(frozen=True)
class VoteOutcome:
    status: Literal["neu", "geaendert", "unveraendert", "zurueckgezogen"]
    positions: tuple[int, ...]


def create_poll(
    uow: UnitOfWork,
    *,
    cohort: Cohort,
    spec: PollSpec,
    creator_id: int,
    now: datetime,
    settings: Settings,
) -> Poll:
    """Number, store, post to the cohort's channels and schedule close and nudge."""
    validate(spec, now)
    uow.cohorts.lock_for_seats(cohort.id)  # serialises numbering (PostgreSQL row lock)
    highest = uow.session.scalar(select(func.max(Poll.number)).where(Poll.cohort_id == cohort.id))
    poll = Poll(
        cohort_id=cohort.id,
        number=(highest or 0) + 1,
        question=spec.question.strip(),
        max_choices=spec.max_choices,
        anonymous=spec.anonymous,
        results_live=spec.results_live,
        host_abstain=spec.host_abstain,
        closes_at=spec.closes_at,
        created_by_person_id=creator_id,
        created_at=now,
    )
    uow.session.add(poll)
    uow.session.flush()
    for position, label in enumerate(spec.options, 1):
        uow.session.add(PollOption(poll_id=poll.id, position=position, label=label.strip()))
    uow.session.add(PollCounter(poll_id=poll.id, version=0, ballots=0))
    uow.session.flush()
    message = render_for_channel(uow, poll, settings)
    post_to_cohort(uow, cohort.id, message, f"poll:{poll.id}:post", now, subject=f"poll:{poll.id}")
    if poll.closes_at is not None:
        base = {"poll_id": poll.id}
        reminders.schedule(
            uow,
            key=f"poll:{poll.id}:close",
            due_at=poll.closes_at,
            kind="poll_close",
            now=now,
            cohort_id=cohort.id,
            target=base,
        )
        if poll.closes_at - NUDGE_BEFORE > now:
            reminders.schedule(
                uow,
                key=f"poll:{poll.id}:nudge",
                due_at=poll.closes_at - NUDGE_BEFORE,
                kind="poll_nudge",
                now=now,
                cohort_id=cohort.id,
                target=base,
            )
    record(
        uow,
        actor_id=creator_id,
        action="umfrage.anlegen",
        now=now,
        cohort_id=cohort.id,
        after={"umfrage": poll.number, "frage": poll.question, "anonym": poll.anonymous},
    )
    return poll


def get_poll(uow: UnitOfWork, cohort_id: int, number: int) -> Poll:
    poll = uow.session.scalar(
        select(Poll).where(Poll.cohort_id == cohort_id, Poll.number == number)
    )
    if poll is None:
        raise NotFound(
            N_("Eine Umfrage {number} gibt es hier nicht. „umfragen“ zeigt alle."), number=number
        )
    return poll


def lock_poll(uow: UnitOfWork, poll_id: int) -> Poll:
    """The poll, freshly read under a row lock (PostgreSQL; SQLite already holds its lock)."""
    poll = uow.session.scalar(
        select(Poll)
        .where(Poll.id == poll_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert poll is not None
    return poll


def is_open(poll: Poll, now: datetime) -> bool:
    return poll.closed_at is None and (poll.closes_at is None or poll.closes_at > now)


def eligible(uow: UnitOfWork, poll: Poll, person_id: int) -> bool:
    participant = uow.participants.get(poll.cohort_id, person_id)
    if participant is None or participant.status != "confirmed":
        return False
    return not (poll.host_abstain and participant.is_host)


def eligible_voters(uow: UnitOfWork, poll: Poll) -> list[int]:
    return [
        p.person_id
        for p in uow.participants.in_cohort(poll.cohort_id, "confirmed")
        if not (poll.host_abstain and p.is_host)
    ]


def _check_voter(uow: UnitOfWork, poll: Poll, person_id: int, now: datetime) -> None:
    if not is_open(poll, now):
        raise UserFacingError(
            N_("Umfrage {number} ist geschlossen; Stimmen zählen nicht mehr."), number=poll.number
        )
    participant = uow.participants.get(poll.cohort_id, person_id)
    if participant is None or participant.status != "confirmed":
        raise UserFacingError(
            N_(
                "Abstimmen können nur bestätigte Teilnehmende des Jahrgangs. Melden Sie sich "
                "mit „anmelden“ an oder wenden Sie sich an das Programmteam."
            )
        )
    if poll.host_abstain and participant.is_host:
        raise UserFacingError(
            N_(
                "Bei Umfrage {number} enthalten sich die Mitglieder der Gastgeberstadt "
                "(Interessenkonflikt); Ihre Stimme kann hier nicht gezählt werden."
            ),
            number=poll.number,
        )


def ballot_of(uow: UnitOfWork, poll_id: int, person_id: int) -> PollBallot | None:
    return uow.session.scalar(
        select(PollBallot).where(PollBallot.poll_id == poll_id, PollBallot.person_id == person_id)
    )


def chosen_positions(uow: UnitOfWork, ballot: PollBallot | None) -> tuple[int, ...]:
    if ballot is None or not ballot.vote_ids:
        return ()
    return tuple(
        sorted(
            uow.session.scalars(
                select(PollOption.position)
                .join(Vote, Vote.option_id == PollOption.id)
                .where(Vote.id.in_([int(i) for i in ballot.vote_ids]))
            )
        )
    )


def _new_choice(
    poll: Poll, current: tuple[int, ...], positions: tuple[int, ...], mode: Mode, n_options: int
) -> tuple[int, ...]:
    wrong = [p for p in positions if not 1 <= p <= n_options]
    if wrong:
        raise UserFacingError(
            N_("Option {bad} gibt es nicht; Umfrage {number} hat die Optionen 1–{n}."),
            bad=wrong[0],
            number=poll.number,
            n=n_options,
        )
    if mode == "withdraw":
        return ()
    chosen = tuple(sorted(set(positions) | (set(current) if mode == "add" else set())))
    if len(chosen) > poll.max_choices:
        if poll.max_choices == 1:
            raise UserFacingError(
                N_("Bei Umfrage {number} ist nur eine Option möglich, z. B. abstimmen {number} 2."),
                number=poll.number,
            )
        raise UserFacingError(
            N_(
                "Bei Umfrage {number} sind höchstens {max} Optionen möglich (Ihre Auswahl: "
                "{chosen}). Ersetzen Sie sie mit einer Liste, z. B. abstimmen {number} 1,2."
            ),
            number=poll.number,
            max=poll.max_choices,
            chosen=", ".join(str(p) for p in current or chosen),
        )
    return chosen


def cast_vote(
    uow: UnitOfWork,
    *,
    poll_id: int,
    person_id: int,
    positions: tuple[int, ...],
    mode: Mode,
    now: datetime,
    settings: Settings,
) -> VoteOutcome:
    """Set, extend or withdraw ``person_id``'s ballot; the same choice again is "unverändert"."""
    poll = lock_poll(uow, poll_id)
    _check_voter(uow, poll, person_id, now)
    options = options_of(uow, poll.id)
    ballot = ballot_of(uow, poll.id, person_id)
    current = chosen_positions(uow, ballot)
    chosen = _new_choice(poll, current, positions, mode, len(options))
    if chosen == current:
        return VoteOutcome("unveraendert", current)
    if ballot is not None and ballot.vote_ids:
        ids = [int(i) for i in ballot.vote_ids]
        uow.session.execute(delete(Vote).where(Vote.id.in_(ids)))
    by_position = {o.position: o.id for o in options}
    # An anonymous ballot's votes carry neither person nor a telling time.
    cast_at = poll.created_at if poll.anonymous else now
    votes = [
        Vote(
            poll_id=poll.id,
            option_id=by_position[p],
            person_id=None if poll.anonymous else person_id,
            cast_at=cast_at,
        )
        for p in chosen
    ]
    uow.session.add_all(votes)
    uow.session.flush()
    counter = uow.session.get(PollCounter, poll.id)
    assert counter is not None
    counter.version += 1
    if ballot is None:
        ballot = PollBallot(poll_id=poll.id, person_id=person_id, vote_ids=[])
        uow.session.add(ballot)
        counter.ballots += 1
    if not chosen:
        uow.session.delete(ballot)
        counter.ballots -= 1
    else:
        ballot.vote_ids = [v.id for v in votes]
    uow.session.flush()
    push_results(uow, poll, now, settings, options)
    if not chosen:
        return VoteOutcome("zurueckgezogen", ())
    return VoteOutcome("geaendert" if current else "neu", chosen)


def polls_of(uow: UnitOfWork, cohort_id: int) -> list[Poll]:
    return list(
        uow.session.scalars(select(Poll).where(Poll.cohort_id == cohort_id).order_by(Poll.number))
    )
