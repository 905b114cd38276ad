"""A participant's function: free text as typed, suggestions, and one category for statistics."""

from __future__ import annotations

import re

from bot.i18n import N_
from bot.router import fold
from storage.uow import UnitOfWork

# The function is free text (≤ 100 characters, stored as typed: "Oberbürgermeisterin",
# "Kämmerer", "Mayor"); these common ones are suggested in the form and the dialog.
FUNCTIONS = (
    "Bürgermeister/in",
    "Beigeordnete/r",
    "Fachdezernent/in",
    "Kämmerer/in",
    "Stadtplaner/in",
    "Demografiebeauftragte/r",
    "Stabsstelle",
)
FUNCTION_LENGTH = 100
OTHER_FUNCTION = N_("Sonstige")
# For statistics, the typed function → one category: gendered and English forms alike. Folded
# letters only; the first row with a matching part wins, so "Stabsstelle Demografie" is a
# Stabsstelle and "Deputy Mayor" a Beigeordnete/r, not a mayor.
FUNCTION_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (N_("Stabsstelle"), ("stabsstelle", "staffunit", "staffposition")),
    (N_("Beigeordnete/r"), ("beigeordnet", "deputymayor", "alderm", "alderwom")),
    (N_("Bürgermeister/in"), ("buergermeister", "burgermeister", "mayor")),
    (N_("Kämmerer/in"), ("kaemmer", "treasurer", "financedirector")),
    (N_("Fachdezernent/in"), ("dezernent", "baurat", "bauraet", "headofdep", "departmenthead")),
    (N_("Stadtplaner/in"), ("stadtplan", "urbanplann", "cityplann", "townplann")),
    (N_("Demografiebeauftragte/r"), ("demografie", "demographie", "demograph")),
)


def function_category(function: str | None) -> str:
    """The statistics category of a typed function ("Oberbürgermeisterin" → Bürgermeister/in)."""
    letters = re.sub(r"[^a-z]", "", fold(function or ""))
    return next(
        (category for category, parts in FUNCTION_CATEGORIES if any(p in letters for p in parts)),
        OTHER_FUNCTION,
    )


def function_counts(uow: UnitOfWork, cohort_id: int) -> list[tuple[str, int]]:
    """Confirmed participants per function category, most first (for the cohort's overview)."""
    counts: dict[str, int] = {}
    for participant in uow.participants.in_cohort(cohort_id, "confirmed"):
        person = uow.persons.get(participant.person_id)
        category = function_category(person.function if person else None)
        counts[category] = counts.get(category, 0) + 1
    order = [c for c, _parts in FUNCTION_CATEGORIES] + [OTHER_FUNCTION]
    return sorted(counts.items(), key=lambda item: (-item[1], order.index(item[0])))
