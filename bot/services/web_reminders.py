"""What the reminders page shows: the cohort's scheduled work, read from ``reminders``.

Each row becomes a :class:`Scheduled` — what (a message id with its values), when, for whom,
status — in three queries for any number of rows (reminders, then the polls, rounds and
meetings they name). Shown are the cohort's rows (deadlines, nudges, meeting milestones,
channel reminders) and the viewer's own DM reminders; other people's DM reminders are theirs
alone. Only the reminders people asked for (``dm``/``channel``) can be cancelled, with the
chat's :func:`bot.scheduling.service.remove`; the rest belong to their poll, round or meeting
and end with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select

from bot.errors import NotFound
from bot.i18n import N_
from bot.scheduling import service as reminders
from bot.services.feedback_publish import KIND_CLOSE, KIND_REMIND
from storage.models import FeedbackRound, Meeting, Poll, Reminder
from storage.uow import UnitOfWork

#: kind → (what, for whom); ``{n}`` is the poll's, round's or meeting's number
KINDS: dict[str, tuple[str, str]] = {
    "poll_close": (N_("Umfrage {n} schließt"), N_("Kanal des Jahrgangs (Ergebnis)")),
    "poll_nudge": (
        N_("Erinnerung an Umfrage {n}"),
        N_("Teilnehmende, die noch nicht abgestimmt haben"),
    ),
    KIND_CLOSE: (N_("Feedback-Runde {n} schließt"), N_("Kanal des Jahrgangs")),
    KIND_REMIND: (
        N_("Erinnerung an Feedback-Runde {n}"),
        N_("Befragte, die noch nicht geantwortet haben"),
    ),
    "meeting_attendance_ask": (
        N_("Teilnahme-Abfrage zu Treffen {n}"),
        N_("Bestätigte Teilnehmende"),
    ),
    "meeting_notes14": (N_("Hinweise zu Treffen {n} (14 Tage vorher)"), N_("Teilnehmende")),
    "meeting_recap1": (N_("Programm von Treffen {n} am Vortag"), N_("Teilnehmende")),
    "meeting_day1": (N_("Treffen {n} beginnt"), N_("Teilnehmende")),
    "checkin_ask": (N_("Check-in-Frage"), N_("Teilnehmende")),
    "checkin_nudge": (N_("Erinnerung an den Check-in"), N_("Teilnehmende ohne Antwort")),
    "checkin_digest": (N_("Check-in-Zusammenfassung"), N_("Programmteam")),
    "tandem_ask": (N_("Tandem-Rückfrage"), N_("Tandems")),
    "tandem_nudge": (N_("Erinnerung an die Tandems"), N_("Tandems")),
}
STATUS_LABELS = {
    "pending": N_("geplant"),
    "running": N_("wird gesendet"),
    "done": N_("erledigt"),
    "cancelled": N_("gelöscht"),
    "missed": N_("verpasst"),
    "failed": N_("fehlgeschlagen"),
}
RECENT = 20  # done/cancelled rows shown below the planned ones


@dataclass(frozen=True)
class Scheduled:
    id: int
    what: str  # message id, filled with ``params``
    audience: str  # message id, filled with ``params``
    due_at: datetime
    status: str  # a key of STATUS_LABELS
    recurrence: str | None
    cancellable: bool
    text: str | None = None  # a reminder's own text (dm/channel), shown as typed
    params: dict[str, object] = field(default_factory=dict)


def scheduled(
    uow: UnitOfWork, cohort_id: int, person_id: int, *, planned: bool = True
) -> list[Scheduled]:
    """Planned rows (soonest first) or, with ``planned=False``, the latest finished ones."""
    visible = or_(
        and_(Reminder.cohort_id == cohort_id, Reminder.kind != reminders.KIND_DM),
        and_(Reminder.person_id == person_id, Reminder.kind == reminders.KIND_DM),
    )
    query = select(Reminder).where(visible)
    if planned:
        query = query.where(Reminder.status.in_(("pending", "running")))
        query = query.order_by(Reminder.due_at, Reminder.id)
    else:
        query = query.where(Reminder.status.not_in(("pending", "running")))
        query = query.order_by(Reminder.due_at.desc(), Reminder.id.desc()).limit(RECENT)
    rows = list(uow.session.scalars(query))
    numbers = _numbers(uow, rows)
    return [_describe(row, numbers) for row in rows]


def _numbers(uow: UnitOfWork, rows: list[Reminder]) -> dict[tuple[str, int], int]:
    """(target key, id) → the number people know (poll 3, round 2, meeting 1)."""
    wanted: dict[str, set[int]] = {"poll_id": set(), "round_id": set(), "meeting_id": set()}
    for row in rows:
        for key, ids in wanted.items():
            value = (row.target or {}).get(key)
            if isinstance(value, int):
                ids.add(value)
    out: dict[tuple[str, int], int] = {}
    for key, model in (("poll_id", Poll), ("round_id", FeedbackRound), ("meeting_id", Meeting)):
        if wanted[key]:
            for obj_id, number in uow.session.execute(
                select(model.id, model.number).where(model.id.in_(wanted[key]))
            ):
                out[(key, int(obj_id))] = int(number)
    return out


def _describe(row: Reminder, numbers: dict[tuple[str, int], int]) -> Scheduled:
    cancellable = row.kind in reminders.KINDS and row.status == "pending"
    if row.kind == reminders.KIND_DM:
        what, audience = N_("Erinnerung"), N_("Direktnachricht an Sie")
    elif row.kind == reminders.KIND_CHANNEL:
        what, audience = N_("Erinnerung"), N_("Kanäle des Jahrgangs")
    else:
        what, audience = KINDS.get(row.kind, (N_("Geplante Aufgabe"), N_("Jahrgang")))
    target = row.target or {}
    number = next(
        (
            numbers[(key, target[key])]
            for key in ("poll_id", "round_id", "meeting_id")
            if isinstance(target.get(key), int) and (key, target[key]) in numbers
        ),
        None,
    )
    return Scheduled(
        id=row.id,
        what=what,
        audience=audience,
        due_at=row.due_at,
        status=row.status if row.status in STATUS_LABELS else "pending",
        recurrence=row.recurrence,
        cancellable=cancellable,
        text=row.text if row.kind in reminders.KINDS else None,
        params={"n": number if number is not None else "?"},
    )


def cancel(uow: UnitOfWork, reminder_id: int, person_id: int, cohort_id: int) -> Reminder:
    """Cancel a reminder as ``erinnerung NR löschen`` does (an organiser: their own, and the
    cohort's channel reminders). A channel reminder of another cohort is refused like one
    that does not exist."""
    row = uow.session.get(Reminder, reminder_id)
    if row is not None and row.kind == reminders.KIND_CHANNEL and row.cohort_id != cohort_id:
        raise NotFound(
            N_(
                "Keine offene Erinnerung Nr. {id}. "
                "„erinnerungen“ zeigt Ihre Erinnerungen mit Nummer."
            ),
            id=reminder_id,
        )
    return reminders.remove(uow, reminder_id, person_id, True)
