"""The participants page: filter and sort the cohort's registrations, read a typed form.

The list is :func:`bot.services.web_overview.registrations` (one query, the chat's order);
seat and waitlist numbers are counted before filtering, so a filtered list still shows each
person's real place in the queue. Filters come from the page's GET query; an unknown value
is refused with a message rather than guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.forms import validate_field
from bot.i18n import N_
from bot.router import fold
from bot.services.functions import FUNCTION_CATEGORIES, FUNCTIONS, OTHER_FUNCTION, function_category
from bot.services.registration import ACTIVE, Details
from bot.services.web_overview import registrations
from bot.views import FormField
from storage.models import Cohort as Cohort  # the handlers' type, re-exported
from storage.models import Participant, Person
from storage.uow import UnitOfWork

SUGGESTED_FUNCTIONS = FUNCTIONS  # the form's suggestions

#: query value → registration statuses
STATUSES: dict[str, tuple[str, ...]] = {
    "bestaetigt": ("confirmed",),
    "warteliste": ("waitlisted",),
    "angefragt": ("pending",),
}
SORTS = ("anmeldung", "name", "kommune", "funktion")
CATEGORIES = (*(c for c, _parts in FUNCTION_CATEGORIES), OTHER_FUNCTION)
MAX_TEXT = 100
#: the form's fields (the registration's: name, municipality, function, e-mail, office)
FIELDS = ("name", "kommune", "funktion", "email", "bueroleitung")


@dataclass(frozen=True)
class Listing:
    status: str = ""  # "" all active registrations, else a key of STATUSES
    function: str = ""  # "" any, else one of CATEGORIES
    text: str = ""  # part of the name or the municipality
    sort: str = "anmeldung"

    @property
    def filtered(self) -> bool:
        return bool(self.status or self.function or self.text)


@dataclass(frozen=True)
class Entry:
    participant: Participant
    person: Person
    place: int  # seat number (confirmed) or waitlist place (waitlisted and pending together)


def listing_from(query: Mapping[str, str]) -> Listing:
    """The filter from the page's query; an unknown value raises UserFacingError."""
    status = query.get("status", "").strip()
    function = query.get("funktion", "").strip()
    text = " ".join(query.get("suche", "").split())
    sort = query.get("sortierung", "").strip() or "anmeldung"
    if status and status not in STATUSES:
        raise UserFacingError(
            N_("Unbekannter Status „{value}“. Möglich: bestätigt, Warteliste, angefragt."),
            value=status[:40],
        )
    if function and function not in CATEGORIES:
        raise UserFacingError(
            N_("Unbekannte Funktion „{value}“. Bitte wählen Sie aus der Liste."),
            value=function[:40],
        )
    if sort not in SORTS:
        raise UserFacingError(
            N_("Unbekannte Sortierung „{value}“. Bitte wählen Sie aus der Liste."),
            value=sort[:40],
        )
    if len(text) > MAX_TEXT:
        raise UserFacingError(
            N_("Der Suchtext ist zu lang (höchstens {limit} Zeichen)."), limit=MAX_TEXT
        )
    return Listing(status, function, text, sort)


def entries(uow: UnitOfWork, cohort: Cohort, listing: Listing) -> list[Entry]:
    """Active registrations (confirmed, waitlisted, pending) that match, sorted."""
    wanted = STATUSES.get(listing.status, ("confirmed", "waitlisted", "pending"))
    needle = fold(listing.text)
    out = []
    for participant, person, place in registrations(uow, cohort):
        if participant.status not in wanted:
            continue
        if listing.function and function_category(person.function) != listing.function:
            continue
        haystack = fold(f"{person.display_name or ''} {person.municipality or ''}")
        if needle and needle not in haystack:
            continue
        out.append(Entry(participant, person, place))
    key: dict[str, Callable[[Entry], str]] = {
        "name": lambda e: fold(e.person.display_name or ""),
        "kommune": lambda e: fold(e.person.municipality or ""),
        "funktion": lambda e: fold(e.person.function or ""),
    }
    if listing.sort in key:
        out.sort(key=key[listing.sort])  # stable: registration order among equals
    return out


def _fields(translate: Callable[[str], str]) -> tuple[FormField, ...]:
    return (
        FormField("name", translate(N_("Name")), max_length=200),
        FormField("kommune", translate(N_("Kommune")), max_length=200),
        FormField("funktion", translate(N_("Funktion")), max_length=100, options=FUNCTIONS),
        FormField("email", translate(N_("E-Mail")), kind="email", max_length=254),
        FormField("bueroleitung", translate(N_("Büroleitung")), required=False, max_length=200),
    )


def details_from(form: Mapping[str, str], translate: Callable[[str], str]) -> Details:
    """The typed form as registration details, checked like the chat's fields."""
    clean = {f.name: validate_field(f, form.get(f.name)) or "" for f in _fields(translate)}
    return Details(
        clean["name"],
        clean["kommune"],
        clean["funktion"],
        clean["email"],
        clean["bueroleitung"] or None,
    )


def typed(form: Mapping[str, str]) -> dict[str, str]:
    """What was typed, to show the form again after a refusal."""
    return {name: form.get(name, "")[:300] for name in FIELDS}


def current(participant: Participant, person: Person) -> dict[str, str]:
    """A registration's details as the edit form's initial values."""
    return {
        "name": person.display_name or "",
        "kommune": person.municipality or "",
        "funktion": person.function or "",
        "email": person.email or "",
        "bueroleitung": participant.office_contact or "",
    }


Registration = tuple[Participant, Person]


def registered(uow: UnitOfWork, cohort: Cohort, person_id: int | None) -> Registration:
    """The active registration of ``person_id`` in ``cohort``; anyone else is NotFound-like."""
    person = uow.persons.get(person_id) if person_id else None
    participant = uow.participants.get(cohort.id, person.id) if person is not None else None
    if person is None or participant is None or participant.status not in ACTIVE:
        raise UserFacingError(N_("Diese Person ist in diesem Jahrgang nicht angemeldet."))
    return participant, person
