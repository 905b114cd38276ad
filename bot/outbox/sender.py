"""The outbox: every message that is not a direct answer is a row first, then sent.

Services enqueue rows inside their own transaction (so a committed change always has its
messages, and a rolled-back one has none). A sender claims a row (pending → sending, one
conditional UPDATE), sends it through the platform's Messenger and marks it sent.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from bot.clock import Clock
from bot.messenger import Messenger
from bot.scheduling.due import record_missed
from bot.scheduling import delivery, pacing
from bot.outbox.pacing import RateLimited
from bot.views import Message
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

__all__ = ["OutboxSender", "RateLimited", "dm_person", "enqueue", "post_to_cohort"]

LEASE = timedelta(minutes=2)
NEW_ROWS = "outbox:new"  # session.info: rows enqueued in the open transaction
MAX_ATTEMPTS = delivery.MAX_ATTEMPTS


def _concurrency(messenger: Messenger) -> int:
    value = getattr(messenger, "concurrent_sends", 1)
    return max(1, int(value)) if isinstance(value, int) else 1


def enqueue(
    uow: UnitOfWork,
    *,
    key: str,
    platform: str,
    operation: str,
    target: dict[str, Any],
    now: datetime,
    message: Message | None = None,
    file: tuple[str, bytes] | None = None,
) -> bool:
    """Add one outgoing message unless a row with ``key`` exists (idempotent). True if added."""
    if uow.outbox.get_by_key(key) is not None:
        return False
    payload: dict[str, Any] = {"message": message.to_dict() if message else None}
    if file is not None:
        payload["filename"] = file[0]
        payload["content_b64"] = base64.b64encode(file[1]).decode("ascii")
    row = OutboxMessage(
        idempotency_key=key,
        platform=platform,
        operation=operation,
        target=target,
        payload=payload,
        status="pending",
        attempts=0,
        not_before=now,
        created_at=now,
    )
    uow.outbox.add(row)
    uow.session.info.setdefault(NEW_ROWS, []).append(row)  # for claim_enqueued
    return True


def post_to_cohort(
    uow: UnitOfWork,
    cohort_id: int,
    message: Message,
    key: str,
    now: datetime,
    subject: str | None = None,
) -> int:
    """Post to every channel bound to the cohort; returns how many rows were added."""
    added = 0
    for binding in uow.cohorts.bindings_of(cohort_id):
        target = {"channel_id": binding.channel_id, "subject": subject}
        added += enqueue(
            uow,
            key=f"{key}:{binding.platform}:{binding.channel_id}",
            platform=binding.platform,
            operation="post",
            target=target,
            message=message,
            now=now,
        )
    return added


def dm_person(
    uow: UnitOfWork,
    person_id: int,
    message: Message,
    key: str,
    now: datetime,
    file: tuple[str, bytes] | None = None,
) -> bool:
    """A DM to the person on the platform where they were seen last."""
    identities = uow.persons.identities_of(person_id)
    if not identities:
        return False
    ident = identities[0]
    return enqueue(
        uow,
        key=key,
        platform=ident.platform,
        operation="file" if file else "dm",
        target={"identity": f"{ident.platform}:{ident.external_id}"},
        message=message,
        now=now,
        file=file,
    )


def delete_by_key_prefix(uow: UnitOfWork, prefix: str) -> None:
    """Delete the rows whose key starts with ``prefix``, except one being sent right now: for
    per-person rows that must not outlive what they were about (an anonymous round)."""
    uow.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.idempotency_key.startswith(prefix, autoescape=True),
            OutboxMessage.status != "sending",
        )
    )


class OutboxSender:
    """Delivers due rows for the platforms it has a Messenger for.

    Everything a retry depends on is in the table: ``not_before`` (backoff, ``Retry-After``),
    ``channel_pacing`` (about one message per second per channel on Slack and Matrix) and the
    lease of a row in ``sending``. A row whose lease ran out was perhaps delivered: it is sent
    again only by a Messenger that deduplicates (``deduplicates = True``: the row's key is
    passed as ``key=``, Matrix uses it as the transaction id); otherwise it becomes
    ``uncertain`` and is listed in the organisers' digest.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        messengers: Mapping[str, Messenger],
        clock: Clock,
    ) -> None:
        self._uow_factory = uow_factory
        self._messengers = messengers
        self._clock = clock

    def flush(self, limit: int = 500) -> int:
        """Send everything due now; returns the number of rows sent.

        Rows are grouped into one lane per channel, kept in order. A Messenger that says it
        may be called from several threads (``concurrent_sends = N``) gets up to N lanes at a
        time, so one channel's Retry-After or a slow call does not hold up the others (a DM
        fan-out is hundreds of channels), and after a 429 that reached the outbox the workers
        stop taking lanes until the next flush (a workspace limit refuses every channel);
        otherwise the lanes run one after another."""
        sent = 0
        for platform, messenger in self._messengers.items():
            self._recover(platform, messenger)
            lanes: dict[str, list[int]] = {}
            with self._uow_factory() as uow:
                for row in uow.outbox.due(platform, self._clock.now(), limit):
                    lanes.setdefault(pacing.channel_of(row), []).append(row.id)
            sent += self._run_lanes(list(lanes.values()), messenger)
        return sent

    def _run_lanes(self, lanes: list[list[int]], messenger: Messenger) -> int:
        workers = min(_concurrency(messenger), len(lanes))
        if workers <= 1:
            return sum(self._deliver(row_id, messenger) for lane in lanes for row_id in lane)
        pending = iter(lanes)
        lock = threading.Lock()
        sent = [0] * workers
        limited = threading.Event()  # the platform answered 429: leave the rest for later

        def work(slot: int) -> None:
            while not limited.is_set():
                with lock:
                    lane = next(pending, None)
                if lane is None:
                    return
                for row_id in lane:
                    try:
                        outcome = self._send(row_id, messenger)
                    except Exception:  # the row stays claimed; its lease decides (see _recover)
                        log.exception("outbox row %s: delivery crashed", row_id)
                        continue
                    if outcome is not None and outcome.wait is not None:
                        limited.set()
                        break
                    if outcome is not None and outcome.error is None:
                        sent[slot] += 1

        threads = [
            threading.Thread(target=work, args=(i,), name=f"outbox-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(sent)

    def _recover(self, platform: str, messenger: Messenger) -> None:
        """Rows left in ``sending`` by a crashed sender: resend if deduplicated, else report."""
        now = self._clock.now()
        dedupes = bool(getattr(messenger, "deduplicates", False))
        with self._uow_factory() as uow:
            stale = uow.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.platform == platform,
                    OutboxMessage.status == "sending",
                    OutboxMessage.lease_until < now,
                )
            ).all()
            for row in stale:
                row.lease_until = None
                if dedupes:
                    row.status = "pending"
                else:
                    row.status = "uncertain"
                    row.error = "lease expired while sending: delivery unknown"
                    record_missed(uow, "outbox", row.id, now)
            if stale:
                uow.commit()

    def _claim(self, row_id: int, messenger: Messenger) -> OutboxMessage | None:
        now = self._clock.now()
        with self._uow_factory() as uow:
            row = uow.session.get(OutboxMessage, row_id)
            if row is None or row.status != "pending":
                return None
            pace = pacing.pace_of(row.platform, messenger)
            channel = pacing.channel_of(row)
            slot = pacing.next_slot(uow, row.platform, channel)
            if slot is not None and slot > now:
                row.not_before = slot  # paced or rate limited: not before the channel's slot
                uow.commit()
                return None
            if not uow.outbox.claim(row_id, now + LEASE):
                return None
            if pace > 0 and not pacing.take_slot(
                uow, row.platform, channel, now + timedelta(seconds=pace)
            ):
                uow.rollback()
                return None
            uow.session.refresh(row)
            uow.session.expunge(row)
            uow.commit()
            return row

    def claim_enqueued(self, uow: UnitOfWork, now: datetime) -> list[OutboxMessage]:
        """Inside the transaction that enqueued them: claim this session's new, due rows for
        our platforms (pending → sending), so :meth:`deliver_claimed` sends them right after
        the commit without another round trip. Paced channels are left to :meth:`flush`."""
        claimed: list[OutboxMessage] = []
        for obj in uow.session.info.pop(NEW_ROWS, []):
            if obj not in uow.session or obj.status != "pending":
                continue  # rolled back (e.g. in a failed handler's savepoint) or taken
            messenger = self._messengers.get(obj.platform)
            if messenger is None or obj.not_before > now:
                continue
            channel = pacing.channel_of(obj)
            slot = pacing.next_slot(uow, obj.platform, channel)
            if slot is not None and slot > now:
                continue
            pace = pacing.pace_of(obj.platform, messenger)
            if pace > 0:
                pacing.take_slot(uow, obj.platform, channel, now + timedelta(seconds=pace))
            obj.status, obj.lease_until = "sending", now + LEASE
            claimed.append(obj)
        return claimed

    def deliver_claimed(self, rows: list[OutboxMessage]) -> int:
        """Send rows claimed with :meth:`claim_enqueued` (after their commit); the results
        are written in one transaction."""
        outcomes = [(row, delivery.attempt(row, self._messengers[row.platform])) for row in rows]
        if not outcomes:
            return 0
        with self._uow_factory() as uow:
            now = self._clock.now()
            for row, outcome in outcomes:
                delivery.record(uow, row, outcome, now)
            uow.commit()
        return sum(1 for _row, outcome in outcomes if outcome.error is None)

    def _deliver(self, row_id: int, messenger: Messenger) -> int:
        outcome = self._send(row_id, messenger)
        return 1 if outcome is not None and outcome.error is None else 0

    def _send(self, row_id: int, messenger: Messenger) -> delivery.Outcome | None:
        """Claim, send and record one row; None if it was not ours to send (now)."""
        row = self._claim(row_id, messenger)
        if row is None:
            return None
        return self._finish(row, messenger)

    def _finish(self, row: OutboxMessage, messenger: Messenger) -> delivery.Outcome:
        # No transaction is open while the platform is called (SQLite would hold its lock).
        outcome = delivery.attempt(row, messenger)
        with self._uow_factory() as uow:
            delivery.record(uow, row, outcome, self._clock.now())
            uow.commit()
        return outcome
