"""Reminders rendered ahead of their due time, so that the due moment only claims and hands over.

A :class:`Plan` is what :func:`bot.scheduling.service.deliver_dm` / ``deliver_channel`` would
enqueue for one row — recipients resolved, texts rendered, keys made — computed from a batch of
rows with a handful of queries (:func:`plan_rows`) instead of several per row. The rendering
is the handlers' own (:func:`bot.scheduling.service.dm_outgoing` / ``channel_outgoing``);
only the loading of recipients and channels is done for the batch at once. Plans live in
memory only (nothing is written before the due time): the engine's leader prepares the rows due
within the next seconds (:func:`prepare_ahead`), and the batch that claims a row uses its plan
only if the claimed row still matches the snapshot the plan was made from (a row deleted or
moved in between is not claimed or is planned again). A kill -9 loses only plans; the rows
stay pending. Only the kinds ``dm`` and ``channel`` are planned: their recipients do not depend
on state that changes at the due time; every other kind runs its handler at the due time.
What a plan may miss: a change to the person's identities, route, language or delegates within the
last ``ahead`` seconds before the due time.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from bot.identity import Identity
from bot.notifications import EMAIL, pick_routes
from bot.outbox.enqueue import Outgoing
from bot.scheduling import service
from bot.scheduling.due import DueHandlers
from bot.settings import Settings
from storage.models import (
    ChannelBinding,
    Cohort,
    Participant,
    Person,
    PlatformIdentity,
    Reminder,
)
from storage.uow import UnitOfWork

#: The columns a plan depends on (claimed with RETURNING, compared with the plan's snapshot).
COLUMNS = (
    Reminder.id,
    Reminder.due_at,
    Reminder.kind,
    Reminder.person_id,
    Reminder.cohort_id,
    Reminder.text,
    Reminder.recurrence,
    Reminder.target,
)
STALE = timedelta(minutes=2)


@dataclass(frozen=True)
class Snapshot:
    id: int
    due_at: datetime
    kind: str
    person_id: int | None
    cohort_id: int | None
    text: str | None
    recurrence: str | None
    target: str  # JSON, keys sorted

    @classmethod
    def of(cls, row: Row[Any]) -> Snapshot:
        values: tuple[Any, ...] = tuple(row)
        rid, due, kind, person, cohort, text, recurrence, target = values
        dumped = json.dumps(target or {}, sort_keys=True)
        return cls(rid, due, kind, person, cohort, text, recurrence, dumped)


@dataclass(frozen=True)
class Plan:
    row: Snapshot
    outgoing: tuple[Outgoing, ...]
    last_for: int | None  # the person whose "last reminder" becomes this row (DMs)


class Prepared:
    """The plans of one database (one ``uow_factory``), by row id."""

    def __init__(self, handlers: DueHandlers, settings: Settings) -> None:
        self.handlers, self.settings = handlers, settings
        self._plans: dict[int, Plan] = {}
        self._lock = threading.Lock()

    def plannable(self, kind: str) -> bool:
        handler = self.handlers.get(kind)
        return (kind == service.KIND_DM and handler is service.deliver_dm) or (
            kind == service.KIND_CHANNEL and handler is service.deliver_channel
        )

    def take(self, row: Snapshot) -> Plan | None:
        with self._lock:
            plan = self._plans.pop(row.id, None)
        return plan if plan is not None and plan.row == row else None

    def has(self, row: Snapshot) -> bool:
        with self._lock:
            plan = self._plans.get(row.id)
        return plan is not None and plan.row == row

    def put(self, plans: Iterable[Plan], now: datetime) -> None:
        with self._lock:
            for plan in plans:
                self._plans[plan.row.id] = plan
            for rid in [k for k, p in self._plans.items() if p.row.due_at < now - STALE]:
                del self._plans[rid]

    def __len__(self) -> int:
        return len(self._plans)


_registry: weakref.WeakKeyDictionary[Callable[[], UnitOfWork], Prepared] = (
    weakref.WeakKeyDictionary()
)


def register(
    uow_factory: Callable[[], UnitOfWork], handlers: DueHandlers, settings: Settings
) -> Prepared:
    """The plans for ``uow_factory`` (created on the first due batch, which knows the handlers
    and settings; the engine's prepare thread finds them here)."""
    found = _registry.get(uow_factory)
    if found is None or found.handlers is not handlers or found.settings is not settings:
        found = Prepared(handlers, settings)
        _registry[uow_factory] = found
    return found


def registered(uow_factory: Callable[[], UnitOfWork]) -> Prepared | None:
    return _registry.get(uow_factory)


def prepare_ahead(
    uow_factory: Callable[[], UnitOfWork],
    now: datetime,
    ahead: timedelta,
    *,
    since: datetime | None = None,
    chunk: int = 10,
    pause: Callable[[], object] = lambda: None,
) -> int:
    """Plan the pending rows due within ``ahead`` (and after ``since``, what an earlier pass
    covered) that have no current plan; returns how many. Works in chunks of ``chunk`` rows
    with ``pause()`` in between (due work goes first)."""
    prepared = _registry.get(uow_factory)
    if prepared is None:
        return 0
    with uow_factory() as uow:
        rows = [
            Snapshot.of(r)
            for r in uow.session.execute(
                select(*COLUMNS)
                .where(
                    Reminder.status == "pending",
                    Reminder.due_at > (now if since is None else max(now, since)),
                    Reminder.due_at <= now + ahead,
                    Reminder.kind.in_(service.KINDS),
                )
                .order_by(Reminder.due_at, Reminder.id)
            )
        ]
    todo = [r for r in rows if prepared.plannable(r.kind) and not prepared.has(r)]
    done = 0
    for start in range(0, len(todo), chunk):
        with uow_factory() as uow:
            plans = plan_rows(uow.session, prepared.settings, todo[start : start + chunk])
        prepared.put(plans.values(), now)
        done += len(plans)
        pause()
    return done


def plan_rows(session: Session, settings: Settings, rows: Sequence[Snapshot]) -> dict[int, Plan]:
    """Plans for the ``dm``/``channel`` rows among ``rows`` (others, and DMs to a person who is
    gone, get none: their handler decides). A few queries for the whole batch."""
    dm_people = {r.person_id for r in rows if r.kind == service.KIND_DM and r.person_id}
    delegates: dict[int, set[int]] = {}
    if dm_people:
        for person_id, delegate_id in session.execute(
            select(Participant.person_id, Participant.delegate_person_id).where(
                Participant.person_id.in_(dm_people), Participant.delegate_person_id.is_not(None)
            )
        ):
            if delegate_id is not None and delegate_id != person_id:
                delegates.setdefault(person_id, set()).add(delegate_id)
    everyone = dm_people.union(*delegates.values())
    persons: dict[int, tuple[str | None, str | None, str | None, str | None]] = {}
    chat: dict[int, Identity] = {}
    if everyone:
        for pid, name, language, choice, email in session.execute(
            select(
                Person.id, Person.display_name, Person.language, Person.notify_via, Person.email
            ).where(Person.id.in_(everyone), Person.erased_at.is_(None))
        ):
            persons[pid] = (name, language, choice, email)
        ident = PlatformIdentity
        for pid, platform, external_id in session.execute(
            select(ident.person_id, ident.platform, ident.external_id)
            .where(PlatformIdentity.person_id.in_(everyone), PlatformIdentity.platform != EMAIL)
            .order_by(
                PlatformIdentity.person_id,
                PlatformIdentity.last_seen_at.desc().nulls_last(),
                PlatformIdentity.id,
            )
        ):
            chat.setdefault(pid, Identity(platform, external_id))
    cohorts = {r.cohort_id for r in rows if r.kind == service.KIND_CHANNEL and r.cohort_id}
    bindings: dict[int, list[tuple[str, str]]] = {}
    if cohorts:
        for cohort_id, platform, channel_id in session.execute(
            select(ChannelBinding.cohort_id, ChannelBinding.platform, ChannelBinding.channel_id)
            .where(ChannelBinding.cohort_id.in_(cohorts))
            .order_by(ChannelBinding.id)
        ):
            bindings.setdefault(cohort_id, []).append((platform, channel_id))
    post_languages: dict[int, str] = {}
    if cohorts:
        for cohort_id, language in session.execute(
            select(Cohort.id, Cohort.language).where(Cohort.id.in_(cohorts))
        ):
            post_languages[cohort_id] = language or settings.language
    recipients = {
        pid: service.Recipient(
            pid,
            name,
            language,
            tuple((i.platform, i.external_id) for i in pick_routes(choice, chat.get(pid), email)),
        )
        for pid, (name, language, choice, email) in persons.items()
    }
    plans: dict[int, Plan] = {}
    for row in rows:
        key = service.occurrence_key(row.id, row.due_at)
        text = row.text or ""
        if row.kind == service.KIND_CHANNEL and row.cohort_id:
            language = post_languages.get(row.cohort_id, settings.language)
            channels = bindings.get(row.cohort_id, [])
            out = service.channel_outgoing(key, text, language, channels)
            plans[row.id] = Plan(row, out, None)
        elif row.kind == service.KIND_DM and row.person_id in recipients:
            pid = row.person_id
            copies = [recipients[d] for d in delegates.get(pid, ()) if d in recipients]
            out = service.dm_outgoing(key, text, recipients[pid], copies, settings.language)
            plans[row.id] = Plan(row, out, pid)
    return plans
