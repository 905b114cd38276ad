"""The sender: delivers due outbox rows through the Messengers the adapters registered.

Two ways in: :meth:`OutboxSender.flush` (the flusher's: claim, send and record row by row,
one lane per channel) and :meth:`OutboxSender.claim_enqueued` / :meth:`deliver_claimed` (the
scheduler's: a reminder's rows are claimed in the transaction that wrote them and handed to
the platform right after its commit).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from bot.clock import Clock
from bot.messenger import Messenger
from bot.outbox import pacing, send
from bot.outbox.enqueue import NEW_ROWS
from bot.scheduling.due import record_missed
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

log = logging.getLogger("bot.outbox")

LEASE = timedelta(minutes=2)
LEFT_BEHIND = "outbox:left"  # session.info: claim_enqueued left new rows for the flusher
MAX_ATTEMPTS = send.MAX_ATTEMPTS


def resends_cut_sends(messenger: Messenger) -> bool:
    """Whether a row whose send was cut by a crash goes out again (``pending``) rather than
    becoming ``uncertain``: a deduplicating Messenger's choice unless it says otherwise with
    ``resend_after_crash`` (e-mail: False — the key is its Message-ID, but a mail the server
    took cannot be recalled, so it is reported, like a Slack post)."""
    dedupes = bool(getattr(messenger, "deduplicates", False))
    return bool(getattr(messenger, "resend_after_crash", dedupes))


def _concurrency(messenger: Messenger) -> int:
    value = getattr(messenger, "concurrent_sends", 1)
    return max(1, int(value)) if isinstance(value, int) else 1


class OutboxSender:
    """Delivers due rows for the platforms it has a Messenger for.

    Everything a retry depends on is in the table: ``not_before`` (backoff, ``Retry-After``),
    ``channel_pacing`` (about one message per second per channel on Slack and Matrix) and the
    lease of a row in ``sending``. A row whose lease ran out was perhaps delivered: it is sent
    again only by a Messenger that deduplicates (``deduplicates = True``: the row's key is
    passed as ``key=``, Matrix uses it as the transaction id) and does not say
    ``resend_after_crash = False`` (e-mail); otherwise it becomes ``uncertain`` and is listed
    in the organisers' digest (see :func:`resends_cut_sends`).
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        messengers: Mapping[str, Messenger],
        clock: Clock,
        renderers: Mapping[str, send.Renderer] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._messengers: dict[str, Messenger] = dict(messengers)
        self._renderers = dict(renderers or {})  # operation ``refresh``: rendered at send time
        self._clock = clock
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # held while flush() runs (detach waits for it)
        self._recorder = _Recorder(self._record)
        #: Called when a hand-over left rows for the flusher (the flusher sets it to its kick).
        self.wake: Callable[[], None] = lambda: None

    # --- the messenger registry: what each running adapter sends through ------------------

    def attach(self, messenger: Messenger) -> None:
        """Send the rows of ``messenger.platform`` through ``messenger`` from now on."""
        with self._lock:
            self._messengers = {**self._messengers, messenger.platform: messenger}

    def detach(self, platform: str) -> None:
        """Stop sending on ``platform`` (its adapter stops); waits for a running flush, so
        the adapter may close its connection afterwards. Its rows stay pending."""
        with self._lock:
            self._messengers = {p: m for p, m in self._messengers.items() if p != platform}
        with self._flushing:
            pass

    @property
    def platforms(self) -> list[str]:
        return sorted(self._messengers)

    def flush(self, limit: int = 500) -> int:
        """Send everything due now; returns the number of rows sent.

        Rows are grouped into one lane per channel, kept in order. A Messenger that says it
        may be called from several threads (``concurrent_sends = N``) gets up to N lanes at a
        time, so one channel's Retry-After or a slow call does not hold up the others (a DM
        fan-out is hundreds of channels), and after a 429 that reached the outbox the workers
        stop taking lanes until the next flush (a workspace limit refuses every channel);
        otherwise the lanes run one after another."""
        sent = 0
        with self._flushing:
            for platform, messenger in self._messengers.items():  # (a snapshot: see attach)
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
        dedupes = resends_cut_sends(messenger)
        with self._uow_factory() as uow:
            stale = uow.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.platform == platform,
                    OutboxMessage.status.in_(("sending", send.DISCARD)),
                    OutboxMessage.lease_until < now,
                )
            ).all()
            for row in stale:
                row.lease_until = None
                if row.status == send.DISCARD:  # no longer wanted: not resent, not reported
                    uow.session.delete(row)
                elif dedupes:
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
            if channel not in pacing.take_slots(uow, row.platform, [channel], now, pace):
                slot = pacing.next_slot(uow, row.platform, channel)
                if slot is not None and slot > now:
                    row.not_before = slot  # paced or rate limited: not before the slot
                    uow.commit()
                return None
            if not uow.outbox.claim(row_id, now + LEASE):
                uow.rollback()  # another sender has it (and gives the slot back)
                return None
            uow.session.refresh(row)
            uow.session.expunge(row)
            uow.commit()
            return row

    def claim_enqueued(self, uow: UnitOfWork, now: datetime) -> list[OutboxMessage]:
        """Inside the transaction that enqueued them: claim this session's new, due rows for
        the platforms attached (pending → sending), so :meth:`deliver_claimed` sends them
        right after the commit without another round trip.

        What is claimed is what may go out at once: every row for a Messenger that
        ``deduplicates`` (a resend after a crash is harmless), the first row of an unpaced
        channel otherwise — a crash during the hand-over must not leave more than the one row
        in flight ``uncertain`` (as with :meth:`flush`) — and the first row of a paced channel
        whose slot is free (the slots of the batch taken at once,
        :func:`bot.outbox.pacing.take_slots`). The rest stay ``pending``; :meth:`deliver_claimed`
        wakes the flusher for them (:attr:`wake`)."""
        messengers = self._messengers
        by_platform: dict[str, dict[str, list[OutboxMessage]]] = {}
        new = 0
        for obj in uow.session.info.pop(NEW_ROWS, []):
            if obj not in uow.session or obj.status != "pending":
                continue  # rolled back (e.g. in a failed handler's savepoint) or taken
            if obj.platform not in messengers or obj.not_before > now:
                continue
            lanes = by_platform.setdefault(obj.platform, {})
            lanes.setdefault(pacing.channel_of(obj), []).append(obj)
            new += 1
        claimed: list[OutboxMessage] = []
        for platform, lanes in by_platform.items():
            messenger = messengers[platform]
            pace = pacing.pace_of(platform, messenger)
            resends = resends_cut_sends(messenger)
            if not resends:
                first = next(iter(lanes))
                lanes = {first: lanes[first]}  # one row in flight at a time
            free = pacing.take_slots(uow, platform, lanes.keys(), now, pace)
            for channel, rows in lanes.items():
                if channel in free:
                    # one row unless a cut send is resent and the channel is unpaced
                    claimed.extend(rows if resends and pace <= 0 else rows[:1])
        _mark_sending(uow, claimed, now + LEASE)
        if len(claimed) < new:
            taken = set(map(id, claimed))
            uow.session.info[LEFT_BEHIND] = [
                obj
                for lanes in by_platform.values()
                for rows in lanes.values()
                for obj in rows
                if id(obj) not in taken
            ]
        return claimed

    def deliver_left(self, rows: list[OutboxMessage]) -> int:
        """The rows :meth:`claim_enqueued` left behind (after the commit): a Messenger that
        sends one thing at a time gets them now, each claimed, sent and recorded on its own
        (as the flusher would, without waiting for it); otherwise the flusher is woken and
        sends them in its lanes. Returns how many were sent here."""
        sent, wake = 0, False
        for row in rows:
            messenger = self._messengers.get(row.platform)
            if messenger is None:
                continue
            if _concurrency(messenger) > 1:
                wake = True
                continue
            sent += self._deliver(row.id, messenger)
        if wake:
            self.wake()
        return sent

    def deliver_claimed(self, rows: Iterable[OutboxMessage], *, background: bool = False) -> int:
        """Send rows claimed with :meth:`claim_enqueued` (after their commit); returns how many
        went out. The outcomes are written in one transaction — with ``background``, by the
        sender's recorder thread (several hand-overs per transaction), so the due worker is
        free for the next row at once. A row whose platform was detached meanwhile goes back
        to ``pending`` for the next flush. (A crash before the outcome is written leaves the
        row in ``sending``: its lease decides, as after a crash during a send.)"""
        outcomes: list[tuple[OutboxMessage, send.Outcome | None]] = []
        for row in rows:
            messenger = self._messengers.get(row.platform)
            outcomes.append(
                (row, send.attempt(row, messenger, self._renderers) if messenger else None)
            )
        if not outcomes:
            return 0
        if background:
            self._recorder.put(outcomes)
        else:
            self._record(outcomes)
        return sum(1 for _row, outcome in outcomes if outcome is not None and not outcome.error)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until the recorder has written every outcome handed to it (shutdown, tests)."""
        self._recorder.drain(timeout)

    def _record(self, outcomes: list[tuple[OutboxMessage, send.Outcome | None]]) -> None:
        with self._uow_factory() as uow:
            now = self._clock.now()
            for row, outcome in outcomes:
                if outcome is None:
                    send.release(uow, row)
                else:
                    send.record(uow, row, outcome, now)
            uow.commit()

    def _deliver(self, row_id: int, messenger: Messenger) -> int:
        outcome = self._send(row_id, messenger)
        return 1 if outcome is not None and outcome.error is None else 0

    def _send(self, row_id: int, messenger: Messenger) -> send.Outcome | None:
        """Claim, send and record one row; None if it was not ours to send (now)."""
        row = self._claim(row_id, messenger)
        if row is None:
            return None
        return self._finish(row, messenger)

    def _finish(self, row: OutboxMessage, messenger: Messenger) -> send.Outcome:
        # No transaction is open while the platform is called (SQLite would hold its lock).
        outcome = send.attempt(row, messenger, self._renderers)
        with self._uow_factory() as uow:
            send.record(uow, row, outcome, self._clock.now())
            uow.commit()
        return outcome


Outcomes = list[tuple[OutboxMessage, "send.Outcome | None"]]


class _Recorder:
    """A thread that writes hand-over outcomes, as many as have queued up per transaction."""

    def __init__(self, write: Callable[[Outcomes], None]) -> None:
        self._write = write
        self._queue: queue.Queue[Outcomes] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, outcomes: Outcomes) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="outbox-recorder", daemon=True
                )
                self._thread.start()
        self._queue.put(outcomes)

    def drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _loop(self) -> None:
        while True:
            batches = [self._queue.get()]
            while True:
                try:
                    batches.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write([item for batch in batches for item in batch])
            except Exception:  # the rows stay in "sending": their lease decides
                log.exception("outbox: recording %d outcomes failed", len(batches))
            finally:
                for _ in batches:
                    self._queue.task_done()


def _mark_sending(uow: UnitOfWork, rows: list[OutboxMessage], lease_until: datetime) -> None:
    """pending → sending: rows already in the database with one UPDATE (and their objects
    told so without a flush), rows still to be inserted by setting their values."""
    stored: list[OutboxMessage] = []
    for obj in rows:
        if inspect(obj).has_identity:
            stored.append(obj)
        else:
            obj.status, obj.lease_until = "sending", lease_until
    if not stored:
        return
    uow.session.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_([obj.id for obj in stored]))
        .values(status="sending", lease_until=lease_until)
    )
    for obj in stored:
        set_committed_value(obj, "status", "sending")
        set_committed_value(obj, "lease_until", lease_until)


_OUTBOX = cast(Table, OutboxMessage.__table__)
