"""Data protection (DSGVO): access (Art. 15), rectification (Art. 16), erasure (Art. 17) and
retention. Votes in anonymous polls and anonymous feedback never show who wrote them.

:data:`STORES` is the one list of everything the bot keeps about a person: ``meine-daten``
shows each store, ``vergessen`` names and erases each one, docs/privacy.md lists them, and the
scan test (tests/test_privacy_scan.py) proves that nothing is left after the erasure. A feature
that keeps personal data adds its store here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast
from uuid import uuid4

from sqlalchemy import delete, select, update

from bot.i18n import N_
from bot.networking import alumni
from bot.networking import privacy as networking_privacy
from bot.scheduling import service as scheduling_service
from bot.services import answer_links, attendance, invitations, poll_privacy, web_login
from bot.services import feedback as feedback_service
from bot.services.audit import record
from bot.services.cohorts import end_of
from bot.services.feedback_erase import erase_named_answers
from bot.services.privacy_traces import (
    DM_OPERATIONS,
    Erasure,
    collect_secrets,
    scrub_audit,
    scrub_outbox,
    scrub_state,
    scrub_texts,
    state_of,
)
from bot.services.registration import fill_free_seat
from bot.settings import Settings
from storage.models import (
    AuditEntry,
    Cohort,
    FeedbackResponse,
    FeedbackRound,
    OutboxMessage,
    Participant,
    Person,
    PlatformIdentity,
    Reminder,
)
from storage.models_meetings import MeetingInvitation
from storage.uow import UnitOfWork

NEVER_REGISTERED_DAYS = 30


class PersonalData(Protocol):
    """What a feature module that stores personal data provides (Art. 15 and 17)."""

    def export_person(self, uow: UnitOfWork, person_id: int) -> dict[str, Any]: ...

    def erase_person(self, uow: UnitOfWork, person_id: int, pseudonym: str) -> None: ...


@dataclass(frozen=True)
class PersonalDataStore:
    """One kind of record about a person: shown by ``meine-daten``, removed by ``vergessen``."""

    name: str
    label: str  # German source string (N_), translated where shown
    export: Callable[[UnitOfWork, Erasure], dict[str, Any]]
    erase: Callable[[UnitOfWork, Erasure], None]

    def count(self, exported: dict[str, Any]) -> int:
        total = 0
        for value in exported.values():
            if isinstance(value, list):
                total += len(value)
            elif isinstance(value, dict):  # a record's fields: the filled ones
                total += sum(1 for field in value.values() if field not in (None, False, ""))
            elif isinstance(value, int) and not isinstance(value, bool):
                total += value
            elif value:
                total += 1
        return total


def _feature(module: object) -> tuple[Callable[..., dict[str, Any]], Callable[..., None]]:
    feature = cast(PersonalData, module)
    return (
        lambda uow, e: feature.export_person(uow, e.person.id),
        lambda uow, e: feature.erase_person(uow, e.person.id, e.pseudonym),
    )


# -- the stores ---------------------------------------------------------------------------------


def _export_registrations(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    cohorts = {c.id: c.name for c in uow.session.scalars(select(Cohort))}
    return {
        "anmeldungen": [
            {
                "jahrgang": cohorts.get(p.cohort_id),
                "status": p.status,
                "gastgeber": p.is_host,
                "angemeldet": p.registered_at.isoformat(),
                "einwilligung": p.consent_at.isoformat() if p.consent_at else None,
                "bueroleitung": p.office_contact,
            }
            for p in uow.participants.of_person(e.person.id)
            if p.status != "erased"
        ]
    }


def _erase_registrations(uow: UnitOfWork, e: Erasure) -> None:
    for participant in uow.participants.of_person(e.person.id):
        had_seat = participant.status == "confirmed"
        participant.status, participant.is_host = "erased", False
        participant.office_contact, participant.updated_at = None, e.now
        cohort = uow.cohorts.get(participant.cohort_id)
        if had_seat and cohort is not None and cohort.ended_at is None:
            uow.session.flush()
            fill_free_seat(uow, cohort, e.now, e.default_language)
    uow.session.execute(
        update(Participant)
        .where(Participant.delegate_person_id == e.person.id)
        .values(delegate_person_id=None)
    )


def _export_feedback(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    named = [
        {"runde": rnd.title, "antworten": resp.answers, "abgegeben": resp.submitted_at.isoformat()}
        for resp, rnd in uow.session.execute(
            select(FeedbackResponse, FeedbackRound)
            .join(FeedbackRound, FeedbackRound.id == FeedbackResponse.round_id)
            .where(FeedbackResponse.author_person_id == e.person.id)
        )
        if not rnd.anonymous
    ]
    return {"feedback": named, **feedback_service.export_person(uow, e.person.id)}


def _erase_feedback(uow: UnitOfWork, e: Erasure) -> None:
    # Their own words in named feedback: replaced while the author link still finds them.
    erase_named_answers(uow, e.person.id, now=e.now, language=e.default_language)
    feedback_service.erase_person(uow, e.person.id, e.pseudonym)
    uow.session.execute(
        update(FeedbackResponse)
        .where(FeedbackResponse.author_person_id == e.person.id)
        .values(author_person_id=None)
    )


def _erase_reminders(uow: UnitOfWork, e: Erasure) -> None:
    scheduling_service.erase_person(uow, e.person.id, e.pseudonym)
    uow.session.execute(delete(Reminder).where(Reminder.person_id == e.person.id))


def _export_dialogs(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    dialog = uow.dialogs.of_person(e.person.id)
    return {"dialoge": [dialog.kind] if dialog is not None else []}


def _erase_dialogs(uow: UnitOfWork, e: Erasure) -> None:
    dialog = uow.dialogs.of_person(e.person.id)
    if dialog is not None:
        uow.dialogs.remove(dialog)


def _export_messages(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    rows = uow.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.operation.in_(DM_OPERATIONS))
        .order_by(OutboxMessage.id)
    )
    return {
        "nachrichten_an_sie": [
            {
                "art": "dm" if r.operation == "refresh" else r.operation,
                "erstellt": r.created_at.isoformat(),
                "status": r.status,
            }
            for r in rows
            if r.target.get("identity") in e.identities
        ]
    }


def _export_audit(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    """How many change-log entries are about the person, made by them or name them."""
    pid, pattern = e.person.id, e.pattern()
    count = 0
    for entry in uow.session.scalars(select(AuditEntry)):
        text = json.dumps([entry.before, entry.after], ensure_ascii=False)
        if pid in (entry.subject_person_id, entry.actor_person_id) or (
            pattern is not None and pattern.search(text)
        ):
            count += 1
    return {"protokolleintraege": count}


def _export_state(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    return {"technisch": state_of(uow, e)}


def _erase_messages(uow: UnitOfWork, e: Erasure) -> None:
    scrub_texts(uow, e)  # first: the sources posts are rendered from
    scrub_outbox(uow, e)


def _erase_state(uow: UnitOfWork, e: Erasure) -> None:
    scrub_state(uow, e)


def _export_identities(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    return {
        "kennungen": [
            f"{i.platform}:{i.external_id}" for i in uow.persons.identities_of(e.person.id)
        ]
    }


def _erase_identities(uow: UnitOfWork, e: Erasure) -> None:
    uow.session.execute(delete(PlatformIdentity).where(PlatformIdentity.person_id == e.person.id))


def _export_notifications(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    person = e.person
    invitations = uow.session.scalars(
        select(MeetingInvitation)
        .where(MeetingInvitation.person_id == person.id)
        .order_by(MeetingInvitation.id)
    )
    return {
        "benachrichtigung": {"weg": person.notify_via, "bueroleitung_email": person.office_email},
        "versandte_einladungen": [
            {
                "an": i.address,
                "als": i.role,
                "art": i.method,
                "version": i.sequence,
                "gesendet": i.sent_at.isoformat(),
            }
            for i in invitations
        ],
    }


def _erase_notifications(uow: UnitOfWork, e: Erasure) -> None:
    e.person.notify_via = e.person.office_email = None
    uow.session.execute(delete(MeetingInvitation).where(MeetingInvitation.person_id == e.person.id))


def _export_person(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    person = e.person
    return {
        "person": {
            "name": person.display_name,
            "email": person.email,
            "kommune": person.municipality,
            "funktion": person.function,
            "sprache": person.language,
            "organisation": person.is_organiser,
            "erfasst": person.created_at.isoformat(),
        }
    }


def _erase_person_row(uow: UnitOfWork, e: Erasure) -> None:
    person = e.person
    person.display_name = person.email = person.municipality = person.function = None
    person.language, person.is_organiser = None, False
    person.pseudonym, person.erased_at = e.pseudonym, e.now


_POLLS = _feature(poll_privacy)
_ATTENDANCE = _feature(attendance)
_WEB = _feature(web_login)


def _export_web(uow: UnitOfWork, e: Erasure) -> dict[str, Any]:
    """Web sessions and login links, and the answer links sent in prompts."""
    return _WEB[0](uow, e) | answer_links.export_person(uow, e.person.id)


def _erase_web(uow: UnitOfWork, e: Erasure) -> None:
    _WEB[1](uow, e)
    answer_links.erase_person(uow, e.person.id)


# Erased in this order: registrations first (a freed seat is offered while names are still
# known), texts before identities (the secrets are collected up front), the person row last.
STORES: tuple[PersonalDataStore, ...] = (
    PersonalDataStore(
        "anmeldungen",
        N_("Anmeldungen in Jahrgängen (mit Einwilligung und Büroleitung)"),
        _export_registrations,
        _erase_registrations,
    ),
    PersonalDataStore(
        "umfragen",
        N_("Umfragen: Ihre Stimmen, Themenvorschläge und angelegten Umfragen"),
        *_POLLS,
    ),
    PersonalDataStore(
        "feedback",
        N_("Feedback: Ihre Antworten und Runden, in denen Sie vorgestellt haben"),
        _export_feedback,
        _erase_feedback,
    ),
    PersonalDataStore(
        "teilnahme",
        N_("Teilnahme an Treffen (mit Essen, Barrierefreiheit, Übernachtung)"),
        *_ATTENDANCE,
    ),
    PersonalDataStore(
        "erinnerungen",
        N_("Erinnerungen"),
        lambda uow, e: scheduling_service.export_person(uow, e.person.id),
        _erase_reminders,
    ),
    PersonalDataStore("dialoge", N_("Angefangene Dialoge"), _export_dialogs, _erase_dialogs),
    PersonalDataStore(
        "nachrichten",
        N_("Nachrichten des Bots an Sie und über Sie (auch bereits gepostete)"),
        _export_messages,
        _erase_messages,
    ),
    PersonalDataStore(
        "protokoll",
        N_("Einträge im Änderungsprotokoll, die Sie nennen"),
        _export_audit,
        scrub_audit,
    ),
    PersonalDataStore(
        "vernetzung",
        N_(
            "Vernetzung: Ihr Profil (Themen, Vorhaben), Check-ins zum Vorhaben, Vorstellungen "
            "und Tandems (mit Ihren Antworten)"
        ),
        lambda uow, e: networking_privacy.export_person(uow, e.person.id, e.now),
        lambda uow, e: networking_privacy.erase_person(uow, e.person.id, e.pseudonym),
    ),
    PersonalDataStore(
        "alumni",
        N_("Alumni-Kreis: Ihre Einwilligung (wann, aus welchem Jahrgang)"),
        lambda uow, e: alumni.export_person(uow, e.person.id),
        lambda uow, e: alumni.erase_person(
            uow, e.person.id, e.pseudonym, now=e.now, default_language=e.default_language
        ),
    ),
    PersonalDataStore(
        "technisch",
        N_("Technische Daten: offene Slack-Formulare, Matrix-Direktchats, Codes, Sendetakt"),
        _export_state,
        _erase_state,
    ),
    PersonalDataStore(
        "web",
        N_("Anmeldungen auf den Webseiten (Sitzungen und Anmeldelinks)"),
        _export_web,
        _erase_web,
    ),
    PersonalDataStore(
        "benachrichtigung",
        N_("Benachrichtigung: Chat oder E-Mail, Adresse der Büroleitung, versandte Einladungen"),
        _export_notifications,
        _erase_notifications,
    ),
    PersonalDataStore(
        "kennungen",
        N_("Ihre Kennungen auf Slack, Matrix und der Konsole"),
        _export_identities,
        _erase_identities,
    ),
    PersonalDataStore(
        "person",
        N_("Ihre Angaben: Name, E-Mail, Kommune, Funktion, Sprache"),
        _export_person,
        _erase_person_row,
    ),
)


def _context(uow: UnitOfWork, person: Person, now: datetime, default_language: str) -> Erasure:
    erasure = Erasure(person, f"Person-{uuid4().hex[:8]}", now, default_language)
    collect_secrets(uow, erasure)
    return erasure


def my_data(uow: UnitOfWork, person: Person) -> dict[str, Any]:
    """Everything stored about ``person``, store by store (keys as in the JSON export)."""
    erasure = _context(uow, person, person.created_at, "de")
    data: dict[str, Any] = {}
    for store in STORES:
        data.update(store.export(uow, erasure))
    return data


def my_data_by_store(uow: UnitOfWork, person: Person) -> list[tuple[PersonalDataStore, int]]:
    """How many records each store holds about ``person`` (for the ``meine-daten`` summary)."""
    erasure = _context(uow, person, person.created_at, "de")
    return [(store, store.count(store.export(uow, erasure))) for store in STORES]


def holds_nothing(uow: UnitOfWork, person: Person) -> bool:
    """Nothing is stored about ``person`` but what first contact keeps (identities, the name
    and handle from the platform profile): an erased person typing "vergessen ja" again, a
    stranger, someone who only ever typed ``hilfe``."""
    if person.is_organiser or person.erased_at is not None:
        return False
    return not uow.participants.of_person(person.id) and _only_profile(uow, person)


def drop_empty(uow: UnitOfWork, person: Person, now: datetime | None = None) -> None:
    """Delete a person who holds nothing (see :func:`holds_nothing`): every store is cleared
    as by ``vergessen`` (an abandoned dialog, their DM room, pacing rows), but no pseudonym is
    kept — the person row goes."""
    erasure = _context(uow, person, now or person.created_at, "de")
    for store in STORES:
        if store.name != "person":
            store.erase(uow, erasure)
            uow.session.flush()
    uow.session.delete(person)
    uow.session.flush()


def my_data_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def forget(
    uow: UnitOfWork,
    person: Person,
    *,
    now: datetime,
    default_language: str,
    settings: Settings | None = None,
) -> str:
    """Withdraw ``person`` everywhere and erase their personal data; returns the pseudonym.
    A freed seat goes to the first on the waitlist (told by their route, see
    :func:`bot.services.registration.fill_free_seat`); with ``settings``, whoever moved up
    also gets the meeting invitations by e-mail
    (:func:`bot.services.invitations.send_for_cohort`)."""
    seats = [p.cohort_id for p in uow.participants.of_person(person.id) if p.status == "confirmed"]
    erasure = _context(uow, person, now, default_language)
    for store in STORES:
        store.erase(uow, erasure)
        uow.session.flush()
    if settings is not None:
        for cohort_id in sorted(set(seats)):
            invitations.send_for_cohort(uow, cohort_id, settings=settings, now=now)
    record(
        uow,
        actor_id=None,
        action="vergessen",
        now=now,
        subject_id=person.id,
        after={"pseudonym": erasure.pseudonym},
    )
    return erasure.pseudonym


def purge_expired(
    uow: UnitOfWork, *, now: datetime, retention_days: int, default_language: str
) -> list[str]:
    """Daily: erase personal data of cohorts that ended more than ``retention_days`` ago."""
    purged = []
    for cohort in uow.session.scalars(select(Cohort).where(Cohort.purged_at.is_(None))):
        ended = end_of(uow, cohort)
        if ended is None or now < ended + timedelta(days=retention_days):
            continue
        for participant in uow.participants.in_cohort(cohort.id):
            person = uow.persons.get(participant.person_id)
            if person is None or person.erased_at is not None or person.is_organiser:
                continue
            if any(
                p.cohort_id != cohort.id and p.status in ("confirmed", "waitlisted", "pending")
                for p in uow.participants.of_person(person.id)
            ):
                continue  # still active in another cohort
            if alumni.keeps_profile(uow, person.id):
                _forget_keeping_alumni(uow, person, now=now, default_language=default_language)
            else:
                forget(uow, person, now=now, default_language=default_language)
        cohort.purged_at = now
        record(
            uow,
            actor_id=None,
            action="aufbewahrung.loeschen",
            now=now,
            cohort_id=cohort.id,
            after={"geloescht": now.isoformat()},
        )
        purged.append(cohort.name)
    return purged


# What an opted-in alumnus keeps past the retention period: the consent, the profile (in
# "vernetzung"), and their name and route (person row, identities, notification, DM rooms).
_ALUMNI_KEEP = frozenset({"alumni", "person", "kennungen", "benachrichtigung", "technisch"})


def _forget_keeping_alumni(
    uow: UnitOfWork, person: Person, *, now: datetime, default_language: str
) -> None:
    """The retention purge for an opted-in alumnus: the cohort's records about them go
    (registrations, votes, feedback, attendance, check-ins, tandems, introductions …), the
    profile and what reaches them stay under their alumni consent."""
    erasure = _context(uow, person, now, default_language)
    for store in STORES:
        if store.name in _ALUMNI_KEEP:
            continue
        if store.name == "vernetzung":
            networking_privacy.erase_person(uow, person.id, erasure.pseudonym, keep_profile=True)
        else:
            store.erase(uow, erasure)
        uow.session.flush()


def purge_never_registered(
    uow: UnitOfWork, *, now: datetime, days: int = NEVER_REGISTERED_DAYS
) -> int:
    """Daily: delete persons who never registered (they typed ``hilfe``, say) and have not been
    seen for ``days``: nothing but their name from the platform profile and their identities
    is kept, and not for longer than that."""
    cutoff = now - timedelta(days=days)
    dropped = 0
    candidates = uow.session.scalars(
        select(Person).where(
            Person.erased_at.is_(None),
            Person.is_organiser.is_(False),
            Person.created_at < cutoff,
        )
    ).all()
    for person in candidates:
        identities = uow.persons.identities_of(person.id)
        if any(i.last_seen_at is not None and i.last_seen_at >= cutoff for i in identities):
            continue
        if uow.participants.of_person(person.id) or not _only_profile(uow, person):
            continue
        if _is_office_contact(uow, person):  # a participant named them: not a stranger
            continue
        drop_empty(uow, person, now)
        dropped += 1
    return dropped


def _is_office_contact(uow: UnitOfWork, person: Person) -> bool:
    found = uow.session.scalar(
        select(Participant.id).where(Participant.delegate_person_id == person.id).limit(1)
    )
    return found is not None


def _only_profile(uow: UnitOfWork, person: Person) -> bool:
    """Nothing but what first contact stores (profile name, handle, language, identities)."""
    erasure = _context(uow, person, person.created_at, "de")
    for store in STORES:
        if store.name in ("person", "kennungen", "technisch", "dialoge"):
            continue  # first contact, and an abandoned "anmelden" dialog
        if store.count(store.export(uow, erasure)):
            return False
    return not (person.email or person.municipality or person.function or person.office_email)
