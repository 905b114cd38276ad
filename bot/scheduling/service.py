"""Reminders people ask for: by DM to themselves, in the cohort's rooms, once or recurring.

Rows live in ``reminders`` (kinds ``dm`` and ``channel``); delivery runs as due work and
enqueues outbox rows in the same transaction. A one-off row becomes ``done``; a recurring one
moves to its next occurrence. Work later than the grace period is not sent but reported to the
organisers in one digest (:func:`bot.scheduling.due.record_missed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.actions import CommandAction
from bot.errors import NotFound, UserFacingError
from bot.i18n import N_, format_when, translator
from bot.notifications import EMAIL, routes
from bot.outbox.enqueue import MAIL_KEY_SUFFIX, Outgoing, add, cohort_channels
from bot.scheduling.due import DueContext, record_missed, schedule
from bot.scheduling.recurrence import next_occurrence
from bot.services.cohorts import post_language
from bot.views import Actions, Button, Message, Note, Section
from storage.models import KeyValue, Person, Reminder
from storage.uow import UnitOfWork

KIND_DM = "dm"
KIND_CHANNEL = "channel"
KINDS = (KIND_DM, KIND_CHANNEL)
LAST_KEY = "reminders:last:{person_id}"
LATE_AFTER = timedelta(minutes=1)
MAX_TEXT = 1000


def create(
    uow: UnitOfWork,
    *,
    person_id: int,
    kind: str,
    due_at: datetime,
    text: str,
    now: datetime,
    cohort_id: int | None = None,
    recurrence: str | None = None,
) -> Reminder:
    text = text.strip()
    if not text:
        raise UserFacingError(
            N_("Woran soll ich erinnern? Beispiel: „erinnern morgen 9 Uhr; Bericht schicken“.")
        )
    if len(text) > MAX_TEXT:
        raise UserFacingError(
            N_("Der Erinnerungstext ist zu lang (höchstens {limit} Zeichen)."), limit=MAX_TEXT
        )
    return schedule(
        uow,
        key=f"erinnern:{uuid4().hex}",
        due_at=due_at,
        kind=kind,
        now=now,
        cohort_id=cohort_id,
        person_id=person_id,
        text=text,
        recurrence=recurrence,
    )


def pending_for(
    uow: UnitOfWork, person_id: int, cohort_id: int | None, organiser: bool
) -> list[Reminder]:
    """The caller's own pending reminders; organisers also see the cohort's channel ones."""
    mine = (Reminder.person_id == person_id) & Reminder.kind.in_(KINDS)
    cond: ColumnElement[bool] = mine
    if organiser and cohort_id is not None:
        cond = or_(mine, (Reminder.cohort_id == cohort_id) & (Reminder.kind == KIND_CHANNEL))
    return list(
        uow.session.scalars(
            select(Reminder)
            .where(cond, Reminder.status == "pending")
            .order_by(Reminder.due_at, Reminder.id)
        )
    )


def remove(uow: UnitOfWork, reminder_id: int, person_id: int, organiser: bool) -> Reminder:
    row = uow.session.get(Reminder, reminder_id)
    if row is None or row.kind not in KINDS or row.status != "pending":
        raise NotFound(
            N_(
                "Keine offene Erinnerung Nr. {id}. "
                "„erinnerungen“ zeigt Ihre Erinnerungen mit Nummer."
            ),
            id=reminder_id,
        )
    allowed = row.person_id == person_id or (organiser and row.kind == KIND_CHANNEL)
    if not allowed:
        raise UserFacingError(
            N_("Erinnerung Nr. {id} gehört nicht Ihnen; löschen können Sie nur Ihre eigenen."),
            id=reminder_id,
        )
    row.status = "cancelled"
    return row


def last_received(uow: UnitOfWork, person_id: int) -> Reminder | None:
    value = uow.state.get(LAST_KEY.format(person_id=person_id))
    return uow.session.get(Reminder, int(value)) if value and value.isdigit() else None


def snooze(uow: UnitOfWork, person_id: int, due_at: datetime, now: datetime) -> Reminder:
    last = last_received(uow, person_id)
    if last is None or last.text is None:
        raise UserFacingError(
            N_("Sie haben noch keine Erinnerung von mir bekommen, die ich verschieben könnte.")
        )
    return create(uow, person_id=person_id, kind=KIND_DM, due_at=due_at, text=last.text, now=now)


# --- delivery (due work) -------------------------------------------------------------------


def _occurrence_key(row: Reminder) -> str:
    return occurrence_key(row.id, row.due_at)


def occurrence_key(reminder_id: int, due_at: datetime) -> str:
    return f"reminder:{reminder_id}:{due_at.isoformat()}"


def _missed(ctx: DueContext) -> bool:
    """Later than the grace period: not sent, reported once in the organisers' digest."""
    if ctx.lateness <= ctx.grace:
        return False
    record_missed(ctx.uow, "reminder", ctx.reminder.id, ctx.now)
    if not _reschedule(ctx):
        ctx.reminder.status = "missed"
    return True


def _reschedule(ctx: DueContext) -> bool:
    row = ctx.reminder
    if not row.recurrence:
        return False
    row.due_at = next_occurrence(row.recurrence, max(ctx.now, row.due_at), ctx.settings.timezone)
    row.status = "pending"
    return True


def _late_note(ctx: DueContext, language: str) -> str | None:
    if ctx.lateness <= LATE_AFTER:
        return None
    when = format_when(ctx.reminder.due_at.astimezone(ctx.settings.tz), language)
    return translator(language)(N_("verspätet – fällig war {when}")).format(when=when)


def render_message(
    text: str, kind: str, language: str, late: str | None, for_name: str | None = None
) -> Message:
    """The reminder as sent (also rendered ahead of time by :mod:`bot.scheduling.prepare`)."""
    _ = translator(language)
    if for_name is None:
        head = _("Erinnerung: {text}").format(text=text)
    else:
        head = _("Kopie einer Erinnerung für {name}: {text}").format(name=for_name, text=text)
    blocks: list[Section | Note | Actions] = [Section(lines=(head,))]
    if late:
        blocks.append(Note(late))
    if for_name is None and kind == KIND_DM:
        blocks.append(Note(_("Verschieben: „später 1 Stunde“ oder „später morgen“.")))
        blocks.append(
            Actions(
                (
                    Button(
                        _("1 Stunde später"),
                        CommandAction("spaeter", ("1", "Stunde")),
                        hint="später 1 Stunde",
                    ),
                    Button(
                        _("Morgen"), CommandAction("spaeter", ("morgen",)), hint="später morgen"
                    ),
                )
            )
        )
    return Message(blocks=tuple(blocks), fallback=head[:150])


@dataclass(frozen=True)
class Recipient:
    """Who gets a DM reminder (or its copy), as far as rendering it needs."""

    person_id: int
    name: str | None
    language: str | None
    #: (platform, external id) of each route (bot.notifications.routes: chat, e-mail or both)
    identities: tuple[tuple[str, str], ...]


def no_late_note(_language: str) -> str | None:
    return None


def dm_outgoing(
    key: str,
    text: str,
    person: Recipient,
    delegates: Iterable[Recipient],
    default_language: str,
    late: Callable[[str], str | None] = no_late_note,
) -> tuple[Outgoing, ...]:
    """What a DM reminder sends: the person's DM, and a copy to each of their office contacts
    (``delegate_person_id``). The one renderer of the ``dm`` kind: its handler
    (:func:`deliver_dm`) and the batch plans (:func:`bot.scheduling.prepare.plan_rows`) both
    enqueue exactly this. Each goes by the recipient's routes (chat, e-mail or both; the mail
    row's key gets ``:email`` as in :func:`bot.outbox.dm_person`); a recipient who cannot be
    reached gets nothing."""
    language = person.language or default_language
    message = render_message(text, KIND_DM, language, late(language))
    out = _routed(key, person.identities, message)
    for delegate in sorted(delegates, key=lambda d: d.person_id):
        if delegate.person_id == person.person_id:
            continue
        lang = delegate.language or default_language
        copy = render_message(text, KIND_DM, lang, late(lang), for_name=person.name or "—")
        out += _routed(f"{key}:copy:{delegate.person_id}", delegate.identities, copy)
    return tuple(out)


def _routed(key: str, identities: Sequence[tuple[str, str]], message: Message) -> list[Outgoing]:
    return [
        Outgoing.dm(f"{key}{MAIL_KEY_SUFFIX}" if ident[0] == EMAIL else key, ident, message)
        for ident in identities
    ]


def channel_outgoing(
    key: str,
    text: str,
    language: str,
    channels: Sequence[tuple[str, str]],
    late: Callable[[str], str | None] = no_late_note,
) -> tuple[Outgoing, ...]:
    """What a ``channel`` reminder sends: one post to each (platform, channel) of the cohort
    (the one renderer of its handler and of the batch plans)."""
    message = render_message(text, KIND_CHANNEL, language, late(language))
    return tuple(Outgoing.post(key, platform, channel, message) for platform, channel in channels)


def recipient(uow: UnitOfWork, person: Person) -> Recipient:
    identities = tuple((i.platform, i.external_id) for i in routes(uow, person.id))
    return Recipient(person.id, person.display_name, person.language, identities)


def deliver_dm(ctx: DueContext) -> None:
    if _missed(ctx):
        return
    row = ctx.reminder
    person = ctx.uow.persons.get(row.person_id) if row.person_id else None
    if person is None:
        row.status = "cancelled"
        return
    outgoing = dm_outgoing(
        _occurrence_key(row),
        row.text or "",
        recipient(ctx.uow, person),
        delegates_of(ctx.uow, person),
        ctx.settings.language,
        late=lambda language: _late_note(ctx, language),
    )
    for out in outgoing:
        add(ctx.uow, out, ctx.now)
    _put_state(ctx.uow, LAST_KEY.format(person_id=person.id), str(row.id))
    _reschedule(ctx)


def delegates_of(uow: UnitOfWork, person: Person) -> list[Recipient]:
    """The person's office contacts (``delegate_person_id``), who get a copy of a reminder."""
    ids = {p.delegate_person_id for p in uow.participants.of_person(person.id)}
    found = []
    for delegate_id in sorted(d for d in ids if d and d != person.id):
        delegate = uow.persons.get(delegate_id)
        if delegate is not None:
            found.append(recipient(uow, delegate))
    return found


def deliver_channel(ctx: DueContext) -> None:
    if _missed(ctx):
        return
    row = ctx.reminder
    if row.cohort_id is None:
        row.status = "cancelled"
        return
    outgoing = channel_outgoing(
        _occurrence_key(row),
        row.text or "",
        post_language(ctx.reminder, ctx.settings.language),
        cohort_channels(ctx.uow, row.cohort_id),
        late=lambda language: _late_note(ctx, language),
    )
    for out in outgoing:
        add(ctx.uow, out, ctx.now)
    _reschedule(ctx)


def _put_state(uow: UnitOfWork, key: str, value: str) -> None:
    """An upsert, so that two workers delivering to the same person never collide."""
    dialect = uow.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(KeyValue).values(key=key, value=value)
    uow.session.execute(
        statement.on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )


def _language(ctx: DueContext, person: Person) -> str:
    return person.language or ctx.settings.language


# --- data protection -----------------------------------------------------------------------


def export_person(uow: UnitOfWork, person_id: int) -> dict[str, Any]:
    rows = uow.session.scalars(
        select(Reminder)
        .where(Reminder.person_id == person_id, Reminder.kind.in_(KINDS))
        .order_by(Reminder.id)
    )
    return {
        "reminders": [
            {
                "id": r.id,
                "kind": r.kind,
                "due_at": r.due_at.isoformat(),
                "text": r.text,
                "recurrence": r.recurrence,
                "status": r.status,
            }
            for r in rows
        ]
    }


def erase_person(uow: UnitOfWork, person_id: int, pseudonym: str) -> None:
    """Own DM reminders go; channel reminders stay for the cohort without their author."""
    uow.session.execute(
        delete(Reminder).where(Reminder.person_id == person_id, Reminder.kind == KIND_DM)
    )
    for row in uow.session.scalars(
        select(Reminder).where(Reminder.person_id == person_id, Reminder.kind == KIND_CHANNEL)
    ):
        row.person_id = None
    key = LAST_KEY.format(person_id=person_id)
    if uow.state.get(key) is not None:
        uow.state.put(key, "")
