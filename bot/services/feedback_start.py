"""Reading ``feedback starten titel=… fuer=… bis=… [anonym] [fragen=…|…]`` into a request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.dates import parse_deadline
from bot.errors import NotFound, UserFacingError
from bot.i18n import N_
from bot.people import resolve_person
from bot.router import fold
from storage.models import Cohort, FeedbackRound, Person
from storage.ports import UnitOfWorkPort

MAX_QUESTIONS = 8
MAX_QUESTION = 300
MAX_TITLE = 200
FLAGS = {"anonym", "anonymous"}
YES = {"ja", "yes", "true", "1"}
EXAMPLE = 'feedback starten titel="Quartiersentwicklung" fuer=Musterstadt bis="Freitag 18 Uhr"'


@dataclass(frozen=True)
class RoundRequest:
    title: str
    presenters: list[Person]
    subject: str | None  # the municipality, when the round is for one
    closes_at: datetime
    anonymous: bool
    questions: list[str] | None  # None: the default guiding questions


def _option(options: dict[str, str], *keys: str) -> str:
    return next((options[k] for k in keys if options.get(k)), "").strip()


def read_request(
    uow: UnitOfWorkPort,
    cohort: Cohort,
    options: dict[str, str],
    args: list[str],
    *,
    platform: str,
    now: datetime,
    timezone: str,
) -> RoundRequest:
    flags = {fold(a) for a in args} & FLAGS
    rest = [a for a in args if fold(a) not in FLAGS]
    title = _option(options, "titel", "title") or (rest.pop(0).strip() if rest else "")
    if rest:
        raise UserFacingError(
            N_("„{word}“ verstehe ich hier nicht. Beispiel: {example}"),
            word=rest[0][:40],
            example=EXAMPLE,
        )
    if not title or len(title) > MAX_TITLE:
        raise UserFacingError(
            N_(
                "Bitte geben Sie einen Titel an (höchstens 200 Zeichen), z. B. "
                'titel="Quartiersentwicklung Musterstadt".'
            )
        )
    who = _option(options, "fuer", "for")
    if not who:
        raise UserFacingError(
            N_("Für wen ist die Runde? Nennen Sie fuer=@person oder fuer=KOMMUNE.")
        )
    when = _option(options, "bis", "until", "frist", "deadline")
    if not when:
        raise UserFacingError(N_('Bis wann? Geben Sie die Frist an, z. B. bis="Freitag 18 Uhr".'))
    closes_at = parse_deadline(when, now=now, tz=timezone)
    presenters, subject = _presenters(uow, cohort, who, platform)
    anonymous = bool(flags) or fold(_option(options, "anonym", "anonymous")) in YES
    questions = _questions(options["fragen"] if "fragen" in options else options.get("questions"))
    return RoundRequest(title, presenters, subject, closes_at, anonymous, questions)


def _questions(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    items = [q.strip() for q in raw.split("|") if q.strip()]
    if not items or len(items) > MAX_QUESTIONS or any(len(q) > MAX_QUESTION for q in items):
        raise UserFacingError(
            N_(
                "Fragen bitte mit | trennen: 1 bis {max} Fragen, je höchstens {limit} Zeichen, "
                'z. B. fragen="Was überzeugt?|Was fehlt?".'
            ),
            max=MAX_QUESTIONS,
            limit=MAX_QUESTION,
        )
    return items


def _presenters(
    uow: UnitOfWorkPort, cohort: Cohort, who: str, platform: str
) -> tuple[list[Person], str | None]:
    """A person (mention, identity, exact name), else every confirmed participant of the
    municipality of that name."""
    try:
        return [resolve_person(uow, who, platform)], None
    except NotFound:
        if who.startswith("@"):
            raise
    towns: dict[str, list[Person]] = {}
    for participant in uow.participants.in_cohort(cohort.id, "confirmed"):
        person = uow.persons.get(participant.person_id)
        if person is not None and person.municipality:
            towns.setdefault(person.municipality, []).append(person)
    match = [name for name in towns if fold(name) == fold(who)]
    if match:
        return towns[match[0]], match[0]
    raise UserFacingError(
        N_(
            "„{name}“ ist weder eine bekannte Person noch eine Kommune des Jahrgangs. "
            "Kommunen: {towns}."
        ),
        name=who[:80],
        towns=", ".join(sorted(towns)) or "–",
    )


def open_twin(
    uow: UnitOfWorkPort, cohort: Cohort, wanted: RoundRequest, default_questions: Sequence[str]
) -> FeedbackRound | None:
    """An open round exactly like ``wanted``: the same command typed again (say, its answer
    was lost). Opening it twice would ask everybody twice."""
    questions = list(wanted.questions or default_questions)
    candidates = uow.feedback_rounds.open_titled(cohort.id, wanted.title)
    for rnd in candidates:
        same = (rnd.subject, rnd.anonymous, rnd.closes_at) == (
            wanted.subject,
            wanted.anonymous,
            wanted.closes_at,
        )
        if same and list(rnd.questions.get("items") or []) == questions:
            return rnd
    return None
