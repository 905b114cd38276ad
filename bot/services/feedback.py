"""Collegial feedback rounds: open, answer (named or anonymous), remind, close, export.

Anonymous rounds: an answer's author (``FeedbackResponse.author_person_id``) is kept only so that
the author can edit it and is not reminded; it is never rendered, exported or logged, and it is
set to NULL when the round closes, when the rows are also re-written (see
:func:`bot.services.feedback_close.seal`). Answers are published in shuffled batches of at least
``settings.anonymity_threshold``; fewer answers than that at close are passed to nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.errors import UserFacingError
from bot.i18n import N_, format_when, translator
from bot.services import feedback_publish as publish
from bot.services import feedback_views as views
from bot.services.answer_links import answer_item, prompt_dm
from bot.services.audit import record
from bot.services.feedback_start import RoundRequest
from bot.settings import Settings
from storage.models import Cohort, FeedbackResponse, FeedbackRound, Person
from storage.models_feedback import FeedbackPresenter
from storage.ports import UnitOfWorkPort

DEFAULT_QUESTIONS = (
    N_("Was hat Sie überzeugt?"),
    N_("Wo sehen Sie Risiken oder offene Fragen?"),
    N_("Welchen Rat geben Sie aus Ihrer Kommune?"),
)
MAX_ANSWER = views.ANSWER_LIMIT


@dataclass(frozen=True)
class Submitted:
    edited: bool
    anonymous: bool
    answers: tuple[str, ...]


def presenters_of(uow: UnitOfWorkPort, rnd: FeedbackRound) -> list[Person]:
    return uow.feedback_rounds.presenters(rnd.id)


def who_presents(uow: UnitOfWorkPort, rnd: FeedbackRound) -> str:
    """The presenters: the municipality, or "Anna Muster (Musterstadt)"."""
    if rnd.subject:
        return rnd.subject
    people = presenters_of(uow, rnd)
    return ", ".join(person_label(p) for p in people) or "?"


def presenters_label(uow: UnitOfWorkPort, rnd: FeedbackRound) -> str:
    """How lists and nudges name a round: its title first, the presenters second."""
    return f"{rnd.title} – {who_presents(uow, rnd)}"


def person_label(person: Person) -> str:
    name = person.display_name or person.pseudonym or "?"
    return f"{name} ({person.municipality})" if person.municipality else name


def info(
    uow: UnitOfWorkPort, rnd: FeedbackRound, language: str, settings: Settings
) -> views.RoundInfo:
    deadline = format_when(rnd.closes_at.astimezone(settings.tz), language)
    return views.RoundInfo(rnd, who_presents(uow, rnd), deadline)


def get_round(uow: UnitOfWorkPort, cohort: Cohort, number: int) -> FeedbackRound:
    rnd = uow.feedback_rounds.get(cohort.id, number)
    if rnd is None:
        raise UserFacingError(
            N_("Eine Feedback-Runde #{n} gibt es nicht. „feedback“ zeigt die offenen Runden."),
            n=number,
        )
    return rnd


def rounds_of(uow: UnitOfWorkPort, cohort: Cohort) -> list[FeedbackRound]:
    return uow.feedback_rounds.of_cohort(cohort.id)


def lock(uow: UnitOfWorkPort, rnd: FeedbackRound) -> None:
    """Serialise work on one round (PostgreSQL row lock; SQLite writes are serial anyway) and
    re-read it, so a concurrent close or answer is seen."""
    uow.feedback_rounds.lock(rnd.id)


def is_open(rnd: FeedbackRound, now: datetime) -> bool:
    return rnd.closed_at is None and now < rnd.closes_at


def eligible(uow: UnitOfWorkPort, rnd: FeedbackRound) -> list[Person]:
    """Confirmed participants of the round's cohort who do not present in it."""
    presenting = {p.id for p in presenters_of(uow, rnd)}
    people = []
    for participant in uow.participants.in_cohort(rnd.cohort_id, "confirmed"):
        person = uow.persons.get(participant.person_id)
        if person is not None and person.id not in presenting and person.erased_at is None:
            people.append(person)
    return people


def response_of(uow: UnitOfWorkPort, rnd: FeedbackRound, person_id: int) -> FeedbackResponse | None:
    return uow.feedback_answers.of_author(rnd.id, person_id)


def responses(uow: UnitOfWorkPort, rnd: FeedbackRound) -> list[FeedbackResponse]:
    return uow.feedback_answers.of_round(rnd.id)


def waiting_for(
    uow: UnitOfWorkPort, cohort: Cohort, person: Person, now: datetime
) -> list[FeedbackRound]:
    """Open rounds this person may answer (answered or not: answers can be edited)."""
    participant = uow.participants.get(cohort.id, person.id)
    if participant is None or participant.status != "confirmed":
        return []
    return [
        r
        for r in rounds_of(uow, cohort)
        if is_open(r, now) and person.id not in {p.id for p in presenters_of(uow, r)}
    ]


def open_round(
    uow: UnitOfWorkPort,
    *,
    cohort: Cohort,
    wanted: RoundRequest,
    now: datetime,
    settings: Settings,
    actor_id: int | None = None,
) -> FeedbackRound:
    number = uow.feedback_rounds.highest_number(cohort.id) + 1
    stored: dict[str, Any] = (
        {"items": list(wanted.questions), "default": False}
        if wanted.questions
        else {"items": list(DEFAULT_QUESTIONS), "default": True}
    )
    rnd = FeedbackRound(
        cohort_id=cohort.id,
        number=number,
        title=wanted.title,
        subject=wanted.subject,
        anonymous=wanted.anonymous,
        questions=stored,
        closes_at=wanted.closes_at,
        closed_at=None,
        created_at=now,
    )
    uow.feedback_rounds.add(rnd)
    for person in wanted.presenters:
        uow.feedback_rounds.add(FeedbackPresenter(round_id=rnd.id, person_id=person.id))
    publish.announce(uow, rnd, info(uow, rnd, settings.language, settings), now, settings)
    item = answer_item(settings, "feedback", rnd.id)
    for person in eligible(uow, rnd):
        language = person.language or settings.language
        message = views.prompt(
            info(uow, rnd, language, settings), settings.anonymity_threshold, translator(language)
        )
        key = f"feedback:{rnd.id}:prompt:{person.id}"
        prompt_dm(uow, person.id, message, key, now, item, language)
    publish.schedule_due(uow, rnd, now)
    record(
        uow,
        actor_id=actor_id,
        action="feedback.starten",
        now=now,
        cohort_id=cohort.id,
        after={"runde": rnd.number, "titel": rnd.title, "anonym": rnd.anonymous},
    )
    return rnd


def clean_answers(rnd: FeedbackRound, raw: list[str]) -> tuple[str, ...]:
    count = len(rnd.questions.get("items", []))
    if len(raw) != count:
        raise UserFacingError(
            N_("Diese Runde hat {count} Fragen; ich habe {given} Antworten erkannt."),
            count=count,
            given=len(raw),
        )
    answers = tuple(a.strip() for a in raw)
    for i, answer in enumerate(answers, 1):
        if not answer:
            raise UserFacingError(
                N_("Die Antwort auf Frage {i} ist leer. Bitte schreiben Sie etwas dazu."), i=i
            )
        if len(answer) > MAX_ANSWER:
            raise UserFacingError(
                N_(
                    "Die Antwort auf Frage {i} ist {length} Zeichen lang; erlaubt sind höchstens "
                    "{limit} Zeichen pro Frage. Bitte kürzen Sie sie – es wurde nichts gespeichert."
                ),
                i=i,
                length=len(answer),
                limit=MAX_ANSWER,
            )
    return answers


def check_may_answer(
    uow: UnitOfWorkPort, rnd: FeedbackRound, person: Person, now: datetime
) -> None:
    if not is_open(rnd, now):
        raise UserFacingError(
            N_(
                "Die Runde „{title}“ ist geschlossen; Antworten sind nicht mehr möglich. "
                "Ihre Nachricht wurde nicht gespeichert."
            ),
            title=rnd.title,
        )
    if person.id in {p.id for p in presenters_of(uow, rnd)}:
        raise UserFacingError(
            N_(
                "Sie stellen in der Runde „{title}“ selbst vor – Feedback geben hier die anderen. "
                "Sie erhalten alle Antworten, wenn die Runde schließt."
            ),
            title=rnd.title,
        )
    participant = uow.participants.get(rnd.cohort_id, person.id)
    if participant is None or participant.status != "confirmed":
        raise UserFacingError(
            N_(
                "In der Runde „{title}“ geben nur bestätigte Teilnehmende des Jahrgangs "
                "Feedback. Bei Fragen wenden Sie sich an das Programmteam."
            ),
            title=rnd.title,
        )


def submit(
    uow: UnitOfWorkPort,
    *,
    rnd: FeedbackRound,
    person: Person,
    answers: list[str],
    now: datetime,
    settings: Settings,
) -> Submitted:
    lock(uow, rnd)  # one answer at a time per round: batches never overlap
    check_may_answer(uow, rnd, person, now)
    clean = clean_answers(rnd, answers)
    existing = response_of(uow, rnd, person.id)
    if rnd.anonymous and existing is not None and existing.published_at is not None:
        raise UserFacingError(
            N_(
                "Ihre Antworten zu „{title}“ sind bereits anonym im Thread veröffentlicht und "
                "lassen sich nicht mehr ändern: Jede Änderung an einer veröffentlichten Gruppe "
                "zeigte, welche Antwort Ihre ist. Es wurde nichts gespeichert."
            ),
            title=rnd.title,
        )
    if existing is None:
        existing = FeedbackResponse(
            round_id=rnd.id,
            author_person_id=person.id,
            answers={"answers": list(clean)},
            submitted_at=now,
            published_at=None,
        )
        uow.feedback_answers.add(existing)
        edited = False
    else:
        existing.answers = {**existing.answers, "answers": list(clean)}
        existing.submitted_at = now
        edited = True
    if rnd.anonymous:
        publish.anonymous_after_submit(uow, rnd, now, settings)
    else:
        publish.named_answer(uow, rnd, existing, person, edited, now, settings)
    return Submitted(edited, rnd.anonymous, clean)


def export_person(uow: UnitOfWorkPort, person_id: int) -> dict[str, Any]:
    """For ``meine-daten``: rounds the person presents in, and their own answers in anonymous
    rounds that are still open (the only time such a link exists)."""
    presented = uow.feedback_rounds.presented_by(person_id)
    own_anonymous = uow.feedback_answers.by_author(person_id, anonymous=True)
    return {
        "feedback_vorgestellt": [{"runde": r.number, "titel": r.title} for r in presented],
        "feedback_anonym_offen": [
            {"runde": rnd.title, "antworten": response.answers.get("answers", [])}
            for response, rnd in own_anonymous
        ],
    }


def erase_person(uow: UnitOfWorkPort, person_id: int, pseudonym: str) -> None:
    """Unlink the person from feedback: presenter rows go (a round named after the person keeps
    the pseudonym as its subject), answers lose their author."""
    for rnd in uow.feedback_rounds.presented_by(person_id):
        if not rnd.subject:
            others = [p for p in presenters_of(uow, rnd) if p.id != person_id]
            rnd.subject = ", ".join([pseudonym, *(person_label(p) for p in others)])
    uow.feedback_rounds.remove_presenter(person_id)
    uow.feedback_answers.unlink_author(person_id)
