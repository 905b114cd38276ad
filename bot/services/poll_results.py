"""Counting and showing results: the tally, and in-place updates of every posted poll message.

Two ways to edit the posted poll:

- :func:`request_refresh` (a vote): no rendering in the request. One pending ``refresh`` row
  per poll and channel is kept in the outbox (a vote finding one pending adds nothing); when
  the outbox sends it, :class:`PollRefresher` reads the poll and edits the posted message to
  the state *at that moment*. N clicks between two sends make one edit.
- :func:`push_results` (closing a poll): rendered now; a copy whose post or update is still
  waiting in the outbox gets the new rendering instead of another row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update

from bot.i18n import translator
from bot.messenger import MessageRef, Messenger
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


# -- refresh at send time (the vote click's path) -------------------------------------------
REFRESH = "refresh"  # the outbox operation
RENDERER = "poll"  # payload["render"]: which renderer the outbox calls for the row


def refresh_prefix(poll_id: int) -> str:
    return f"poll-refresh:{poll_id}:"


def _post_prefix(poll_id: int) -> str:
    return f"poll:{poll_id}:post:"


_OUTBOX = cast(Table, OutboxMessage.__table__)
_POSTED = cast(Table, PostedMessage.__table__)
# Built once, run with bind parameters. The UPDATE locks the poll's pending refresh rows (and
# pending first posts) on PostgreSQL: a sender claiming one of them waits for this vote's
# commit, so what it renders includes the vote; one it claimed already is not pending here,
# and the vote adds a new row.
_TOUCH_PENDING = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.status == "pending",
        or_(
            _OUTBOX.c.idempotency_key.like(bindparam("b_refresh"), escape="/"),
            _OUTBOX.c.idempotency_key.like(bindparam("b_post"), escape="/"),
        ),
    )
    .values(attempts=_OUTBOX.c.attempts)
    .returning(_OUTBOX.c.idempotency_key)
)
_POSTED_CHANNELS = select(_POSTED.c.platform, _POSTED.c.channel_id).where(
    _POSTED.c.subject == bindparam("b_subject")
)
_ADD_REFRESH = insert(_OUTBOX)


def _like(prefix: str) -> str:
    return prefix.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _channel_of_key(key: str, prefix: str) -> tuple[str, str]:
    """``<prefix><platform>:<channel>[:<n>]`` → (platform, channel); Matrix room ids contain
    a colon too, so only the counter after the last one is cut for refresh keys."""
    platform, _, channel = key[len(prefix) :].partition(":")
    return platform, channel


def request_refresh(uow: UnitOfWork, poll_id: int, version: int, now: datetime) -> int:
    """Ask the outbox to bring every posted copy of the poll up to date (see module doc);
    two statements when a refresh is already pending, three otherwise. Returns rows added."""
    s = uow.session.connection()
    refresh, post = refresh_prefix(poll_id), _post_prefix(poll_id)
    touched = s.execute(_TOUCH_PENDING, {"b_refresh": _like(refresh), "b_post": _like(post)})
    covered: set[tuple[str, str]] = set()
    channels: set[tuple[str, str]] = set()
    for (key,) in touched:
        if key.startswith(refresh):
            platform, rest = _channel_of_key(key, refresh)
            covered.add((platform, rest.rsplit(":", 1)[0]))
        else:  # the first post is still waiting: refresh right after it
            channels.add(_channel_of_key(key, post))
    for platform, channel in s.execute(_POSTED_CHANNELS, {"b_subject": f"poll:{poll_id}"}):
        channels.add((platform, channel))
    rows = [
        {
            "idempotency_key": f"{refresh}{platform}:{channel}:{version}",
            "platform": platform,
            "operation": REFRESH,
            "target": {"channel_id": channel, "poll_id": poll_id},
            "payload": {"message": None, "render": RENDERER},
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for platform, channel in sorted(channels - covered)
    ]
    if rows:
        s.execute(_ADD_REFRESH, rows)
    return len(rows)


class PostNotYetSent(RuntimeError):
    """The poll's first post to the channel is still waiting: the refresh is tried later."""


class PollRefresher:
    """The outbox's renderer for ``refresh`` rows: the poll as it is now, as an edit of the
    posted message. The database is read in its own short transaction, closed before the
    platform is called."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], settings: Settings) -> None:
        self._uow_factory = uow_factory
        self._settings = settings

    def __call__(self, row: Any, messenger: Messenger) -> MessageRef | None:
        poll_id = int(row.target["poll_id"])
        channel = str(row.target["channel_id"])
        with self._uow_factory() as uow:
            poll = uow.session.get(Poll, poll_id)
            if poll is None:
                return None  # the poll was deleted (an erased cohort): nothing to edit
            posted = uow.session.scalar(
                select(PostedMessage).where(
                    PostedMessage.subject == f"poll:{poll_id}",
                    PostedMessage.platform == row.platform,
                    PostedMessage.channel_id == channel,
                )
            )
            if posted is None:
                waiting = uow.session.scalar(
                    select(OutboxMessage.id).where(
                        OutboxMessage.idempotency_key
                        == f"{_post_prefix(poll_id)}{row.platform}:{channel}",
                        OutboxMessage.status.in_(("pending", "sending")),
                    )
                )
                if waiting is not None:
                    raise PostNotYetSent(f"poll {poll_id}: post to {channel} not sent yet")
                return None  # never posted there (the post failed for good)
            ref = MessageRef(posted.platform, posted.channel_id, posted.message_id)
            message = render_for_channel(uow, poll, self._settings)
        messenger.update(ref, message)
        return ref
