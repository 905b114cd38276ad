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
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.errors import UserFacingError
from bot.i18n import N_, translator
from bot.networking import alumni
from bot.outbox import post_to_cohort
from bot.services import feedback_close, meetings, poll_close
from bot.services.audit import record
from bot.settings import Settings
from bot.views import Message
from storage.models import Cohort, FeedbackRound, Meeting, Poll
from storage.ports import UnitOfWorkPort
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class ClosingPlan:
    """What ``jahrgang abschliessen ja`` will do, counted before it is confirmed."""

    open_polls: tuple[int, ...]
    open_rounds: tuple[int, ...]
    future_meetings: tuple[int, ...]
    pending_reminders: int
    channels: int


class OpenWork(Protocol):
    """What closing a cohort asks of the concepts it does not own (polls, feedback rounds,
    meetings): each closes or cancels its own, with its own results, messages and audit."""

    def close_poll(self, poll: Poll) -> None: ...

    def close_round(self, rnd: FeedbackRound) -> None: ...

    def cancel_meeting(self, meeting: Meeting) -> None: ...


@dataclass(frozen=True)
class ServiceClosers:
    """:class:`OpenWork` by the poll, feedback and meeting services, in the same transaction."""

    uow: UnitOfWork
    settings: Settings
    actor_id: int
    now: datetime

    def close_poll(self, poll: Poll) -> None:
        poll_close.close_poll(
            self.uow, poll.id, now=self.now, settings=self.settings, actor_id=self.actor_id
        )

    def close_round(self, rnd: FeedbackRound) -> None:
        feedback_close.close(self.uow, rnd, self.now, self.settings)

    def cancel_meeting(self, meeting: Meeting) -> None:
        meetings.delete(self.uow, meeting, actor_id=self.actor_id, now=self.now)


def _future_meetings(uow: UnitOfWorkPort, cohort: Cohort, now: datetime) -> list[Meeting]:
    return uow.meetings.scheduled(cohort.id, after=now)


def plan(uow: UnitOfWorkPort, cohort: Cohort, now: datetime) -> ClosingPlan:
    polls = tuple(p.number for p in uow.polls.of_cohort(cohort.id) if p.closed_at is None)
    rounds = tuple(
        r.number for r in uow.feedback_rounds.of_cohort(cohort.id) if r.closed_at is None
    )
    future = tuple(m.number for m in _future_meetings(uow, cohort, now))
    pending = uow.reminders.pending_count(cohort.id)
    channels = len(uow.cohorts.bindings_of(cohort.id))
    return ClosingPlan(polls, rounds, future, pending, channels)


def close(
    uow: UnitOfWorkPort,
    cohort: Cohort,
    *,
    actor_id: int,
    now: datetime,
    settings: Settings,
    open_work: OpenWork,
) -> ClosingPlan:
    """Close everything that is still open (through ``open_work``), cancel the cohort's pending
    reminders, tell the channels, mark the cohort ended."""
    if cohort.ended_at is not None:
        raise UserFacingError(N_("Dieser Jahrgang ist bereits abgeschlossen."))
    done = plan(uow, cohort, now)
    for poll in uow.polls.of_cohort(cohort.id):
        if poll.closed_at is None:
            open_work.close_poll(poll)
    for rnd in uow.feedback_rounds.of_cohort(cohort.id):
        if rnd.closed_at is None:
            open_work.close_round(rnd)
    for meeting in _future_meetings(uow, cohort, now):
        open_work.cancel_meeting(meeting)
    uow.reminders.cancel_pending(cohort.id)
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
    # Each participant is asked once whether to stay in the alumni circle (bot.networking).
    alumni.ask_at_close(uow, cohort, now=now, default_language=cohort.language or settings.language)
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
        "tandems stand",  # the tandem rate and insights: read only
        "checkins",  # the Vorhaben check-ins shared with the cohort: read only
        "profil",  # reads one's own profile or a member's
        "profil aendern",  # rectification (Art. 16); an alumnus keeps their profile current
        "alumni",  # the alumni consent is asked when the cohort closes: ja, nein, state
        "alumni raum",  # the alumni circle spans cohorts: not a change of this one
        "alumni mitglieder",
        "alumni import",
        "alumni entfernen",
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
