"""Counting and showing results: the tally, and in-place updates of every posted poll message.

Updates are coalesced: while an update (or the first post) for a channel is still waiting in
the outbox, its payload is replaced by the newest rendering instead of queueing another row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update

from bot.i18n import translator
from bot.outbox import enqueue
from bot.services.cohorts import post_language
from bot.services.poll_views import Tally, poll_message
from bot.settings import Settings
from bot.views import Message
from storage.models import OutboxMessage, Person, Poll, PollOption, PostedMessage, Vote
from storage.models_polls import PollCounter
from storage.uow import UnitOfWork

NAMES_LIMIT = 50  # named polls list voters by option up to this many ballots (a cohort: 20)


def options_of(uow: UnitOfWork, poll_id: int) -> list[PollOption]:
    return list(
        uow.session.scalars(
            select(PollOption).where(PollOption.poll_id == poll_id).order_by(PollOption.position)
        )
    )


def tally(uow: UnitOfWork, poll: Poll, ballots: int | None = None) -> Tally:
    """Votes per option (one GROUP BY), the ballot count (from the counter unless given) and,
    for named polls of up to NAMES_LIMIT ballots, the voters' names."""
    counts = {
        int(position): int(n)
        for position, n in uow.session.execute(
            select(PollOption.position, func.count(Vote.id))
            .join(Vote, Vote.option_id == PollOption.id)
            .where(PollOption.poll_id == poll.id)
            .group_by(PollOption.position)
        )
    }
    if ballots is None:
        counter = uow.session.get(PollCounter, poll.id)
        ballots = counter.ballots if counter else 0
    names: dict[int, list[str]] = {}
    if not poll.anonymous and ballots <= NAMES_LIMIT:
        rows = uow.session.execute(
            select(PollOption.position, Person.display_name, Person.pseudonym)
            .join(Vote, Vote.option_id == PollOption.id)
            .join(Person, Person.id == Vote.person_id)
            .where(PollOption.poll_id == poll.id)
            .order_by(PollOption.position, Person.display_name)
        )
        for position, name, pseudonym in rows:
            names.setdefault(int(position), []).append(name or pseudonym or "?")
    return Tally(counts, ballots, names)


def version_of(uow: UnitOfWork, poll_id: int) -> int:
    counter = uow.session.get(PollCounter, poll_id)
    return counter.version if counter else 0


def results_visible(poll: Poll, counted: Tally, threshold: int) -> bool:
    """Named live polls show results at once, others after closing; anonymous ones only after
    closing and only from k ballots. An anonymous tally is never shown while votes still come
    in: two tallies one ballot apart show what that ballot was (also for anonymous polls stored
    with ``results_live`` before this rule, see docs/polls.md)."""
    if poll.closed_at is None and (poll.anonymous or not poll.results_live):
        return False
    return not (poll.anonymous and counted.ballots < threshold)


def render_for_channel(
    uow: UnitOfWork,
    poll: Poll,
    settings: Settings,
    options: list[PollOption] | None = None,
    ballots: int | None = None,
    reader_language: str | None = None,
) -> Message:
    """The poll as posted (the cohort's language), or for one reader (``reader_language``)."""
    counted = tally(uow, poll, ballots)
    language = reader_language or post_language(poll, settings.language)
    return poll_message(
        poll,
        options if options is not None else options_of(uow, poll.id),
        counted,
        visible=results_visible(poll, counted, settings.anonymity_threshold),
        threshold=settings.anonymity_threshold,
        translate=translator(language),
        tz=settings.tz,
        language=language,
    )


def _replace_pending(uow: UnitOfWork, poll_id: int, message: Message) -> set[str]:
    """Give the poll's still-pending post and update rows the newest rendering (one UPDATE);
    the keys of the rows replaced."""
    key = OutboxMessage.idempotency_key
    changed = uow.session.execute(
        update(OutboxMessage)
        .where(
            or_(
                key.startswith(f"poll:{poll_id}:post:", autoescape=True),
                key.startswith(f"poll-update:{poll_id}:", autoescape=True),
            ),
            OutboxMessage.status == "pending",
        )
        .values(payload={"message": message.to_dict()})
        .returning(key),
        execution_options={"synchronize_session": False},
    )
    return set(changed.scalars())


def push_results(
    uow: UnitOfWork,
    poll: Poll,
    now: datetime,
    settings: Settings,
    options: list[PollOption] | None = None,
    *,
    version: int | None = None,
    ballots: int | None = None,
) -> None:
    """Edit every posted copy of the poll message to the current state (coalesced: a copy
    whose post or update is still waiting in the outbox gets the new rendering instead of
    another row)."""
    message = render_for_channel(uow, poll, settings, options, ballots)
    replaced = _replace_pending(uow, poll.id, message)
    if version is None:
        version = version_of(uow, poll.id)
    for posted in uow.session.scalars(
        select(PostedMessage).where(PostedMessage.subject == f"poll:{poll.id}")
    ):
        prefix = f"poll-update:{poll.id}:{posted.platform}:{posted.channel_id}:"
        if any(k.startswith(prefix) for k in replaced):
            continue
        enqueue(
            uow,
            key=f"{prefix}{version}{':closed' if poll.closed_at else ''}",
            platform=posted.platform,
            operation="update",
            target={"channel_id": posted.channel_id, "message_id": posted.message_id},
            now=now,
            message=message,
        )
