"""One person, several platforms: link a Slack and a Matrix identity with a one-time code."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from bot.errors import UserFacingError
from bot.i18n import N_
from storage.models import (
    AuditEntry,
    Dialog,
    FeedbackResponse,
    KeyValue,
    Participant,
    Person,
    PlatformIdentity,
    Reminder,
    Vote,
)
from storage.uow import UnitOfWork

CODE_LIFETIME = timedelta(minutes=15)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_code(uow: UnitOfWork, person: Person, now: datetime) -> str:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    uow.state.put(
        f"link:{code}",
        json.dumps({"person": person.id, "until": (now + CODE_LIFETIME).isoformat()}),
    )
    return code


def redeem(uow: UnitOfWork, person: Person, code: str, now: datetime) -> Person:
    """Merge ``person`` (the one typing the code) into the person who asked for the code."""
    key = f"link:{code.strip().upper()}"
    raw = uow.state.get(key)
    data = json.loads(raw) if raw else None
    if data is None or datetime.fromisoformat(data["until"]) < now:
        raise UserFacingError(
            N_(
                "Diesen Code kenne ich nicht, oder er ist abgelaufen (15 "
                "Minuten). Schreiben Sie „verknuepfen“ auf der anderen "
                "Plattform für einen neuen Code."
            )
        )
    uow.session.execute(delete(KeyValue).where(KeyValue.key == key))
    target = uow.persons.get(int(data["person"]))
    if target is None or target.erased_at is not None:
        raise UserFacingError(N_("Das Konto zu diesem Code gibt es nicht mehr."))
    if target.id == person.id:
        raise UserFacingError(N_("Diese beiden Konten sind bereits verknüpft."))
    _merge(uow, source=person, target=target)
    return target


def _merge(uow: UnitOfWork, *, source: Person, target: Person) -> None:
    s = uow.session
    target_cohorts = {
        p.cohort_id
        for p in uow.participants.of_person(target.id)
        if p.status in ("confirmed", "waitlisted", "pending")
    }
    for p in uow.participants.of_person(source.id):
        if p.cohort_id in target_cohorts and p.status in ("confirmed", "waitlisted", "pending"):
            raise UserFacingError(
                N_(
                    "Beide Konten sind für denselben Jahrgang angemeldet. Bitte "
                    "melden Sie eines zuerst mit „abmelden“ ab."
                )
            )
    # a person votes once: keep the target's ballots where both voted in the same poll
    target_polls = set(s.scalars(select(Vote.poll_id).where(Vote.person_id == target.id)))
    s.execute(delete(Vote).where(Vote.person_id == source.id, Vote.poll_id.in_(target_polls)))
    for model, column in (
        (Vote, Vote.person_id),
        (Reminder, Reminder.person_id),
        (FeedbackResponse, FeedbackResponse.author_person_id),
    ):
        s.execute(update(model).where(column == source.id).values({column.key: target.id}))
    s.execute(
        delete(Participant).where(
            Participant.person_id == source.id, Participant.cohort_id.in_(target_cohorts)
        )
    )
    s.execute(
        update(Participant).where(Participant.person_id == source.id).values(person_id=target.id)
    )
    s.execute(
        update(AuditEntry)
        .where(AuditEntry.actor_person_id == source.id)
        .values(actor_person_id=target.id)
    )
    s.execute(delete(Dialog).where(Dialog.person_id == source.id))
    s.execute(
        update(PlatformIdentity)
        .where(PlatformIdentity.person_id == source.id)
        .values(person_id=target.id)
    )
    for attr in ("display_name", "email", "municipality", "function", "language"):
        if getattr(target, attr) is None:
            setattr(target, attr, getattr(source, attr))
    target.is_organiser = target.is_organiser or source.is_organiser
    s.flush()
    s.delete(source)
    s.flush()
