"""The organiser-only cases of the permission table, as lines to type on any backend.

Derived from ``bot.permissions.PERMISSIONS``: every key whose row allows organisers and refuses
participants, waitlisted people and outsiders. A registered command is typed as its
``CommandSpec.example`` (realistic arguments: the refusal must come before they are used); a
sub-action checked inside a handler (``treffen 1 aendern``) needs a line in ``SUB_ACTIONS`` —
:data:`MISSING` names any that has none, and the backend tests fail on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands import build_registry
from bot.context import Role
from bot.permissions import PERMISSIONS, access, refusal
from bot.router import parse_line

OTHERS: tuple[Role, ...] = ("participant", "waitlisted", "outsider")

# Sub-actions a handler checks with ``bot.permissions.require``; they need meeting 1 to exist.
SUB_ACTIONS = {
    "treffen aendern": 'treffen 1 aendern titel="Umbenannt"',
    "treffen loeschen": "treffen 1 loeschen ja",
    "teilnahme uebersicht": "teilnahme 1 uebersicht",
    "teilnahme schliessen": "teilnahme 1 schliessen",
}


@dataclass(frozen=True)
class Case:
    key: str  # the permission key under test
    role: Role
    line: str  # what the user types (for a form case: the form id)
    resolved: str  # the registered command the line resolves to (the key's parent, or itself)


def organiser_only() -> list[str]:
    return [
        key
        for key, row in PERMISSIONS.items()
        if row["organiser"] == "allowed" and all(row[r] == "refused" for r in OTHERS)
    ]


def _cases() -> tuple[list[Case], list[str]]:
    registry = build_registry()
    examples = {spec.key: spec.example for spec in registry.specs}
    cases: list[Case] = []
    missing: list[str] = []
    for key in organiser_only():
        line = examples.get(key) or SUB_ACTIONS.get(key)
        found = registry.resolve(parse_line(line).tokens) if line else None
        if line is None or found is None:
            missing.append(key)
            continue
        cases += [Case(key, role, line, found[0].key) for role in OTHERS]
    return cases, missing


def _form_cases() -> list[Case]:
    """Every registered form, submitted by each role its command's row refuses."""
    forms = build_registry().forms
    return [
        Case(key, role, form_id, key)
        for form_id, key in sorted(forms.items())
        for role in OTHERS
        if access(key, role) == "refused"
    ]


CASES, MISSING = _cases()
FORM_CASES = _form_cases()


def expected_refusal(case: Case) -> str:
    """The exact refusal: for the parent command if the role may not even run that (an
    outsider typing ``treffen 1 aendern`` is refused ``treffen``), else for the key itself."""
    shown = case.resolved if access(case.resolved, case.role) == "refused" else case.key
    return refusal(shown, case.role).format(command=shown)


def case_id(case: Case) -> str:
    return f"{case.role}:{case.key}"
