"""Reminders people ask for: by DM to themselves, in the cohort's rooms, once or recurring.

Rows live in ``reminders`` (kinds ``dm`` and ``channel``); delivery runs as due work and
enqueues outbox rows in the same transaction. A one-off row becomes ``done``; a recurring one
moves to its next occurrence. Work later than the grace period is not sent but reported to the
organisers in one digest (:func:`bot.scheduling.due.record_missed`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.errors import NotFound, UserFacingError
from bot.i18n import N_, format_when, translator
from bot.outbox import dm_person, post_to_cohort
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


def reminder_message(ctx: DueContext, language: str, for_name: str | None = None) -> Message:
    text, kind = ctx.reminder.text or "", ctx.reminder.kind
    return render_message(text, kind, language, _late_note(ctx, language), for_name)


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
                        _("1 Stunde später"), "reminder_snooze", "1h", command="später 1 Stunde"
                    ),
                    Button(_("Morgen"), "reminder_snooze", "tomorrow", command="später morgen"),
                )
            )
        )
    return Message(blocks=tuple(blocks), fallback=head[:150])


def deliver_dm(ctx: DueContext) -> None:
    if _missed(ctx):
        return
    row = ctx.reminder
    person = ctx.uow.persons.get(row.person_id) if row.person_id else None
    if person is None:
        row.status = "cancelled"
        return
    key = _occurrence_key(row)
    dm_person(ctx.uow, person.id, reminder_message(ctx, _language(ctx, person)), key, ctx.now)
    copy_to_delegates(ctx, person, key)
    _put_state(ctx.uow, LAST_KEY.format(person_id=person.id), str(row.id))
    _reschedule(ctx)


def copy_to_delegates(ctx: DueContext, person: Person, key: str) -> int:
    """The person's office contacts (``delegate_person_id``) get a copy of the reminder."""
    sent = 0
    delegates = {p.delegate_person_id for p in ctx.uow.participants.of_person(person.id)}
    for delegate_id in sorted(d for d in delegates if d and d != person.id):
        delegate = ctx.uow.persons.get(delegate_id)
        if delegate is None:
            continue
        message = reminder_message(
            ctx, _language(ctx, delegate), for_name=person.display_name or "—"
        )
        sent += dm_person(ctx.uow, delegate.id, message, f"{key}:copy:{delegate.id}", ctx.now)
    return sent


def deliver_channel(ctx: DueContext) -> None:
    if _missed(ctx):
        return
    row = ctx.reminder
    if row.cohort_id is None:
        row.status = "cancelled"
        return
    message = reminder_message(ctx, post_language(ctx.reminder, ctx.settings.language))
    post_to_cohort(ctx.uow, row.cohort_id, message, _occurrence_key(row), ctx.now)
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
