"""Casting a vote with few statements: the request path of every vote click.

The caller holds the poll's lock (SQLite: the write lock from BEGIN IMMEDIATE; PostgreSQL: the
poll row, SELECT … FOR UPDATE). Then:

1. one query for the voter's participation (eligibility) and their ballot, if any;
2. one query for the options (and, with a ballot, one for its current votes);
3. the change itself at Core level: a changed option *updates* the vote row in place (no
   delete + insert), extra choices are inserted, dropped ones deleted; the ballot row is
   written only when its set of vote ids changes;
4. one counter update (version and ballot count, RETURNING both);
5. the request for a result update (:func:`poll_results.request_refresh`): nothing is
   rendered here; the outbox renders the poll when it sends the edit, one edit per message for
   all the clicks that came in meanwhile.

Anonymous polls: vote rows carry no person and the poll's creation time as ``cast_at``;
only the ballot links voter and votes, and it is deleted at close. Until then their post shows
the ballot count only (:func:`poll_results.results_visible`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import (
    BindParameter,
    Connection,
    Integer,
    Table,
    and_,
    bindparam,
    delete,
    insert,
    select,
    update,
)

from bot.actions import VoteMode
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.poll_results import options_of, request_refresh
from bot.settings import Settings
from storage.models import Participant, Poll, PollOption, Vote
from storage.models_polls import PollBallot, PollCounter
from storage.uow import UnitOfWork

Mode = VoteMode  # replace (the whole choice; none: withdraw), add or remove options


@dataclass(frozen=True)
class VoteOutcome:
    status: Literal["neu", "geaendert", "unveraendert", "zurueckgezogen"]
    positions: tuple[int, ...]
    labels: dict[int, str] = field(default_factory=dict)  # position → label, all options


def is_open(poll: Poll, now: datetime) -> bool:
    return poll.closed_at is None and (poll.closes_at is None or poll.closes_at > now)


def check_open(poll: Poll, now: datetime) -> None:
    if not is_open(poll, now):
        raise UserFacingError(
            N_("Umfrage {number} ist geschlossen; Stimmen zählen nicht mehr."), number=poll.number
        )


_PART = cast(Table, Participant.__table__)
_VOTE = cast(Table, Vote.__table__)
_BALLOT = cast(Table, PollBallot.__table__)
_COUNTER = cast(Table, PollCounter.__table__)
_IDS: BindParameter[list[int]] = bindparam("b_ids", expanding=True)
# Built once, run with bind parameters on the transaction's connection (no ORM on the way):
# the click path's statements. ``b_`` names: the plain column names are reserved in SET.
_VOTER = (
    select(_PART.c.status, _PART.c.is_host, _BALLOT.c.id, _BALLOT.c.vote_ids)
    .select_from(
        _PART.outerjoin(
            _BALLOT,
            and_(
                _BALLOT.c.poll_id == bindparam("b_poll"),
                _BALLOT.c.person_id == _PART.c.person_id,
            ),
        )
    )
    .where(_PART.c.cohort_id == bindparam("b_cohort"), _PART.c.person_id == bindparam("b_person"))
)
_OLD_VOTES = select(_VOTE.c.id, _VOTE.c.option_id).where(_VOTE.c.id.in_(_IDS))
_MOVE_VOTE = (
    update(_VOTE)
    .where(_VOTE.c.id == bindparam("b_id"))
    .values(
        option_id=bindparam("b_option"),
        cast_at=bindparam("b_cast", type_=_VOTE.c.cast_at.type),
    )
)
_DROP_VOTES = delete(_VOTE).where(_VOTE.c.id.in_(_IDS))
_ADD_VOTES = insert(_VOTE).returning(_VOTE.c.id, sort_by_parameter_order=True)
_RETIME_VOTES = (
    update(_VOTE)
    .where(_VOTE.c.id.in_(_IDS))
    .values(cast_at=bindparam("b_cast", type_=_VOTE.c.cast_at.type))
)
_ADD_BALLOT = insert(_BALLOT).values(
    poll_id=bindparam("b_poll"),
    person_id=bindparam("b_person"),
    vote_ids=bindparam("b_votes", type_=_BALLOT.c.vote_ids.type),
)
_DROP_BALLOT = delete(_BALLOT).where(_BALLOT.c.id == bindparam("b_id"))
_SET_BALLOT = (
    update(_BALLOT)
    .where(_BALLOT.c.id == bindparam("b_id"))
    .values(vote_ids=bindparam("b_votes", type_=_BALLOT.c.vote_ids.type))
)
_COUNT = (
    update(_COUNTER)
    .where(_COUNTER.c.poll_id == bindparam("b_poll"))
    .values(
        version=_COUNTER.c.version + 1,
        ballots=_COUNTER.c.ballots + bindparam("b_delta", type_=Integer),
    )
    .returning(_COUNTER.c.version, _COUNTER.c.ballots)
)


def _voter_and_ballot(conn: Connection, poll: Poll, person_id: int) -> tuple[int | None, list[int]]:
    """Refuse ineligible voters; the ballot's id and vote ids (``None, []``: no ballot)."""
    row = conn.execute(
        _VOTER, {"b_poll": poll.id, "b_cohort": poll.cohort_id, "b_person": person_id}
    ).first()
    if row is None or row.status != "confirmed":
        raise UserFacingError(
            N_(
                "Abstimmen können nur bestätigte Teilnehmende des Jahrgangs. Melden Sie sich "
                "mit „anmelden“ an oder wenden Sie sich an das Programmteam."
            )
        )
    if poll.host_abstain and row.is_host:
        raise UserFacingError(
            N_(
                "Bei Umfrage {number} enthalten sich die Mitglieder der Gastgeberstadt "
                "(Interessenkonflikt); Ihre Stimme kann hier nicht gezählt werden."
            ),
            number=poll.number,
        )
    return row.id, [int(i) for i in (row.vote_ids or [])]


def new_choice(
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
    if mode == "remove":
        return tuple(sorted(set(current) - set(positions)))
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


def _rewrite_votes(
    conn: Connection,
    poll: Poll,
    person_id: int,
    old: dict[int, int],
    chosen: tuple[int, ...],
    by_position: dict[int, PollOption],
    now: datetime,
) -> list[int]:
    """Make the ballot's vote rows match ``chosen`` (``old``: position → vote id); the ids."""
    anonymous = poll.anonymous
    cast_at = poll.created_at if anonymous else now  # anonymous: no telling time
    kept = {p: old[p] for p in chosen if p in old}
    added = [p for p in chosen if p not in old]
    dropped = [v for p, v in old.items() if p not in kept]
    for position in added:
        if not dropped:
            break
        vote_id = dropped.pop()
        conn.execute(
            _MOVE_VOTE, {"b_id": vote_id, "b_option": by_position[position].id, "b_cast": cast_at}
        )
        kept[position] = vote_id
    added = [p for p in added if p not in kept]
    if dropped:
        conn.execute(_DROP_VOTES, {"b_ids": dropped})
    if added:
        rows = [
            {
                "poll_id": poll.id,
                "option_id": by_position[p].id,
                "person_id": None if anonymous else person_id,
                "cast_at": cast_at,
            }
            for p in added
        ]
        ids = conn.execute(_ADD_VOTES, rows).scalars()
        kept.update(zip(added, ids, strict=True))
    untouched = [v for p, v in kept.items() if p in old and old[p] == v]
    if untouched and not anonymous:  # a changed ballot: all its votes count from now
        conn.execute(_RETIME_VOTES, {"b_ids": untouched, "b_cast": now})
    return [kept[p] for p in chosen]


def cast_vote(
    uow: UnitOfWork,
    poll: Poll,
    *,
    person_id: int,
    positions: tuple[int, ...],
    mode: Mode,
    now: datetime,
    settings: Settings,
    options: list[PollOption] | None = None,
) -> VoteOutcome:
    """Replace, extend or shrink the ballot (replace with no option: withdraw); ``poll`` must
    be locked (see module doc); ``options``: the poll's options in order, if the caller has
    them. ``settings`` is kept for callers; the result is rendered by the outbox."""
    check_open(poll, now)
    conn = uow.session.connection()
    ballot_id, vote_ids = _voter_and_ballot(conn, poll, person_id)
    if options is None:
        options = options_of(uow, poll.id)
    by_position = {o.position: o for o in options}
    labels = {o.position: o.label for o in options}
    position_of = {o.id: o.position for o in options}
    old: dict[int, int] = {}
    if vote_ids:
        for vote_id, option_id in conn.execute(_OLD_VOTES, {"b_ids": vote_ids}):
            old[position_of[option_id]] = vote_id
    current = tuple(sorted(old))
    chosen = new_choice(poll, current, positions, mode, len(options))
    if chosen == current:
        return VoteOutcome("unveraendert", current, labels)
    new_ids = _rewrite_votes(conn, poll, person_id, old, chosen, by_position, now)
    delta = 0
    if ballot_id is None:
        conn.execute(_ADD_BALLOT, {"b_poll": poll.id, "b_person": person_id, "b_votes": new_ids})
        delta = 1
    elif not chosen:
        conn.execute(_DROP_BALLOT, {"b_id": ballot_id})
        delta = -1
    elif sorted(new_ids) != sorted(vote_ids):
        conn.execute(_SET_BALLOT, {"b_id": ballot_id, "b_votes": new_ids})
    version, _ballots = conn.execute(_COUNT, {"b_poll": poll.id, "b_delta": delta}).one()
    if delta or not poll.anonymous:
        # An anonymous poll shows only the ballot count until it closes: a changed ballot
        # leaves the post as it is (an edit would only say "someone changed their vote").
        request_refresh(uow, poll.id, version, now)
    if not chosen:
        return VoteOutcome("zurueckgezogen", (), labels)
    return VoteOutcome("geaendert" if current else "neu", chosen, labels)
