"""What a new poll needs (question, 2–20 distinct options, settings) and its validation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import fold

MIN_OPTIONS, MAX_OPTIONS = 2, 20
MAX_QUESTION, MAX_LABEL = 300, 200


@dataclass(frozen=True)
class PollSpec:
    question: str
    options: tuple[str, ...]
    max_choices: int = 1
    anonymous: bool = False
    results_live: bool = True
    host_abstain: bool = False
    closes_at: datetime | None = None


def validate(spec: PollSpec, now: datetime) -> None:
    question = spec.question.strip()
    if not question:
        raise UserFacingError(
            N_('Bitte geben Sie eine Frage an, z. B. umfrage "Welches Thema?" "A" "B".')
        )
    if len(question) > MAX_QUESTION:
        raise UserFacingError(
            N_("Die Frage ist zu lang (höchstens {limit} Zeichen)."), limit=MAX_QUESTION
        )
    if not MIN_OPTIONS <= len(spec.options) <= MAX_OPTIONS:
        raise UserFacingError(
            N_(
                "Eine Umfrage braucht {low} bis {high} Optionen (Sie haben {n} angegeben). "
                'Setzen Sie jede Option in Anführungszeichen: umfrage "Frage?" "A" "B".'
            ),
            low=MIN_OPTIONS,
            high=MAX_OPTIONS,
            n=len(spec.options),
        )
    seen: set[str] = set()
    for label in spec.options:
        if not label.strip():
            raise UserFacingError(N_("Eine Option ist leer. Bitte geben Sie jeder Option Text."))
        if len(label) > MAX_LABEL:
            raise UserFacingError(
                N_("Die Option „{label}…“ ist zu lang (höchstens {limit} Zeichen)."),
                label=label[:40],
                limit=MAX_LABEL,
            )
        key = " ".join(fold(label).split())
        if key in seen:
            raise UserFacingError(
                N_("Die Option „{label}“ steht doppelt da. Bitte jede Option nur einmal."),
                label=label[:80],
            )
        seen.add(key)
    if not 1 <= spec.max_choices <= len(spec.options):
        raise UserFacingError(
            N_("mehrfach= muss zwischen 1 und {n} liegen (der Zahl der Optionen)."),
            n=len(spec.options),
        )
    if spec.closes_at is not None and spec.closes_at <= now:
        raise UserFacingError(N_("Der Schluss der Umfrage liegt in der Vergangenheit."))
