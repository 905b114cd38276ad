"""Data protection (DSGVO): access (Art. 15), rectification (Art. 16), erasure (Art. 17) and
retention. Votes in anonymous polls and anonymous feedback never show who wrote them."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from typing import Any, Protocol, cast
from uuid import uuid4

from sqlalchemy import delete, select, update

from bot.networking import privacy as networking_privacy
from bot.outbox import enqueue
from bot.scheduling import service as scheduling_service
from bot.services import attendance, poll_privacy
from bot.services import feedback as feedback_service
from bot.services.audit import record
from bot.services.cohorts import end_of
from bot.services.registration import fill_free_seat
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
    Vote,
)
from storage.uow import UnitOfWork


class PersonalData(Protocol):
    """What every feature that stores personal data provides (Art. 15 and 17)."""

    def export_person(self, uow: UnitOfWork, person_id: int) -> dict[str, Any]: ...

    def erase_person(self, uow: UnitOfWork, person_id: int, pseudonym: str) -> None: ...


FEATURES: tuple[PersonalData, ...] = (
    cast(PersonalData, attendance),
    cast(PersonalData, poll_privacy),
    cast(PersonalData, feedback_service),
    cast(PersonalData, scheduling_service),
    cast(PersonalData, networking_privacy),
)


def my_data(uow: UnitOfWork, person: Person) -> dict[str, Any]:
    """Everything stored about ``person``."""
    s = uow.session
    cohorts = {c.id: c.name for c in s.scalars(select(Cohort))}
    registrations = [
        {
            "jahrgang": cohorts.get(p.cohort_id),
            "status": p.status,
            "gastgeber": p.is_host,
            "angemeldet": p.registered_at.isoformat(),
            "einwilligung": p.consent_at.isoformat() if p.consent_at else None,
            "bueroleitung": p.office_contact,
        }
        for p in uow.participants.of_person(person.id)
    ]
    feedback = [
        {"runde": rnd.title, "antworten": resp.answers, "abgegeben": resp.submitted_at.isoformat()}
        for resp, rnd in s.execute(
            select(FeedbackResponse, FeedbackRound)
            .join(FeedbackRound, FeedbackRound.id == FeedbackResponse.round_id)
            .where(FeedbackResponse.author_person_id == person.id)
        )
        if not rnd.anonymous
    ]
    data: dict[str, Any] = {
        "person": {
            "name": person.display_name,
            "email": person.email,
            "kommune": person.municipality,
            "funktion": person.function,
            "sprache": person.language,
            "organisation": person.is_organiser,
            "erfasst": person.created_at.isoformat(),
        },
        "kennungen": [
            f"{i.platform}:{i.external_id}" for i in uow.persons.identities_of(person.id)
        ],
        "anmeldungen": registrations,
        "feedback": feedback,
    }
    for feature in FEATURES:
        data.update(feature.export_person(uow, person.id))
    return data


def holds_nothing(uow: UnitOfWork, person: Person) -> bool:
    """Nothing is stored about ``person`` but the identity this very request came with (an
    erased person typing "vergessen ja" again, or a stranger)."""
    if person.is_organiser or person.erased_at is not None:
        return False
    data = my_data(uow, person)
    details = {k: v for k, v in data.pop("person").items() if k != "erfasst"}
    data.pop("kennungen")
    return not any(details.values()) and not any(data.values())


def drop_empty(uow: UnitOfWork, person: Person) -> None:
    """Delete a person who holds nothing (see :func:`holds_nothing`): no pseudonym is kept."""
    uow.session.execute(delete(PlatformIdentity).where(PlatformIdentity.person_id == person.id))
    uow.session.delete(person)
    uow.session.flush()


def my_data_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def forget(uow: UnitOfWork, person: Person, *, now: datetime, default_language: str) -> str:
    """Withdraw ``person`` everywhere and erase their personal data; returns the pseudonym."""
    secrets = _secrets_of(uow, person)
    for participant in uow.participants.of_person(person.id):
        had_seat = participant.status == "confirmed"
        participant.status, participant.is_host = "erased", False
        participant.office_contact, participant.updated_at = None, now
        cohort = uow.cohorts.get(participant.cohort_id)
        if had_seat and cohort is not None and cohort.ended_at is None:
            uow.session.flush()
            fill_free_seat(uow, cohort, now, default_language)
    pseudonym = f"Person-{uuid4().hex[:8]}"
    for feature in FEATURES:
        feature.erase_person(uow, person.id, pseudonym)
    _scrub(uow, person, secrets, pseudonym, now)
    record(
        uow,
        actor_id=None,
        action="vergessen",
        now=now,
        subject_id=person.id,
        after={"pseudonym": pseudonym},
    )
    return pseudonym


def _secrets_of(uow: UnitOfWork, person: Person) -> list[str]:
    values = [person.display_name, person.email]
    for ident in uow.persons.identities_of(person.id):
        values += [f"{ident.platform}:{ident.external_id}", ident.external_id, ident.handle]
    return sorted({v for v in values if v and len(v) >= 3}, key=len, reverse=True)


def _scrub(
    uow: UnitOfWork, person: Person, secrets: list[str], pseudonym: str, now: datetime
) -> None:
    s = uow.session
    pid = person.id
    s.execute(update(Vote).where(Vote.person_id == pid).values(person_id=None))
    s.execute(
        update(FeedbackResponse)
        .where(FeedbackResponse.author_person_id == pid)
        .values(author_person_id=None)
    )
    s.execute(delete(Reminder).where(Reminder.person_id == pid))
    dialog = uow.dialogs.of_person(pid)
    if dialog is not None:
        uow.dialogs.remove(dialog)
    s.execute(
        update(Participant)
        .where(Participant.delegate_person_id == pid)
        .values(delegate_person_id=None)
    )
    for entry in s.scalars(select(AuditEntry)):
        entry.before = _redact(entry.before, secrets, pseudonym)
        entry.after = _redact(entry.after, secrets, pseudonym)
    for row in s.scalars(select(OutboxMessage)):
        _scrub_outbox_row(uow, row, secrets, pseudonym, now)
    s.execute(delete(PlatformIdentity).where(PlatformIdentity.person_id == pid))
    person.display_name = person.email = person.municipality = person.function = None
    person.language, person.is_organiser = None, False
    person.pseudonym, person.erased_at = pseudonym, now
    s.flush()


def _scrub_outbox_row(
    uow: UnitOfWork, row: OutboxMessage, secrets: list[str], pseudonym: str, now: datetime
) -> None:
    text = json.dumps([row.target, row.payload, row.result], ensure_ascii=False)
    if row.payload.get("content_b64"):  # files (exports) are base64: look inside
        text += base64.b64decode(row.payload["content_b64"]).decode("utf-8", "replace")
    if not secrets or not _secret_pattern(secrets).search(text):
        return
    if row.payload.get("content_b64"):
        row.payload = {**row.payload, "content_b64": ""}
    if row.status != "sent":
        row.status, row.error = "cancelled", "erased (Art. 17)"
    elif row.operation == "post" and row.result:
        # Our own post named the person: edit it on the platform to show the pseudonym.
        enqueue(
            uow,
            key=f"erase-edit:{row.id}",
            platform=row.platform,
            operation="update",
            target={"channel_id": row.result["channel_id"], "message_id": row.result["message_id"]},
            now=now,
            message=None,
        )
        edit = uow.outbox.get_by_key(f"erase-edit:{row.id}")
        if edit is not None:
            edit.payload = _redact(row.payload, secrets, pseudonym) or {}
    to_them = row.operation in ("dm", "file") and row.target.get("identity") in secrets
    row.result = _redact(row.result, secrets, pseudonym)
    row.target = _redact(row.target, secrets, pseudonym) or {}
    # What was sent to them privately (their data export, reminders) is theirs: drop it all.
    row.payload = {} if to_them else _redact(row.payload, secrets, pseudonym) or {}


def _secret_pattern(secrets: list[str]) -> re.Pattern[str]:
    """Whole names, e-mails and identities only: erasing "ben" must not touch "geben"."""
    escaped = [re.escape(json.dumps(secret, ensure_ascii=False)[1:-1]) for secret in secrets]
    return re.compile(r"(?<![\w@.-])(?:" + "|".join(escaped) + r")(?![\w@-]|\.\w)")


def _redact(value: Any, secrets: list[str], pseudonym: str) -> Any:
    if value is None or not secrets:
        return value
    text = json.dumps(value, ensure_ascii=False)
    return json.loads(_secret_pattern(secrets).sub(pseudonym, text))


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
