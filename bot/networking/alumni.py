"""The alumni circle: former participants who said ``alumni ja`` when their cohort closed (and,
later, contacts of the former network imported with consent). Their profile outlives the
cohort's retention period; ``alumni nein`` and ``vergessen`` remove them at once.

``wer kennt sich aus`` finds alumni through precomputed folded topic keys (table
``alumni_topic_keys``, indexed), so that a question reads only the alumni who match instead of
ranking every alumni profile in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.actions import CommandAction
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking.ranking import Candidate, Match, Strength, query_keys
from bot.networking.topics import CURATED, canonical, fold_key, key, words_for
from bot.notify import tell
from bot.views import Button
from storage.models import Cohort, Participant, Person
from storage.models_alumni import Alumnus
from storage.models_networking import Profile
from storage.ports import UnitOfWorkPort
from storage.repositories_alumni import AlumniRepository
from storage.uow import UnitOfWork

# The curated topics with the folded words that name them in a Vorhaben (five letters and more,
# as in the ranking: "Land" would be found in "Landkreis").
_VORHABEN_WORDS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (topic, frozenset(k for k in (key(w) for w in words_for(topic)) if len(k) >= 5))
    for topic in CURATED
)


def repo(uow: UnitOfWork) -> AlumniRepository:
    return AlumniRepository(uow.session)


def topic_keys(topics: list[str] | tuple[str, ...], vorhaben: str) -> list[tuple[str, str, str]]:
    """(key, kind, tag) rows for a profile: each tag as typed, the curated topic it folds onto,
    and each curated topic its Vorhaben names."""
    rows: dict[tuple[str, str], str] = {}
    for tag in topics:
        tag = str(tag)
        rows.setdefault((key(tag), "tag"), tag)
        rows.setdefault((key(canonical(tag)[0]), "topic"), tag)
    text = fold_key(vorhaben) if vorhaben else ""
    if text:
        for topic, words in _VORHABEN_WORDS:
            if any(word in text for word in words):
                rows.setdefault((key(topic), "vorhaben"), topic)
    return [(k, kind, tag) for (k, kind), tag in rows.items() if k]


def refresh_keys(uow: UnitOfWork, person_id: int) -> None:
    """Rebuild an alumnus' keys from their profile (after ``profil aendern``); nothing for
    anyone else."""
    alumnus = repo(uow).of_person(person_id)
    if alumnus is None:
        return
    profile = uow.session.get(Profile, person_id)
    topics = [str(t) for t in profile.topics] if profile is not None else []
    vorhaben = (
        " ".join(t for t in (profile.vorhaben_title, profile.vorhaben_goal) if t)
        if profile is not None
        else ""
    )
    repo(uow).replace_keys(alumnus.id, topic_keys(topics, vorhaben))


def matches(uow: UnitOfWork, query: str, *, exclude: set[int], limit: int = 10) -> list[Match]:
    """The ``limit`` consenting alumni who match ``query`` best, each with their strongest
    match; people in ``exclude`` (the asker, the cohort's current participants) are left out.
    The database does the matching on the precomputed keys (an index lookup, not a scan)."""
    asked, topic_key = query_keys(query)
    found = []
    for hit, level in repo(uow).best_by_keys(asked, topic_key, exclude=exclude, limit=limit):
        candidate = Candidate(
            hit.person_id or 0,
            hit.name,
            hit.municipality,
            (),
            "",
            alumnus=True,
            alumni_year=hit.year,
        )
        found.append(Match(candidate, Strength(level), hit.tag))
    return found


# -- consent ------------------------------------------------------------------------------------


def _year(cohort: Cohort, tz: ZoneInfo) -> int:
    ended = cohort.ended_at or cohort.created_at
    return ended.astimezone(tz).year


def ask_at_close(
    uow: UnitOfWorkPort, cohort: Cohort, *, now: datetime, default_language: str
) -> int:
    """When a cohort closes: ask each confirmed participant once whether to join the alumni
    circle (buttons Ja/Nein; typed: ``alumni ja`` / ``alumni nein``). Returns how many asked."""
    asked = 0
    for participant in uow.participants.in_cohort(cohort.id, "confirmed"):
        person = uow.persons.get(participant.person_id)
        if person is None or person.erased_at is not None:
            continue
        tell(
            uow,
            person,
            N_(
                "Der Jahrgang „{cohort}“ ist abgeschlossen. Möchten Sie im Alumni-Kreis des "
                "Stadtlabors bleiben? Dann bleibt Ihr Profil (Themen, Vorhaben) über die "
                "Löschfrist hinaus erhalten, andere Jahrgänge finden Sie über „wer kennt sich "
                "aus“, und das Programmteam kann Sie zu offenen Treffen und in den Alumni-Raum "
                "einladen."
            ),
            now=now,
            default_language=default_language,
            key=f"alumni-ask:{cohort.id}:{person.id}",
            buttons=(
                Button(N_("Ja"), CommandAction("alumni", ("ja",), person.id), "primary"),
                Button(N_("Nein"), CommandAction("alumni", ("nein",), person.id)),
            ),
            note=N_(
                "Freiwillig und jederzeit widerrufbar: „alumni nein“ oder „vergessen“ löscht "
                "Ihren Alumni-Eintrag und Ihr Profil. Ohne Antwort wird Ihr Profil mit den "
                "übrigen Daten des Jahrgangs gelöscht."
            ),
            cohort=cohort.name,
        )
        asked += 1
    return asked


def _closed_cohort_of(uow: UnitOfWork, person_id: int) -> Cohort | None:
    """The most recently closed cohort the person was a confirmed participant of."""
    return uow.session.scalar(
        select(Cohort)
        .join(Participant, Participant.cohort_id == Cohort.id)
        .where(
            Participant.person_id == person_id,
            Participant.status == "confirmed",
            Cohort.ended_at.is_not(None),
        )
        .order_by(Cohort.ended_at.desc(), Cohort.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class State:
    alumnus: Alumnus | None
    eligible: bool  # a closed cohort to join from


def state(uow: UnitOfWork, person: Person) -> State:
    alumnus = repo(uow).of_person(person.id)
    return State(alumnus, alumnus is not None or _closed_cohort_of(uow, person.id) is not None)


def opt_in(uow: UnitOfWork, person: Person, *, now: datetime, tz: ZoneInfo) -> Alumnus:
    """``alumni ja``: join (or stay in) the circle; only after a closed cohort."""
    found = repo(uow).of_person(person.id)
    if found is not None:
        return found
    cohort = _closed_cohort_of(uow, person.id)
    if cohort is None:
        raise UserFacingError(
            N_(
                "Dem Alumni-Kreis können Sie beitreten, sobald Ihr Jahrgang abgeschlossen ist. "
                "Bis dahin finden Sie Ihren Jahrgang mit „wer kennt sich aus“."
            )
        )
    alumnus = Alumnus(
        person_id=person.id,
        cohort_id=cohort.id,
        cohort_name=cohort.name,
        year=_year(cohort, tz),
        topics=[],
        consent="ja",
        consent_at=now,
        source="cohort",
    )
    repo(uow).add(alumnus)
    refresh_keys(uow, person.id)
    return alumnus


def opt_out(uow: UnitOfWork, person: Person) -> bool:
    """``alumni nein``: the row and its keys go; the profile goes with the cohort's data (at
    once when the cohort's retention period is over). True when there was a row."""
    alumnus = repo(uow).of_person(person.id)
    if alumnus is None:
        return False
    repo(uow).remove(alumnus)
    return True


def keeps_profile(uow: UnitOfWork, person_id: int) -> bool:
    """An opted-in alumnus: the retention purge keeps their profile and how to reach them."""
    alumnus = repo(uow).of_person(person_id)
    return alumnus is not None and alumnus.consent == "ja"


# -- personal data (bot.services.privacy) ------------------------------------------------------


def export_person(uow: UnitOfWork, person_id: int) -> dict[str, Any]:
    alumnus = repo(uow).of_person(person_id)
    if alumnus is None:
        return {}
    return {
        "alumni": {
            "jahrgang": alumnus.cohort_name,
            "jahr": alumnus.year,
            "einwilligung": alumnus.consent,
            "einwilligung_am": alumnus.consent_at.isoformat(),
            "quelle": alumnus.source,
        }
    }


def erase_person(uow: UnitOfWork, person_id: int, pseudonym: str) -> None:
    alumnus = repo(uow).of_person(person_id)
    if alumnus is not None:
        repo(uow).remove(alumnus)


def retention_over(uow: UnitOfWork, person_id: int) -> bool:
    """Every cohort the person was registered in has been purged: only the alumni consent
    kept their data, and without it nothing may stay."""
    cohorts = {p.cohort_id for p in uow.participants.of_person(person_id)}
    if not cohorts:
        return False
    return all(
        (cohort := uow.cohorts.get(cohort_id)) is not None and cohort.purged_at is not None
        for cohort_id in cohorts
    )
