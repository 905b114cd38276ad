"""Registration: seats confirmed in commit order up to capacity, then the waitlist.

Seat allocation is serialised per cohort: SQLite takes its write lock at BEGIN IMMEDIATE,
PostgreSQL locks the cohort row (SELECT … FOR UPDATE) before counting seats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.actions import CommandAction
from bot.errors import UserFacingError
from bot.i18n import N_, format_when
from bot.notify import tell, tell_organisers
from bot.services.audit import record
from bot.services.functions import FUNCTIONS as FUNCTIONS  # where other modules look
from bot.views import Button
from storage.models import Cohort, Participant, Person
from storage.ports import UnitOfWorkPort

ACTIVE = ("confirmed", "waitlisted", "pending")


@dataclass(frozen=True)
class Details:
    name: str
    municipality: str
    function: str
    email: str
    office_contact: str | None = None


@dataclass(frozen=True)
class Outcome:
    status: str  # confirmed | waitlisted | pending
    position: int  # seat number, or place on the waitlist


def person_ref(uow: UnitOfWorkPort, person: Person) -> str:
    """How a command names this person: an identity, or the quoted exact name."""
    identities = uow.persons.identities_of(person.id)
    if identities:
        return f"{identities[0].platform}:{identities[0].external_id}"
    return f'"{person.display_name}"'


def position_of(uow: UnitOfWorkPort, participant: Participant) -> int:
    if participant.status == "confirmed":
        group = uow.participants.in_cohort(participant.cohort_id, "confirmed")
    else:
        group = uow.participants.in_cohort(participant.cohort_id, "waitlisted", "pending")
    return next((i for i, p in enumerate(group, 1) if p.id == participant.id), 0)


def _queue_time(uow: UnitOfWorkPort, cohort_id: int, now: datetime) -> datetime:
    """The registration time that keeps places in the order seats were given.

    Requests read the clock before they wait for the seat lock and may get it in any order; a
    request served later must not be placed before those already served (that would give two
    people the same place number)."""
    latest = uow.participants.latest_registration(cohort_id)
    if latest is not None and latest >= now:
        return latest + timedelta(microseconds=1)
    return now


def register(
    uow: UnitOfWorkPort,
    *,
    cohort: Cohort,
    person: Person,
    details: Details,
    consent: bool,
    now: datetime,
    language: str,
    default_language: str,
    tz: ZoneInfo,
    on_behalf_of: int | None = None,
) -> Outcome:
    locked = uow.cohorts.lock_for_seats(cohort.id)
    assert locked is not None
    if locked.ended_at is not None:
        raise UserFacingError(N_("Der Jahrgang „{name}“ ist abgeschlossen."), name=locked.name)
    deadline = locked.registration_deadline
    if deadline is not None and now > deadline and on_behalf_of is None:
        raise UserFacingError(
            N_(
                "Die Anmeldefrist ist am {date} abgelaufen. Bitte wenden Sie sich an das "
                "Programmteam."
            ),
            date=format_when(deadline.astimezone(tz), language),
        )
    if not consent:
        raise UserFacingError(
            N_(
                "Ohne Ihre Einwilligung zum Datenschutzhinweis kann ich Sie nicht anmelden. "
                "Schreiben Sie „anmelden“ und stimmen Sie zu (zustimmung=ja)."
            )
        )
    existing = uow.participants.get(locked.id, person.id)
    if existing is not None and existing.status in ACTIVE:
        _already(uow, existing)
    person.display_name = details.name
    person.municipality = details.municipality
    person.function = details.function
    person.email = details.email
    # the place in the queue; messages and the audit keep the real time (a queue time a
    # microsecond ahead would hold the organisers' notice back until the clock moved)
    queued = _queue_time(uow, locked.id, now)
    confirmed = uow.participants.count(locked.id, "confirmed")
    status = (
        "pending"
        if locked.moderated
        else ("confirmed" if confirmed < locked.capacity else "waitlisted")
    )
    if existing is None:
        existing = Participant(
            cohort_id=locked.id,
            person_id=person.id,
            status=status,
            is_host=False,
            registered_at=queued,
            updated_at=queued,
        )
        uow.participants.add(existing)
    else:  # registering again after a withdrawal: back of the queue
        existing.status, existing.registered_at, existing.updated_at = status, queued, queued
    existing.consent_at = queued
    existing.office_contact = details.office_contact
    locked.seat_version += 1
    if on_behalf_of is not None:
        record(
            uow,
            actor_id=on_behalf_of,
            action="teilnehmende.hinzufuegen",
            now=now,
            cohort_id=locked.id,
            subject_id=person.id,
            after={"name": details.name, "kommune": details.municipality, "status": status},
        )
    if status == "pending":
        tell_organisers(
            uow,
            N_(
                "Neue Anmeldung für „{cohort}“: {name} ({municipality}). Bitte bestätigen "
                "oder ablehnen."
            ),
            now=now,
            default_language=default_language,
            buttons=_decide_buttons(uow, person),
            cohort=locked.name,
            name=details.name,
            municipality=details.municipality,
        )
    return Outcome(status, position_of(uow, existing))


def _already(uow: UnitOfWorkPort, participant: Participant) -> None:
    position = position_of(uow, participant)
    if participant.status == "confirmed":
        raise UserFacingError(N_("Sie sind bereits angemeldet (Platz {n})."), n=position)
    if participant.status == "pending":
        raise UserFacingError(
            N_("Ihre Anmeldung liegt dem Programmteam bereits zur Bestätigung vor.")
        )
    raise UserFacingError(N_("Sie stehen bereits auf der Warteliste (Position {n})."), n=position)


def _decide_buttons(uow: UnitOfWorkPort, person: Person) -> tuple[Button, ...]:
    ref = person_ref(uow, person)
    return (
        Button(N_("Bestätigen"), CommandAction("bestaetigen", (ref,)), "primary"),
        Button(N_("Ablehnen"), CommandAction("ablehnen", (ref,)), "danger"),
    )


def withdraw(
    uow: UnitOfWorkPort,
    *,
    cohort: Cohort,
    person: Person,
    now: datetime,
    default_language: str,
) -> Person | None:
    """Withdraw ``person``; returns whoever moved up from the waitlist (open cohorts)."""
    locked = uow.cohorts.lock_for_seats(cohort.id)
    assert locked is not None
    participant = uow.participants.get(locked.id, person.id)
    if participant is None or participant.status not in ACTIVE:
        raise UserFacingError(
            N_("Sie sind für „{name}“ nicht angemeldet; es gibt nichts abzumelden."),
            name=locked.name,
        )
    had_seat = participant.status == "confirmed"
    participant.status, participant.updated_at = "withdrawn", now
    participant.is_host = False
    locked.seat_version += 1
    return fill_free_seat(uow, locked, now, default_language) if had_seat else None


def fill_free_seat(
    uow: UnitOfWorkPort, cohort: Cohort, now: datetime, default_language: str
) -> Person | None:
    """Open cohort: the first on the waitlist moves up and is told. Moderated: organisers are
    asked to confirm the first on the waitlist."""
    if uow.participants.count(cohort.id, "confirmed") >= cohort.capacity:
        return None
    queue = uow.participants.in_cohort(cohort.id, "waitlisted", "pending")
    if not queue:
        return None
    first = queue[0]
    person = uow.persons.get(first.person_id)
    assert person is not None
    if cohort.moderated:
        tell_organisers(
            uow,
            N_(
                "Im Jahrgang „{cohort}“ ist ein Platz frei. Als Erste/r auf der Warteliste "
                "steht {name} ({municipality})."
            ),
            now=now,
            default_language=default_language,
            buttons=_decide_buttons(uow, person),
            cohort=cohort.name,
            name=person.display_name or "?",
            municipality=person.municipality or "?",
        )
        return None
    first.status, first.updated_at = "confirmed", now
    tell(
        uow,
        person,
        N_(
            "Gute Nachricht: Im Jahrgang „{cohort}“ ist ein Platz frei geworden. "
            "Ihre Teilnahme ist jetzt bestätigt (Platz {n})."
        ),
        now=now,
        default_language=default_language,
        cohort=cohort.name,
        n=position_of(uow, first),
    )
    return person


def decide(
    uow: UnitOfWorkPort,
    *,
    actor_id: int,
    cohort: Cohort,
    person: Person,
    accept: bool,
    now: datetime,
    default_language: str,
) -> Outcome:
    """Organisers confirm or decline a pending (or waitlisted) registration."""
    locked = uow.cohorts.lock_for_seats(cohort.id)
    assert locked is not None
    participant = uow.participants.get(locked.id, person.id)
    if participant is None or participant.status not in ("pending", "waitlisted"):
        raise UserFacingError(
            N_("{name} wartet nicht auf eine Bestätigung. „teilnehmende“ zeigt den Stand."),
            name=person.display_name or "?",
        )
    before = participant.status
    if accept:
        if uow.participants.count(locked.id, "confirmed") >= locked.capacity:
            raise UserFacingError(
                N_(
                    "Alle {n} Plätze sind belegt. Erhöhen Sie die Platzzahl oder warten Sie, bis "
                    "ein Platz frei wird."
                ),
                n=locked.capacity,
            )
        participant.status = "confirmed"
        msgid = N_("Ihre Anmeldung für „{cohort}“ ist bestätigt. Willkommen im Stadtlabor!")
    else:
        participant.status = "declined"
        msgid = N_(
            "Ihre Anmeldung für „{cohort}“ konnte leider nicht berücksichtigt werden. "
            "Bei Fragen wenden Sie sich bitte an das Programmteam."
        )
    participant.updated_at = now
    locked.seat_version += 1
    record(
        uow,
        actor_id=actor_id,
        action="bestaetigen" if accept else "ablehnen",
        now=now,
        cohort_id=locked.id,
        subject_id=person.id,
        before={"status": before},
        after={"status": participant.status},
    )
    tell(uow, person, msgid, now=now, default_language=default_language, cohort=locked.name)
    return Outcome(participant.status, position_of(uow, participant))
