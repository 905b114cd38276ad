"""The end of a cohort: what closing will do (shown before it happens), doing it, and the rule
that a closed cohort is read-only.

Closing a cohort closes its open polls and feedback rounds (their results are posted as at any
close), cancels its future meetings and every pending reminder and nudge that belongs to it,
and tells the cohort's channels. Afterwards every command that would change the cohort is
refused with one message; reading, exports, ``meine-daten`` and ``vergessen`` keep working
(the person's rights do not end with the programme year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot.errors import UserFacingError
from bot.i18n import N_, translator
from bot.outbox import post_to_cohort
from bot.services import feedback_close, meetings, poll_close
from bot.services.audit import record
from bot.services.feedback import rounds_of
from bot.services.polls import polls_of
from bot.settings import Settings
from bot.views import Message
from storage.models import Cohort, Meeting, Reminder
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class ClosingPlan:
    """What ``jahrgang abschliessen ja`` will do, counted before it is confirmed."""

    open_polls: tuple[int, ...]
    open_rounds: tuple[int, ...]
    future_meetings: tuple[int, ...]
    pending_reminders: int
    channels: int


def _future_meetings(uow: UnitOfWork, cohort: Cohort, now: datetime) -> list[Meeting]:
    return list(
        uow.session.scalars(
            select(Meeting)
            .where(
                Meeting.cohort_id == cohort.id,
                Meeting.deleted_at.is_(None),
                Meeting.starts_at > now,
            )
            .order_by(Meeting.starts_at)
        )
    )


def plan(uow: UnitOfWork, cohort: Cohort, now: datetime) -> ClosingPlan:
    polls = tuple(p.number for p in polls_of(uow, cohort.id) if p.closed_at is None)
    rounds = tuple(r.number for r in rounds_of(uow, cohort) if r.closed_at is None)
    future = tuple(m.number for m in _future_meetings(uow, cohort, now))
    pending = uow.session.scalar(
        select(func.count())
        .select_from(Reminder)
        .where(Reminder.cohort_id == cohort.id, Reminder.status == "pending")
    )
    channels = len(uow.cohorts.bindings_of(cohort.id))
    return ClosingPlan(polls, rounds, future, int(pending or 0), channels)


def close(
    uow: UnitOfWork, cohort: Cohort, *, actor_id: int, now: datetime, settings: Settings
) -> ClosingPlan:
    """Close everything that is still open, tell the channels, mark the cohort ended."""
    if cohort.ended_at is not None:
        raise UserFacingError(N_("Dieser Jahrgang ist bereits abgeschlossen."))
    done = plan(uow, cohort, now)
    for poll in polls_of(uow, cohort.id):
        if poll.closed_at is None:
            poll_close.close_poll(uow, poll.id, now=now, settings=settings, actor_id=actor_id)
    for rnd in rounds_of(uow, cohort):
        if rnd.closed_at is None:
            feedback_close.close(uow, rnd, now, settings)
    for meeting in _future_meetings(uow, cohort, now):
        meetings.delete(uow, meeting, actor_id=actor_id, now=now)
    uow.session.execute(
        update(Reminder)
        .where(Reminder.cohort_id == cohort.id, Reminder.status == "pending")
        .values(status="cancelled")
    )
    cohort.ended_at = now
    translate = translator(cohort.language or settings.language)
    notice = translate(
        N_(
            "Der Jahrgang „{name}“ ist abgeschlossen. Vielen Dank für Ihre Mitarbeit! "
            "Ergebnisse und Exporte bleiben lesbar; neue Einträge sind nicht mehr möglich. "
            "„meine-daten“ und „vergessen“ funktionieren weiter."
        )
    ).format(name=cohort.name)
    post_to_cohort(uow, cohort.id, Message.text(notice), f"cohort:{cohort.id}:ended", now)
    record(
        uow,
        actor_id=actor_id,
        action="jahrgang.abschliessen",
        now=now,
        cohort_id=cohort.id,
        after={
            "abgeschlossen": now.isoformat(),
            "umfragen": list(done.open_polls),
            "feedback-runden": list(done.open_rounds),
            "treffen-abgesagt": list(done.future_meetings),
            "erinnerungen-abgesagt": done.pending_reminders,
        },
    )
    return done


# Commands that still work in a closed cohort: they only read, or they serve the person's
# rights (information, rectification, erasure) and the organisers' records.
READABLE_AFTER_END = frozenset(
    {
        "hilfe",
        "sprache",
        "jahrgang",
        "jahrgang anlegen",
        "jahrgang verbinden",
        "teilnehmende",
        "export teilnehmende",
        "export teilnahme",
        "export umfrage",
        "export feedback",
        "protokoll",
        "meine-daten",
        "meine-daten aendern",
        "vergessen",
        "verknuepfen",
        "agenda",
        "kalender",
        "themen",
        "umfragen",
        "erinnerungen",
        "ueberblick",
        "teilnahme uebersicht",
        "dashboard",  # a login link: the web pages read a closed cohort like the chat does
    }
)

# Commands that read with a bare number ("umfrage 3", "treffen 2", "feedback 1") and write
# with anything else; in a closed cohort only the reading forms are let through.
_READS_WITH_NUMBER = frozenset({"umfrage", "treffen", "feedback", "erinnerung"})
_READ_WORDS = frozenset({"uebersicht", "overview", "zeigen", "show", "export"})


def _reads(key: str, args: list[str]) -> bool:
    if key in READABLE_AFTER_END:
        return True
    if key not in _READS_WITH_NUMBER:
        return False
    if not args:
        return True
    if len(args) == 1 and args[0].lstrip("#").isdigit():
        return True
    return len(args) == 2 and args[0].lstrip("#").isdigit() and args[1].casefold() in _READ_WORDS


def check_writable(key: str, args: list[str], cohort: Cohort | None, tz_name: str) -> None:
    """Refuse a command that would change a closed cohort; say what still works."""
    if cohort is None or cohort.ended_at is None or _reads(key, args):
        return
    raise UserFacingError(
        N_(
            "Der Jahrgang „{name}“ ist seit {when} abgeschlossen und kann nur noch gelesen "
            "werden; „{command}“ ist nicht mehr möglich. Weiterhin möglich: „ueberblick“, "
            "„umfragen“, Exporte, „meine-daten“ und „vergessen“."
        ),
        name=cohort.name,
        when=_day(cohort.ended_at, tz_name),
        command=key,
    )


def _day(moment: datetime, tz_name: str) -> str:
    return moment.astimezone(ZoneInfo(tz_name)).strftime("%d.%m.%Y")
