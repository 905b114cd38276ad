"""Closing a feedback round, reminding those who have not answered, and what others may see.

``answer_views`` is the one place that turns stored answers into what is shown: named answers
with their author, anonymous ones only once published, shuffled and without any author.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from bot.errors import UserFacingError
from bot.i18n import N_, format_when, translator
from bot.outbox import dm_person
from bot.services import feedback_publish as publish
from bot.services import feedback_views as views
from bot.services.answer_links import answer_item, item_closed, prompt_dm
from bot.services.audit import record
from bot.services.feedback import (
    eligible,
    info,
    is_open,
    lock,
    person_label,
    presenters_of,
    responses,
)
from bot.settings import Settings
from storage.models import FeedbackResponse, FeedbackRound
from storage.ports import UnitOfWorkPort


@dataclass(frozen=True)
class Closed:
    answered: int
    invited: int
    withheld: bool


def answer_views(uow: UnitOfWorkPort, rnd: FeedbackRound) -> list[views.AnswerView]:
    """What others may see: named answers with their author, anonymous ones only once
    published, in their shuffled batch order and without any author."""
    if rnd.anonymous:
        published = [
            r
            for r in responses(uow, rnd)
            if r.published_at is not None and not r.answers.get("withheld")
        ]
        published.sort(key=lambda r: (r.answers.get("batch", 0), r.answers.get("slot", 0)))
        return [views.AnswerView(None, tuple(r.answers["answers"])) for r in published]
    out = []
    for r in responses(uow, rnd):
        author = uow.persons.get(r.author_person_id) if r.author_person_id else None
        label = person_label(author) if author is not None and author.erased_at is None else None
        erased = bool(r.answers.get("erased"))
        out.append(views.AnswerView(label, tuple(r.answers.get("answers", [])), erased))
    return out


def _drop_unfinished_dialogs(uow: UnitOfWorkPort, rnd: FeedbackRound) -> None:
    """Half-finished guided dialogs for this round hold answers with their author: gone."""
    for dialog in uow.dialogs.of_kind("feedback"):
        context = dialog.state.get("form", {}).get("context", {})
        if context.get("round_id") == str(rnd.id):
            uow.dialogs.remove(dialog)


def seal(
    uow: UnitOfWorkPort, rnd: FeedbackRound, rows: list[FeedbackResponse], now: datetime
) -> None:
    """The end of an anonymous round: nothing may be left from which an answer's author could
    be inferred. The rows are written anew in their published order (batch, then shuffled
    slot) with fresh ids, no author and only the closing time, and the old rows — ids in
    submission order, times of their own — are deleted. The per-person DMs of the round
    (prompts, reminders, nudges), which told who had not answered when, are deleted too."""
    order = list(rows)
    secrets.SystemRandom().shuffle(order)  # withheld rows have no place: random order
    order.sort(key=lambda r: (int(r.answers.get("batch", 0)), int(r.answers.get("slot", 0))))
    for old in order:
        published = now if old.published_at is not None else None
        fresh = FeedbackResponse(
            round_id=rnd.id,
            author_person_id=None,
            answers=dict(old.answers),
            submitted_at=now,
            published_at=published,
        )
        uow.feedback_answers.add(fresh)  # one at a time: the ids follow the published order
    for old in rows:
        uow.feedback_answers.remove(old)
    for prefix in (
        f"feedback:{rnd.id}:prompt:",
        f"feedback:{rnd.id}:remind:",
        f"nudge:feedback:{rnd.id}:",
    ):
        uow.outbox.delete_prefix(prefix)


def close(
    uow: UnitOfWorkPort,
    rnd: FeedbackRound,
    now: datetime,
    settings: Settings,
    actor_id: int | None = None,
) -> Closed:
    """Close ``rnd``; ``actor_id`` is the organiser who closed it (None: the deadline or the
    end of the cohort closed it, shown as "System" in the audit log)."""
    lock(uow, rnd)
    if rnd.closed_at is not None:
        raise UserFacingError(N_("Die Runde „{title}“ ist bereits geschlossen."), title=rnd.title)
    rnd.closed_at = now
    publish.cancel_due(uow, rnd)
    _drop_unfinished_dialogs(uow, rnd)
    invited = eligible(uow, rnd)
    all_responses = responses(uow, rnd)
    withheld = False
    if rnd.anonymous:
        withheld = publish.anonymous_at_close(uow, rnd, all_responses, invited, now, settings)
        seal(uow, rnd, all_responses, now)
    item_closed(uow, "feedback", rnd.id, now, anonymous=rnd.anonymous)
    outcome = Closed(len(all_responses), len(invited), withheld)
    record(
        uow,
        actor_id=actor_id,
        action="feedback.schliessen",
        now=now,
        cohort_id=rnd.cohort_id,
        after={"runde": rnd.number, "antworten": outcome.answered, "gefragt": outcome.invited},
    )
    publish.closing_posts(uow, rnd, outcome.answered, outcome.invited, withheld, now, settings)
    k = settings.anonymity_threshold
    for person in presenters_of(uow, rnd):
        language = person.language or settings.language
        translate = translator(language)
        round_info = info(uow, rnd, language, settings)
        shown = [] if withheld else answer_views(uow, rnd)
        message = views.presenter_dm(round_info, shown, withheld, k, translate)
        file = None
        if not withheld:
            file = (
                f"feedback-{rnd.number}.md",
                views.export_markdown(round_info, shown, translate),
            )
        dm_person(uow, person.id, message, f"feedback:{rnd.id}:presenter:{person.id}", now, file)
    return outcome


def remind(
    uow: UnitOfWorkPort, rnd: FeedbackRound, label: str, now: datetime, settings: Settings
) -> int:
    """DM everyone eligible who has not answered yet; returns how many were reminded."""
    if not is_open(rnd, now):
        return 0
    answered = {r.author_person_id for r in responses(uow, rnd)}
    item = answer_item(settings, "feedback", rnd.id)
    sent = 0
    for person in eligible(uow, rnd):
        if person.id in answered:
            continue
        language = person.language or settings.language
        translate = translator(language)
        when = format_when(rnd.closes_at.astimezone(settings.tz), language)
        message = views.prompt(
            info(uow, rnd, language, settings),
            settings.anonymity_threshold,
            translate,
            reminder=when,
        )
        key = f"feedback:{rnd.id}:remind:{label}:{person.id}"
        sent += prompt_dm(uow, person.id, message, key, now, item, language)
    return sent
