"""Polls: create, vote (change until close), close with a summary; numbered per cohort.

Ballot changes are serialised per poll: SQLite takes its write lock at BEGIN IMMEDIATE,
PostgreSQL locks the poll row (SELECT … FOR UPDATE) before a person's ballot is read and
replaced. In anonymous polls the ``votes`` rows carry no person; the only link is the
``PollBallot`` row, which is deleted at close (see :mod:`bot.services.poll_close`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select

from bot.errors import NotFound, UserFacingError
from bot.i18n import N_
from bot.outbox import mail_participants, post_to_cohort
from bot.scheduling import due as reminders
from bot.services import poll_votes
from bot.services.answer_links import answer_item, mail_prompts
from bot.services.audit import record
from bot.services.poll_results import render_for_channel
from bot.services.poll_spec import PollSpec as PollSpec
from bot.services.poll_spec import validate
from bot.services.poll_votes import Mode as Mode
from bot.services.poll_votes import VoteOutcome as VoteOutcome
from bot.services.poll_votes import is_open as is_open
from bot.settings import Settings
from storage.models import Cohort, Poll, PollOption, PostedMessage
from storage.models_polls import PollBallot, PollCounter
from storage.uow import UnitOfWork

NUDGE_BEFORE = timedelta(hours=24)


def _open_twin(uow: UnitOfWork, cohort_id: int, spec: PollSpec, now: datetime) -> Poll | None:
    """An open poll exactly like ``spec``: the same command typed again (say, its answer was
    lost). A second copy would split the votes."""
    settings = (spec.max_choices, spec.anonymous, spec.results_live, spec.host_abstain)
    labels = [label.strip() for label in spec.options]
    candidates = uow.session.scalars(
        select(Poll).where(
            Poll.cohort_id == cohort_id,
            Poll.closed_at.is_(None),
            Poll.question == spec.question.strip(),
        )
    )
    for poll in candidates:
        same = (poll.max_choices, poll.anonymous, poll.results_live, poll.host_abstain)
        if same != settings or poll.closes_at != spec.closes_at or not is_open(poll, now):
            continue
        options = uow.session.scalars(
            select(PollOption.label)
            .where(PollOption.poll_id == poll.id)
            .order_by(PollOption.position)
        )
        if list(options) == labels:
            return poll
    return None


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
    twin = _open_twin(uow, cohort.id, spec, now)
    if twin is not None:
        raise UserFacingError(
            N_(
                "Diese Umfrage gibt es schon: Umfrage {number}, noch offen. Ich lege sie nicht "
                "doppelt an; „umfrage {number}“ zeigt sie."
            ),
            number=twin.number,
        )
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
    # people outside the chat get the question by mail: with the web pages on, with their own
    # answer link; otherwise a button there names the command to type
    item = answer_item(settings, "umfrage", poll.id)
    if item is None:
        mail_participants(uow, cohort.id, message, f"poll:{poll.id}:post", now)
    else:
        mail_prompts(uow, cohort.id, message, f"poll:{poll.id}:post", now, item, settings.language)
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


def get_poll(uow: UnitOfWork, cohort_id: int, number: int, *, lock: bool = False) -> Poll:
    """The poll ``number`` of the cohort; ``lock``: freshly read under a row lock (PostgreSQL;
    SQLite already holds its write lock), as :func:`poll_votes.cast_vote` needs."""
    query = select(Poll).where(Poll.cohort_id == cohort_id, Poll.number == number)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    poll = uow.session.scalar(query)
    if poll is None:
        raise NotFound(
            N_("Eine Umfrage {number} gibt es hier nicht. „umfragen“ zeigt alle."), number=number
        )
    return poll


def lock_with_options(
    uow: UnitOfWork, cohort_id: int, number: int
) -> tuple[Poll, list[PollOption]]:
    """The poll ``number`` locked (as :func:`get_poll` with ``lock``) and its options, in one
    statement: what a vote needs first."""
    rows = uow.session.execute(
        select(Poll, PollOption)
        .join(PollOption, PollOption.poll_id == Poll.id)
        .where(Poll.cohort_id == cohort_id, Poll.number == number)
        .order_by(PollOption.position)
        .with_for_update(of=Poll)
        .execution_options(populate_existing=True)
    ).all()
    if not rows:
        return get_poll(uow, cohort_id, number), []  # raises NotFound (a poll has options)
    return rows[0][0], [option for _poll, option in rows]


_LOCK_BY_ID = (
    select(Poll, PollOption)
    .join(PollOption, PollOption.poll_id == Poll.id)
    .where(Poll.id == bindparam("b_poll"))
    .order_by(PollOption.position)
    .with_for_update(of=Poll)
    .execution_options(populate_existing=True)
)


# session.info key: the poll this transaction locked by id, with its options (see below)
_LOCKED_BY_ID = "polls:locked-by-id"


def lock_by_id_with_options(uow: UnitOfWork, poll_id: int) -> tuple[Poll, list[PollOption]]:
    """:func:`lock_with_options` for a poll named by its id (a clicked vote); the statement
    is built once. A click's scope check (its cohort) and its vote ask for the same poll in
    one transaction: the second call is answered from the first, lock still held."""
    transaction = uow.session.get_transaction()
    held = uow.session.info.get(_LOCKED_BY_ID)
    if held is not None and held[0] is transaction and held[1].id == poll_id:
        return held[1], held[2]
    rows = uow.session.execute(_LOCK_BY_ID, {"b_poll": poll_id}).all()
    if not rows:
        raise NotFound(N_("Diese Umfrage gibt es nicht mehr. „umfragen“ zeigt alle."))
    poll, options = rows[0][0], [option for _poll, option in rows]
    uow.session.info[_LOCKED_BY_ID] = (uow.session.get_transaction(), poll, options)
    return poll, options


@dataclass(frozen=True)
class PollTarget:
    """A poll a platform event refers to (a native poll response, a reply to the post)."""

    poll_id: int
    number: int
    max_choices: int
    n_options: int


def poll_for_messages(
    uow: UnitOfWork, platform: str, message_ids: list[str], state_keys: list[str]
) -> PollTarget | None:
    """The poll remembered under one of ``state_keys`` (an adapter's own bookkeeping, e.g. a
    Matrix native poll event), else the poll posted as one of ``message_ids``."""
    poll_id: int | None = None
    for key in state_keys:
        stored = uow.state.get(key)
        if stored and stored.isdigit():
            poll_id = int(stored)
            break
    if poll_id is None and message_ids:
        subjects = uow.session.scalars(
            select(PostedMessage.subject).where(
                PostedMessage.platform == platform,
                PostedMessage.message_id.in_(message_ids),
                PostedMessage.subject.startswith("poll:", autoescape=True),
            )
        )
        for subject in subjects:
            _, _, rest = subject.partition(":")
            if rest.isdigit():
                poll_id = int(rest)
                break
    poll = uow.session.get(Poll, poll_id) if poll_id is not None else None
    if poll is None:
        return None
    n = uow.session.scalar(select(func.count(PollOption.id)).where(PollOption.poll_id == poll.id))
    return PollTarget(poll.id, poll.number, poll.max_choices, int(n or 0))


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


def ballot_of(uow: UnitOfWork, poll_id: int, person_id: int) -> PollBallot | None:
    return uow.session.scalar(
        select(PollBallot).where(PollBallot.poll_id == poll_id, PollBallot.person_id == person_id)
    )


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
    return poll_votes.cast_vote(
        uow,
        poll,
        person_id=person_id,
        positions=positions,
        mode=mode,
        now=now,
        settings=settings,
    )


def polls_of(uow: UnitOfWork, cohort_id: int) -> list[Poll]:
    return list(
        uow.session.scalars(select(Poll).where(Poll.cohort_id == cohort_id).order_by(Poll.number))
    )
