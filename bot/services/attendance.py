"""Who comes to which meeting (all days, some days, not at all) and what they need.

Answers can be changed until the organisers close attendance. The overview and the CSV are
for organisers only. Personal data here: the answer and the free-text needs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import shorten
from bot.services.meetings import local_days
from bot.services.participants import safe_cell
from storage.models import Meeting, Participant, Person
from storage.models_meetings import Attendance, MeetingState
from storage.ports import UnitOfWorkPort

TEXT_LIMIT = 500


@dataclass(frozen=True)
class Answer:
    days: tuple[int, ...]  # () = not coming


@dataclass(frozen=True)
class Summary:
    per_day: dict[int, int]
    declined: list[str]
    missing: list[str]
    needs: list[str]  # "Name: vegetarisch; Rollstuhl"
    overnight: list[str]
    closed: bool


def state(uow: UnitOfWorkPort, meeting: Meeting) -> MeetingState:
    row = uow.attendance.state(meeting.id)
    if row is None:
        row = MeetingState(meeting_id=meeting.id)
        uow.attendance.add(row)
    return row


def is_closed(uow: UnitOfWorkPort, meeting: Meeting) -> bool:
    row = uow.attendance.state(meeting.id)
    return row is not None and row.attendance_closed_at is not None


def close(uow: UnitOfWorkPort, meeting: Meeting, now: datetime, closed: bool = True) -> None:
    state(uow, meeting).attendance_closed_at = now if closed else None


def parse_answer(words: list[str], meeting: Meeting, tz: ZoneInfo) -> tuple[int, ...]:
    """The days of an answer typed as one or more words; ja/nein stand alone."""
    count = len(local_days(meeting, tz))
    days: set[int] = set()
    parts = [p for w in words for p in w.replace(",", " ").split()]
    if len(parts) > 1:  # quote the word not understood, not a "ja" that stands before it
        yes_no = ("ja", "yes", "nein", "no")
        parts = sorted(parts, key=lambda p: p.strip().casefold() not in yes_no, reverse=True)
    for part in parts:
        folded = part.strip().casefold()
        if folded in ("ja", "yes", "nein", "no") and len(parts) == 1:
            return tuple(range(1, count + 1)) if folded in ("ja", "yes") else ()
        number = next((folded.removeprefix(p) for p in ("tag", "day") if folded.startswith(p)), "")
        if not (number.isdigit() and 1 <= int(number) <= count):
            raise UserFacingError(
                N_(
                    "„{word}“ verstehe ich nicht. Bitte antworten Sie mit ja, nein oder "
                    "tag1 … tag{count}, auch mehrere (Treffen {n} hat {count} Tage)."
                ),
                word=shorten(part, 40),
                count=count,
                n=meeting.number,
            )
        days.add(int(number))
    return tuple(sorted(days))


# ``days`` of a row that holds needs (essen=…) typed before the yes/no answer
NOT_ANSWERED = "?"


def answer_of(uow: UnitOfWorkPort, meeting: Meeting, person_id: int) -> Attendance | None:
    """The person's answer; None while only needs were given (they count as not answered)."""
    row = _row_of(uow, meeting, person_id)
    return None if row is None or row.days == NOT_ANSWERED else row


def _row_of(uow: UnitOfWorkPort, meeting: Meeting, person_id: int) -> Attendance | None:
    return uow.attendance.get(meeting.id, person_id)


def days_of(row: Attendance) -> tuple[int, ...]:
    return tuple(int(d) for d in row.days.split(",") if d.isdigit())


def give(
    uow: UnitOfWorkPort,
    meeting: Meeting,
    person: Person,
    answer: Answer | None,
    now: datetime,
    **needs: str | bool | None,
) -> Attendance:
    """Store (or change) the answer; ``needs`` alone changes only those fields."""
    participant = uow.participants.get(meeting.cohort_id, person.id)
    if participant is None or participant.status != "confirmed":
        raise UserFacingError(
            N_("Die Teilnahme können nur bestätigte Teilnehmende des Jahrgangs angeben.")
        )
    if is_closed(uow, meeting):
        raise UserFacingError(
            N_(
                "Die Rückmeldungen für Treffen {n} sind geschlossen. Bitte wenden Sie sich "
                "an das Programmteam."
            ),
            n=meeting.number,
        )
    if meeting.ends_at <= now:
        raise UserFacingError(N_("Treffen {n} ist schon vorbei."), n=meeting.number)
    for value in needs.values():
        if isinstance(value, str) and len(value) > TEXT_LIMIT:
            raise UserFacingError(N_("Bitte höchstens {limit} Zeichen."), limit=TEXT_LIMIT)
    row = _row_of(uow, meeting, person.id)
    if row is None:
        if answer is None and not needs:
            raise UserFacingError(
                N_("Kommen Sie? Bitte „teilnahme {n} ja“, „nein“, „tag1“ oder „tag2“."),
                n=meeting.number,
            )
        # needs typed before the answer are kept; the row counts as unanswered until then
        row = Attendance(
            meeting_id=meeting.id, person_id=person.id, days=NOT_ANSWERED, answered_at=now
        )
        uow.attendance.add(row)
    if answer is not None:
        row.days = ",".join(str(d) for d in answer.days)
    for key, value in needs.items():
        setattr(row, key, value if isinstance(value, bool) else (value or None))
    row.answered_at = now
    return row


def _confirmed(uow: UnitOfWorkPort, cohort_id: int) -> list[tuple[Participant, Person]]:
    out = []
    for p in uow.participants.in_cohort(cohort_id, "confirmed"):
        person = uow.persons.get(p.person_id)
        if person is not None and person.erased_at is None:
            out.append((p, person))
    return out


def unanswered(uow: UnitOfWorkPort, meeting: Meeting) -> list[Person]:
    return [
        person
        for _p, person in _confirmed(uow, meeting.cohort_id)
        if answer_of(uow, meeting, person.id) is None
    ]


def coming(uow: UnitOfWorkPort, meeting: Meeting) -> list[Person]:
    """Confirmed participants who have not declined (unanswered ones included)."""
    out = []
    for _p, person in _confirmed(uow, meeting.cohort_id):
        row = answer_of(uow, meeting, person.id)
        if row is None or days_of(row):
            out.append(person)
    return out


def summarise(uow: UnitOfWorkPort, meeting: Meeting, tz: ZoneInfo) -> Summary:
    per_day = {d: 0 for d in range(1, len(local_days(meeting, tz)) + 1)}
    declined, missing, needs, overnight = [], [], [], []
    for _p, person in _confirmed(uow, meeting.cohort_id):
        name = person.display_name or "?"
        row = answer_of(uow, meeting, person.id)
        if row is None:
            missing.append(name)
            continue
        days = days_of(row)
        if not days:
            declined.append(name)
            continue
        for d in days:
            per_day[d] = per_day.get(d, 0) + 1
        wishes = [x for x in (row.dietary, row.accessibility) if x]
        if wishes:
            needs.append(f"{name}: {'; '.join(wishes)}")
        if row.overnight:
            overnight.append(name)
    return Summary(per_day, declined, missing, needs, overnight, is_closed(uow, meeting))


CSV_HEADER = ("name", "kommune", "antwort", "tage", "essen", "barrierefreiheit", "uebernachtung")


def export_csv(uow: UnitOfWorkPort, meeting: Meeting) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for _p, person in _confirmed(uow, meeting.cohort_id):
        row = answer_of(uow, meeting, person.id)
        days = days_of(row) if row else ()
        answer = "offen" if row is None else ("ja" if days else "nein")
        overnight = (
            "" if row is None or row.overnight is None else ("ja" if row.overnight else "nein")
        )
        cells = (
            person.display_name or "",
            person.municipality or "",
            answer,
            " ".join(f"tag{d}" for d in days),
            (row.dietary if row else None) or "",
            (row.accessibility if row else None) or "",
            overnight,
        )
        writer.writerow([safe_cell(c) for c in cells])
    return out.getvalue().encode("utf-8")


def export_person(uow: UnitOfWorkPort, person_id: int) -> dict[str, Any]:
    """What ``meine-daten`` shows: every attendance answer of the person."""
    answers: list[dict[str, Any]] = []
    for attendance, meeting in uow.attendance.of_person(person_id):
        answers.append(
            {
                "treffen": meeting.number,
                "titel": meeting.title,
                "beginn": meeting.starts_at.isoformat(),
                "tage": list(days_of(attendance)),
                "essen": attendance.dietary,
                "barrierefreiheit": attendance.accessibility,
                "uebernachtung": attendance.overnight,
                "beantwortet": attendance.answered_at.isoformat(),
            }
        )
    return {"teilnahme": answers}


def erase_person(uow: UnitOfWorkPort, person_id: int, pseudonym: str) -> None:
    """Remove the person's answers (head counts of past meetings lose them; that is intended)."""
    uow.attendance.erase_person(person_id)


@dataclass(frozen=True)
class TableRow:
    """One confirmed participant's line in the organisers' attendance table."""

    name: str
    municipality: str
    days: tuple[int, ...] | None  # None: no answer yet; (): not coming
    dietary: str
    accessibility: str
    overnight: bool | None


def table(uow: UnitOfWorkPort, meeting: Meeting) -> list[TableRow]:
    """Every confirmed participant with their answer, in registration order (the answers in
    one query, not one per person)."""
    answers = {row.person_id: row for row in uow.attendance.for_meeting(meeting.id)}
    rows = []
    for _p, person in _confirmed(uow, meeting.cohort_id):
        answer = answers.get(person.id)
        rows.append(
            TableRow(
                name=person.display_name or "?",
                municipality=person.municipality or "",
                days=None if answer is None else days_of(answer),
                dietary=(answer.dietary or "") if answer else "",
                accessibility=(answer.accessibility or "") if answer else "",
                overnight=answer.overnight if answer else None,
            )
        )
    return rows
