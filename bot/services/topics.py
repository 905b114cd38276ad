"""Topic proposals for the host-city visit: propose, list, merge duplicates, withdraw.

Topics are numbered within the cohort. Merging keeps the first topic and marks the others
``zusammengefuehrt`` (their proposers are listed with the kept one); withdrawn topics stay
stored (the proposer can see them in ``meine-daten``) but are no longer listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import NotFound, UserFacingError
from bot.i18n import N_
from bot.notify import tell
from bot.router import fold
from bot.services.audit import record
from storage.models import Cohort, Person
from storage.models_polls import Topic
from storage.ports import UnitOfWorkPort

MAX_TITLE, MAX_DESCRIPTION = 200, 1000
OPEN = "offen"


@dataclass(frozen=True)
class TopicRow:
    topic: Topic
    proposers: list[str]  # the proposer, then those of merged duplicates


def _key(title: str) -> str:
    return " ".join(fold(title).split())


def get_topic(uow: UnitOfWorkPort, cohort_id: int, number: int) -> Topic:
    topic = uow.topics.get(cohort_id, number)
    if topic is None:
        raise NotFound(
            N_("Einen Themenvorschlag {number} gibt es nicht. „themen“ zeigt alle."),
            number=number,
        )
    return topic


def open_topic(uow: UnitOfWorkPort, cohort_id: int, number: int) -> Topic:
    topic = get_topic(uow, cohort_id, number)
    if topic.status != OPEN:
        raise UserFacingError(
            N_("Thema {number} ist nicht mehr offen (zusammengeführt oder zurückgezogen)."),
            number=number,
        )
    return topic


def topics_of(uow: UnitOfWorkPort, cohort_id: int, *statuses: str) -> list[Topic]:
    return uow.topics.of_cohort(cohort_id, *statuses)


def propose(
    uow: UnitOfWorkPort,
    *,
    cohort: Cohort,
    person: Person,
    title: str,
    description: str | None,
    now: datetime,
) -> Topic:
    title = " ".join(title.split())
    if not title:
        raise UserFacingError(
            N_('Bitte nennen Sie das Thema, z. B. thema vorschlagen "Mehrgenerationenwohnen".')
        )
    if len(title) > MAX_TITLE:
        raise UserFacingError(
            N_(
                "Der Titel ist zu lang (höchstens {limit} Zeichen); Details passen in "
                'beschreibung="…".'
            ),
            limit=MAX_TITLE,
        )
    if description and len(description) > MAX_DESCRIPTION:
        raise UserFacingError(
            N_("Die Beschreibung ist zu lang (höchstens {limit} Zeichen)."), limit=MAX_DESCRIPTION
        )
    uow.cohorts.lock_for_seats(cohort.id)  # serialises numbering (PostgreSQL row lock)
    for existing in topics_of(uow, cohort.id, OPEN):
        if _key(existing.title) == _key(title):
            raise UserFacingError(
                N_("Dieses Thema ist schon vorgeschlagen (Nr. {number}). „themen“ zeigt alle."),
                number=existing.number,
            )
    highest = uow.topics.highest_number(cohort.id)
    topic = Topic(
        cohort_id=cohort.id,
        number=highest + 1,
        title=title,
        description=(description or "").strip() or None,
        proposed_by_person_id=person.id,
        status=OPEN,
        created_at=now,
    )
    uow.topics.add(topic)
    return topic


def _name(uow: UnitOfWorkPort, person_id: int | None, cohort_id: int, host_label: str) -> str:
    person = uow.persons.get(person_id) if person_id else None
    if person is None or person.erased_at is not None:
        return "—"
    name = person.display_name or "?"
    participant = uow.participants.get(cohort_id, person.id)
    if participant is not None and participant.is_host:
        name += f" ({host_label})"
    elif person.municipality:
        name += f" ({person.municipality})"
    return name


def listing(
    uow: UnitOfWorkPort, cohort_id: int, host_label: str = "Gastgeberstadt"
) -> list[TopicRow]:
    """Open topics with who proposed them (merged duplicates' proposers included).

    Host-city members are marked with ``host_label``, others with their municipality.
    """
    merged: dict[int, list[Topic]] = {}
    for topic in topics_of(uow, cohort_id, "zusammengefuehrt"):
        if topic.merged_into_number is not None:
            merged.setdefault(topic.merged_into_number, []).append(topic)
    rows = []
    for topic in topics_of(uow, cohort_id, OPEN):
        names = [_name(uow, topic.proposed_by_person_id, cohort_id, host_label)]
        for dup in merged.get(topic.number, []):
            name = _name(uow, dup.proposed_by_person_id, cohort_id, host_label)
            if name not in names:
                names.append(name)
        rows.append(TopicRow(topic, names))
    return rows


def merge(
    uow: UnitOfWorkPort,
    *,
    cohort: Cohort,
    keep: int,
    others: list[int],
    actor_id: int,
    now: datetime,
) -> Topic:
    if not others:
        raise UserFacingError(
            N_("Bitte nennen Sie mindestens zwei Themen, z. B. themen zusammenfuehren 3 7.")
        )
    if keep in others:
        raise UserFacingError(N_("Ein Thema kann nicht mit sich selbst zusammengeführt werden."))
    kept = open_topic(uow, cohort.id, keep)
    for number in others:
        dup = open_topic(uow, cohort.id, number)
        dup.status, dup.merged_into_number = "zusammengefuehrt", kept.number
        if dup.description and not kept.description:
            kept.description = dup.description
    record(
        uow,
        actor_id=actor_id,
        action="themen.zusammenfuehren",
        now=now,
        cohort_id=cohort.id,
        after={"thema": keep, "zusammengefuehrt": others},
    )
    return kept


def withdraw(
    uow: UnitOfWorkPort,
    *,
    cohort: Cohort,
    numbers: list[int],
    actor_id: int,
    now: datetime,
    default_language: str,
) -> list[Topic]:
    if not numbers:
        raise UserFacingError(N_("Welches Thema? Z. B. themen zurueckziehen 5."))
    topics = [open_topic(uow, cohort.id, n) for n in numbers]
    for topic in topics:
        topic.status = "zurueckgezogen"
        proposer = uow.persons.get(topic.proposed_by_person_id or 0)
        if proposer is not None and proposer.id != actor_id and proposer.erased_at is None:
            tell(
                uow,
                proposer,
                N_(
                    "Ihr Themenvorschlag {number} „{title}“ wurde vom Programmteam "
                    "zurückgezogen, weil er nicht zum Besuch passt. Fragen dazu gern an das "
                    "Programmteam."
                ),
                now=now,
                default_language=default_language,
                key=f"topic-withdrawn:{topic.id}",
                number=topic.number,
                title=topic.title,
            )
    record(
        uow,
        actor_id=actor_id,
        action="themen.zurueckziehen",
        now=now,
        cohort_id=cohort.id,
        after={"themen": numbers},
    )
    return topics


def for_poll(uow: UnitOfWorkPort, cohort_id: int, numbers: list[int]) -> list[Topic]:
    """The open topics ``numbers`` in the order given (duplicates removed)."""
    unique = list(dict.fromkeys(numbers))
    return [open_topic(uow, cohort_id, n) for n in unique]
