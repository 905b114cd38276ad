"""The reminder engine: APScheduler holds only what falls due soon; the table is the truth.

* Every ``refill`` seconds, and right after a commit that scheduled or moved a row (in this
  process via :func:`bot.scheduling.due.on_change`, from other instances via PostgreSQL
  ``NOTIFY``), the engine reads the pending rows due within ``window`` and keeps one
  APScheduler ``date`` job per row (job id and argument: the row id — nothing personal, nothing
  pickled). A row's job runs one batch of the :class:`~bot.scheduling.scheduler.Scheduler`
  (everything due by then, one transaction; the rows' messages are handed to the platform
  right after the commit); the refill runs all that is due and the periodic jobs
  (``Scheduler.run_due``).
* PostgreSQL with several instances: only the instance holding ``pg_try_advisory_lock`` on a
  dedicated connection schedules; the others retry every ``retry`` seconds, so when the leader
  dies (its connection closes, the lock is released) another takes over within seconds. Even
  two leaders would not double anything: rows and outbox rows are claimed by conditional UPDATEs.
* Ahead of time: the leader's ``reminder-prepare`` thread renders the ``dm``/``channel`` rows
  due within ``ahead`` (10 s) in memory (:mod:`bot.scheduling.prepare`); at the due moment
  the batch claims the rows and writes the plans of those that did not change since, so that
  only a short transaction stands between the due time and the hand-over.
* SQLite: a single instance is assumed; it is always the leader.
* Time: ``now`` comes from the injected clock; APScheduler's triggers use the wall clock. Under a
  simulated clock (console ``!clock``, tests) call ``Scheduler.run_due(now)`` directly instead:
  the same executor.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, Engine, select, text

from bot.clock import Clock
from bot.scheduling import prepare
from bot.scheduling.due import HEARTBEAT_KEY, NOTIFY_CHANNEL, on_change
from bot.scheduling.scheduler import Scheduler
from storage.models import Reminder
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
LOCK_KEY = 0x5354_4C42  # "STLB": the scheduler leader's advisory lock, per database and schema
# Advisory locks are database-wide; the second key keeps deployments in other schemas apart.
_KEYS = "CAST(:k AS integer), hashtext(current_schema())"
PREPARE_AHEAD = timedelta(seconds=10)  # render reminders this long before they fall due
PREPARE_EVERY = 0.5  # seconds between two looks ahead
PREPARE_PAUSE = 0.005  # seconds between two chunks of rendering (due work goes first)


class ReminderEngine:
    def __init__(
        self,
        *,
        engine: Engine,
        uow_factory: Callable[[], UnitOfWork],
        scheduler: Scheduler,
        clock: Clock,
        window: timedelta = timedelta(hours=1),
        refill: float = 30.0,
        retry: float = 1.0,
        ahead: timedelta = PREPARE_AHEAD,
    ) -> None:
        self._engine, self._uow_factory, self._due = engine, uow_factory, scheduler
        self._clock = clock
        self.ready = threading.Event()  # set after the first refill (start-up measurements)
        self._window, self._refill_seconds, self._retry = window, refill, retry
        workers = 2 if engine.dialect.name == "postgresql" else 1  # SQLite has one writer
        self._scheduler = BackgroundScheduler(
            timezone=UTC, executors={"default": ThreadPoolExecutor(workers)}
        )
        self._jobs: dict[int, datetime] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._leader = threading.Event()
        self._thread: threading.Thread | None = None
        self._ahead = ahead
        self._preparer: threading.Thread | None = None
        self._changes = 0
        self._remove_listener: Callable[[], None] | None = None

    @property
    def is_leader(self) -> bool:
        return self._leader.is_set()

    @property
    def scheduled(self) -> int:
        return len(self._jobs)

    def start(self) -> None:
        self._scheduler.start()
        self._remove_listener = on_change(self.refresh)
        self._thread = threading.Thread(target=self._lead, name="reminder-leader", daemon=True)
        self._thread.start()
        if self._ahead > timedelta(0):
            self._preparer = threading.Thread(
                target=self._prepare, name="reminder-prepare", daemon=True
            )
            self._preparer.start()

    def stop(self) -> None:
        self._stop.set()
        if self._remove_listener:
            self._remove_listener()
        for thread in (self._thread, self._preparer):
            if thread is not None:
                thread.join(timeout=10)
        self._scheduler.shutdown(wait=False)
        self._due.drain()  # the outcomes of the last hand-overs are written

    def refresh(self) -> None:
        """Re-read the window soon (rows changed)."""
        self._changes += 1  # (the next look ahead covers the whole span again)
        if self.is_leader and self._scheduler.running:
            self._scheduler.add_job(
                self.refill, id="refill-now", replace_existing=True, misfire_grace_time=None
            )

    # --- leadership ---------------------------------------------------------------------

    def _lead(self) -> None:
        if self._engine.dialect.name != "postgresql":
            self._become_leader()
            self._stop.wait()
            return
        lock = text(f"SELECT pg_try_advisory_lock({_KEYS})")
        while not self._stop.is_set():
            try:
                with self._engine.connect() as raw:
                    conn = raw.execution_options(isolation_level="AUTOCOMMIT")
                    if conn.scalar(lock, {"k": LOCK_KEY}):
                        self._hold(conn)
            except Exception as exc:  # the database went away: follow, and try again
                log.warning("reminder engine: leadership lost or unavailable: %s", exc)
            self._step_down()
            self._stop.wait(self._retry)

    def _hold(self, conn: Connection) -> None:
        conn.execute(text(f"LISTEN {NOTIFY_CHANNEL}"))
        driver = conn.connection.driver_connection
        self._become_leader()
        while not self._stop.is_set():
            changed = False
            for _notice in driver.notifies(timeout=self._retry):  # type: ignore[union-attr]
                changed = True
                break
            conn.execute(text("SELECT 1"))  # raises when the connection is gone
            if changed:
                self.refresh()
        conn.execute(text(f"SELECT pg_advisory_unlock({_KEYS})"), {"k": LOCK_KEY})

    def _become_leader(self) -> None:
        self._leader.set()
        log.info("reminder engine: this instance schedules")
        self._scheduler.add_job(
            self.refill,
            "interval",
            seconds=self._refill_seconds,
            id="refill",
            replace_existing=True,
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
        )

    def _step_down(self) -> None:
        if not self._leader.is_set():
            return
        self._leader.clear()
        with self._lock:
            self._jobs.clear()
        self._scheduler.remove_all_jobs()

    # --- ahead of time ---------------------------------------------------------------------

    def _prepare(self) -> None:
        """The leader renders what falls due within ``ahead`` (:mod:`bot.scheduling.prepare`),
        in small chunks with pauses, so that a row's due moment only claims and hands over.
        A pass looks only beyond what the last pass covered, unless rows changed since."""
        planned_until: datetime | None = None
        while not self._stop.wait(PREPARE_EVERY):
            if not self.is_leader:
                planned_until = None
                continue
            changes, now = self._changes, self._clock.now()
            try:
                prepare.prepare_ahead(
                    self._uow_factory,
                    now,
                    self._ahead,
                    since=planned_until,
                    pause=lambda: self._stop.wait(PREPARE_PAUSE),
                )
            except Exception:  # a plan is an optimisation: the due batch plans what is missing
                log.exception("reminder engine: preparing ahead failed")
                planned_until = None
                continue
            planned_until = now + self._ahead if changes == self._changes else None

    # --- the window ---------------------------------------------------------------------

    def refill(self) -> None:
        """Run what is due, then keep one job per row due within the window."""
        if not self.is_leader:
            return
        now = self._clock.now()
        with self._uow_factory() as uow:
            uow.state.put(HEARTBEAT_KEY, now.isoformat())
            uow.commit()
        self._fire(0)
        horizon = self._clock.now() + self._window
        with self._uow_factory() as uow:
            rows = uow.session.execute(
                select(Reminder.id, Reminder.due_at).where(
                    Reminder.status == "pending", Reminder.due_at <= horizon
                )
            ).all()
        wanted = {int(row_id): due for row_id, due in rows}
        with self._lock:
            for row_id in set(self._jobs) - set(wanted):
                self._drop(row_id)
            for row_id, due in wanted.items():
                if self._jobs.get(row_id) != due:
                    self._add(row_id, due)
        self.ready.set()

    def _add(self, row_id: int, due: datetime) -> None:
        self._jobs[row_id] = due
        self._scheduler.add_job(
            self._fire,
            "date",
            run_date=due,
            args=[row_id],
            id=f"reminder:{row_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def _drop(self, row_id: int) -> None:
        self._jobs.pop(row_id, None)
        with contextlib.suppress(JobLookupError):  # it ran already
            self._scheduler.remove_job(f"reminder:{row_id}")

    def _fire(self, row_id: int) -> None:
        """Row job (``row_id``): the rows due by now, as one batch, their messages handed over
        right after the commit; refill (0): everything due, then the periodic jobs."""
        try:
            if row_id:
                with self._lock:
                    if row_id not in self._jobs:
                        return  # a batch ran it already
                handled = self._due.run_batch(self._clock.now())
                with self._lock:
                    for other in handled:
                        if other != row_id:
                            self._drop(other)  # ran in this batch: its own job need not fire
            else:
                self._due.run_due(self._clock.now(), realtime=True)
        except Exception:
            log.exception("reminder engine: due work failed")
        if row_id:
            with self._lock:
                self._jobs.pop(row_id, None)
