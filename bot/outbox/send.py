"""One send of one outbox row through a Messenger, and writing its outcome to the row.

A platform's rate limit (:class:`bot.outbox.pacing.RateLimited`, or a ``SlackApiError`` with
status 429) is not a failure: the row goes back to ``pending`` with ``not_before`` at the
platform's ``Retry-After`` and the channel is held as long (:func:`record`). A
:class:`bot.delivery_errors.PermanentDeliveryError` (an SMTP 5xx, a mail over 1 MB) marks the
row ``failed`` at once and puts it into the organisers' digest; any other error is retried with
back-off until ``MAX_ATTEMPTS``."""

from __future__ import annotations

import base64
import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, update

from bot.delivery_errors import PermanentDeliveryError
from bot.identity import Identity
from bot.messenger import MessageRef, Messenger, can_open_groups
from bot.outbox import pacing
from bot.scheduling.due import record_missed
from bot.views import Message
from storage.models import OUTBOX_DISCARD, OutboxMessage, PostedMessage
from storage.models_networking import Introduction
from storage.uow import UnitOfWork

log = logging.getLogger("bot.outbox")
MAX_ATTEMPTS = 6
FAILED_SOURCE = "outbox-failed"  # digest entries of rows refused for good (an SMTP 5xx)
# A ``refresh`` row is rendered when it is sent, from the database (``payload["render"]``
# names the renderer, e.g. the live poll result): coalesced edits, nothing rendered on enqueue.
GROUP = "group"  # open a conversation with target["identities"] (bot.messenger.GroupMessenger)
Renderer = Callable[[OutboxMessage, Messenger], MessageRef | None]


@dataclass(frozen=True)
class Outcome:
    ref: MessageRef | None = None
    error: str | None = None
    wait: float | None = None  # the platform's Retry-After, if it rate-limited us
    permanent: bool = False  # retrying cannot help (PermanentDeliveryError): failed at once


def attempt(
    row: OutboxMessage, messenger: Messenger, renderers: Mapping[str, Renderer] | None = None
) -> Outcome:
    """Call the platform (no transaction may be open: SQLite would hold its lock)."""
    try:
        return Outcome(ref=send(row, messenger, renderers))
    except PermanentDeliveryError as exc:  # e.g. SMTP 550: no retry, the digest names it
        log.warning("outbox row %s failed for good: %s", row.id, exc)
        return Outcome(error=str(exc)[:2000] or type(exc).__name__, permanent=True)
    except Exception as exc:  # the platform refused or failed: retry later
        wait = pacing.retry_after(exc)
        if wait is None:
            log.warning("outbox row %s failed: %s", row.id, exc)
        else:  # not a failure: the row waits as the platform asks
            log.info("outbox row %s rate limited: again in %.1f s", row.id, wait)
        error = str(exc)[:2000] or type(exc).__name__
        return Outcome(error=error, wait=wait)


_OUTBOX = cast(Table, OutboxMessage.__table__)
DISCARD = OUTBOX_DISCARD  # see storage.models
_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"), _OUTBOX.c.status != DISCARD)
    .values(
        status="sent",
        lease_until=None,
        sent_at=bindparam("b_now", type_=_OUTBOX.c.sent_at.type),
    )
)
_SENT_WITH_RESULT = _SENT.values(result=bindparam("b_result", type_=_OUTBOX.c.result.type))
_DISCARDED = delete(_OUTBOX).where(_OUTBOX.c.id == bindparam("b_id"), _OUTBOX.c.status == DISCARD)


def record(uow: UnitOfWork, row: OutboxMessage, outcome: Outcome, now: datetime) -> None:
    quiet = not row.target.get("subject") and row.operation != GROUP
    if outcome.wait is None and outcome.error is None and quiet:
        # The common case in one statement (no load): sent, nothing to remember.
        values: dict[str, Any] = {"b_id": row.id, "b_now": now}
        ref = outcome.ref
        if ref is not None:
            values["b_result"] = {"channel_id": ref.channel_id, "message_id": ref.message_id}
        done = uow.session.execute(_SENT if ref is None else _SENT_WITH_RESULT, values)
        if getattr(done, "rowcount", 1) == 0:
            uow.session.execute(_DISCARDED, {"b_id": row.id})
        return
    stored = uow.session.get(OutboxMessage, row.id)
    if stored is None:
        return
    if stored.status == DISCARD:
        uow.session.delete(stored)
        return
    stored.lease_until = None
    if outcome.wait is not None:  # rate limited: not a failure, wait as the platform asks
        stored.status, stored.error = "pending", outcome.error
        stored.not_before = now + timedelta(seconds=outcome.wait)
        pacing.hold_channel(uow, row.platform, pacing.channel_of(row), now, outcome.wait)
    elif outcome.permanent:
        stored.attempts += 1
        stored.error, stored.status = outcome.error, "failed"
        record_missed(uow, FAILED_SOURCE, row.id, now)  # the organisers' digest names it
    elif outcome.error is not None:
        stored.attempts += 1
        stored.error = outcome.error
        stored.status = "failed" if stored.attempts >= MAX_ATTEMPTS else "pending"
        stored.not_before = now + timedelta(seconds=2**stored.attempts)
    else:
        stored.status, stored.sent_at = "sent", now
        ref = outcome.ref
        if ref is not None:
            stored.result = {"channel_id": ref.channel_id, "message_id": ref.message_id}
            subject = stored.target.get("subject")
            if subject:
                _remember(uow, subject, ref)
            if stored.operation == GROUP and stored.target.get("introduction_id"):
                _opened(uow, int(stored.target["introduction_id"]), ref)


def release(uow: UnitOfWork, row: OutboxMessage) -> None:
    """A claimed row that was not sent (its platform stopped): ``pending`` again."""
    uow.session.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id == row.id, _OUTBOX.c.status == "sending")
        .values(status="pending", lease_until=None)
    )
    uow.session.execute(_DISCARDED, {"b_id": row.id})


_rendered: weakref.WeakKeyDictionary[OutboxMessage, Message] = weakref.WeakKeyDictionary()
_rendered_lock = threading.Lock()


def keep_rendered(row: OutboxMessage, message: Message) -> None:
    """``row``'s payload is ``message`` (just rendered): :func:`send` may use it as it is."""
    with _rendered_lock:
        _rendered[row] = message


def _message(row: OutboxMessage) -> Message | None:
    with _rendered_lock:
        rendered = _rendered.pop(row, None)
    if rendered is not None:
        return rendered
    return Message.from_dict(row.payload["message"]) if row.payload.get("message") else None


def send(
    row: OutboxMessage, messenger: Messenger, renderers: Mapping[str, Renderer] | None = None
) -> MessageRef | None:
    if row.operation == "refresh":
        return (renderers or {})[row.payload["render"]](row, messenger)
    message = _message(row)
    target = row.target
    keyed: Any = messenger  # a deduplicating Messenger takes the row key as transaction id
    key = {"key": row.idempotency_key} if getattr(messenger, "deduplicates", False) else {}
    if row.operation == "post":
        assert message is not None
        thread = _thread_ref(row.platform, target)
        return cast(MessageRef, keyed.post(target["channel_id"], message, thread, **key))
    if row.operation == "dm":
        assert message is not None
        return cast(MessageRef, keyed.send_dm(Identity.parse(target["identity"]), message, **key))
    if row.operation == GROUP:
        assert message is not None
        if not can_open_groups(messenger):
            raise PermanentDeliveryError(f"{row.platform} cannot open a group conversation")
        users = [Identity.parse(i) for i in target["identities"]]
        return cast(MessageRef, keyed.open_group(users, message, row.idempotency_key))
    if row.operation == "file":
        content = base64.b64decode(row.payload["content_b64"])
        # a Messenger with ``keyed_files`` (e-mail: the Message-ID) takes the row key for files too
        file_key = {"key": row.idempotency_key} if getattr(messenger, "keyed_files", False) else {}
        return cast(
            MessageRef,
            keyed.send_file(
                Identity.parse(target["identity"]),
                row.payload["filename"],
                content,
                message,
                **file_key,
            ),
        )
    ref = MessageRef(row.platform, target["channel_id"], target["message_id"])
    if row.operation == "update":
        assert message is not None
        messenger.update(ref, message)
    elif row.operation == "delete":
        messenger.delete(ref)
    else:
        raise ValueError(f"unknown outbox operation {row.operation}")
    return ref


def _thread_ref(platform: str, target: dict[str, Any]) -> MessageRef | None:
    if not target.get("thread_id"):
        return None
    return MessageRef(platform, target["channel_id"], target["thread_id"])


def _opened(uow: UnitOfWork, introduction_id: int, ref: MessageRef) -> None:
    """Where the introduction's conversation lives (gone if a person was erased meanwhile)."""
    uow.session.execute(
        update(Introduction)
        .where(Introduction.id == introduction_id)
        .values(conversation_platform=ref.platform, conversation_id=ref.channel_id)
    )


def _remember(uow: UnitOfWork, subject: str, ref: MessageRef) -> None:
    uow.session.add(
        PostedMessage(
            subject=subject,
            platform=ref.platform,
            channel_id=ref.channel_id,
            message_id=ref.message_id,
            thread_id=ref.thread_id,
        )
    )
