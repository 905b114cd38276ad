"""Profiles: read, edit (with the size-class lookup and tag folding), and the one-time ask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.actions import CommandAction
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking import alumni, places, topics
from bot.networking.ranking import Candidate
from bot.notify import tell
from bot.router import fold
from bot.views import Button
from storage.models import Participant, Person
from storage.models_networking import Profile
from storage.uow import UnitOfWork

STAGES = ("Idee", "Planung", "Umsetzung", "Verstetigung", "Abgeschlossen")
MAX_TOPICS = 10


@dataclass(frozen=True)
class Changes:
    """What ``profil aendern`` may set; None leaves a value as it is, "" clears it."""

    size: str | None = None
    topics: str | None = None
    vorhaben: str | None = None
    goal: str | None = None
    stage: str | None = None


@dataclass(frozen=True)
class Saved:
    profile: Profile
    unknown_place: bool = False  # the size could not be looked up: ask the person to type it
    ambiguous_place: bool = False


def get(uow: UnitOfWork, person_id: int) -> Profile | None:
    return uow.session.get(Profile, person_id)


def _size(text: str) -> str:
    size = places.parse_size(text)
    if size is None:
        raise UserFacingError(
            N_(
                "„{value}“ ist keine Größenklasse. Möglich sind Landgemeinde (unter 5.000 "
                "Einwohner), Kleinstadt (5.000–20.000), Mittelstadt (20.000–100.000), Großstadt "
                "(ab 100.000) – oder die Einwohnerzahl, z. B. groesse=35000."
            ),
            value=text[:40],
        )
    return size


def _stage(text: str) -> str:
    for stage in STAGES:
        if fold(stage) == fold(text.strip()):
            return stage
    raise UserFacingError(
        N_("„{value}“ ist kein Stand. Möglich sind: {stages}."),
        value=text[:40],
        stages=", ".join(STAGES),
    )


def _tags(text: str) -> list[str]:
    tags = topics.parse_tags(text)
    if len(tags) > MAX_TOPICS:
        raise UserFacingError(
            N_("Bitte höchstens {limit} Themen angeben; Sie haben {count} genannt."),
            limit=MAX_TOPICS,
            count=len(tags),
        )
    return tags


def save(uow: UnitOfWork, person: Person, changes: Changes, *, now: datetime) -> Saved:
    """Apply ``changes`` (validated first: nothing is stored when one value is wrong)."""
    size = _size(changes.size) if changes.size else None
    tags = _tags(changes.topics) if changes.topics is not None else None
    stage = _stage(changes.stage) if changes.stage else None
    # Looked up before anything is written: the first lookup of a process reads the place
    # list (~2 s), which must not happen while this transaction holds a write lock.
    found = places.lookup(person.municipality) if person.municipality else places.Lookup(None)
    profile = get(uow, person.id)
    if profile is None:
        profile = Profile(person_id=person.id, topics=[], updated_at=now)
        uow.session.add(profile)
    if size is not None:
        profile.size_class, profile.size_source = size, "angegeben"
    if tags is not None:
        profile.topics = tags
    if changes.vorhaben is not None:
        profile.vorhaben_title = changes.vorhaben.strip()[:200] or None
    if changes.goal is not None:
        profile.vorhaben_goal = changes.goal.strip()[:1000] or None
    if changes.stage is not None:
        profile.vorhaben_stage = stage
    profile.updated_at = now
    if profile.size_source != "angegeben" and found.size is not None:
        profile.size_class, profile.size_source = found.size, "ortsdaten"
    uow.session.flush()
    alumni.refresh_keys(uow, person.id)  # an alumnus is found by the new topics at once
    missing = profile.size_class is None
    return Saved(profile, missing and not found.ambiguous, missing and found.ambiguous)


def visible_to(uow: UnitOfWork, cohort_id: int, person_id: int) -> bool:
    """A confirmed participant of the cohort (the people a member may look up)."""
    row = uow.session.scalar(
        select(Participant).where(
            Participant.cohort_id == cohort_id,
            Participant.person_id == person_id,
            Participant.status == "confirmed",
        )
    )
    return row is not None


def ask_once(uow: UnitOfWork, person: Person, *, now: datetime, default_language: str) -> None:
    """After registration: one DM asking for the profile. The outbox key makes it once per
    person; ignoring it is skipping it (nothing reminds)."""
    if get(uow, person.id) is not None:
        return
    tell(
        uow,
        person,
        N_(
            "Eine kurze Frage zum Schluss (freiwillig): Möchten Sie Ihr Profil ausfüllen? "
            "Ihre Themen und Ihr Vorhaben für dieses Jahr helfen den anderen im Jahrgang, Sie "
            "zu finden („wer kennt sich aus mit …“). Zum Beispiel: profil aendern "
            'themen="Pflege, Mobilität" vorhaben="Seniorenbüro im Rathaus" stand=Planung'
        ),
        now=now,
        default_language=default_language,
        key=f"profile-ask:{person.id}",
        buttons=(Button(N_("Profil ausfüllen"), CommandAction("profil aendern"), "primary"),),
        note=N_(
            "Sichtbar für Ihren Jahrgang und das Programmteam; „meine-daten“ zeigt es, "
            "„vergessen“ löscht es. Überspringen: diese Nachricht einfach ignorieren."
        ),
    )


def candidate_of(person: Person, profile: Profile) -> Candidate:
    """The ranking's view of a person: what they bring and what they work on."""
    vorhaben = " ".join(t for t in (profile.vorhaben_title, profile.vorhaben_goal) if t)
    return Candidate(
        person.id,
        person.display_name or "?",
        person.municipality,
        tuple(str(t) for t in profile.topics),
        vorhaben,
    )


def of_cohort(uow: UnitOfWork, cohort_id: int) -> list[tuple[Person, Profile]]:
    """The confirmed participants of a cohort who have a profile."""
    rows = uow.session.execute(
        select(Person, Profile)
        .join(Participant, Participant.person_id == Person.id)
        .join(Profile, Profile.person_id == Person.id)
        .where(Participant.cohort_id == cohort_id, Participant.status == "confirmed")
        .where(Person.erased_at.is_(None))
    )
    return [(person, profile) for person, profile in rows]
