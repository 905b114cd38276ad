"""Where feedback goes: the announcement (thread root), answers in its thread, scheduled work.

Channel posts are in the default language. Anonymous batches are keyed and rendered without any
reference to their authors; their order is shuffled with a cryptographic RNG.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from uuid import uuid4

from sqlalchemy import select

from bot.i18n import N_, translator
from bot.notify import tell
from bot.outbox import enqueue, post_to_cohort
from bot.reminders import cancel, schedule
from bot.services import feedback_views as views
from bot.services.cohorts import post_language
from bot.settings import Settings
from bot.views import Message
from storage.models import FeedbackResponse, FeedbackRound, OutboxMessage, Person, PostedMessage
from storage.uow import UnitOfWork

KIND_CLOSE = "feedback.close"
KIND_REMIND = "feedback.remind"
REMINDERS = (("2d", timedelta(days=2)), ("2h", timedelta(hours=2)))


def root_subject(rnd: FeedbackRound) -> str:
    return f"feedback:{rnd.id}"


def announce(
    uow: UnitOfWork, rnd: FeedbackRound, info: views.RoundInfo, now: datetime, settings: Settings
) -> None:
    message = views.announcement(
        info, settings.anonymity_threshold, translator(post_language(rnd, settings.language))
    )
    post_to_cohort(uow, rnd.cohort_id, message, f"feedback:{rnd.id}:root", now, root_subject(rnd))


def schedule_due(uow: UnitOfWork, rnd: FeedbackRound, now: datetime) -> None:
    target = {"round_id": rnd.id}
    schedule(
        uow,
        key=f"feedback:{rnd.id}:close",
        due_at=rnd.closes_at,
        kind=KIND_CLOSE,
        now=now,
        cohort_id=rnd.cohort_id,
        target=target,
    )
    for label, before in REMINDERS:
        due = rnd.closes_at - before
        if due > now:
            schedule(
                uow,
                key=f"feedback:{rnd.id}:remind:{label}",
                due_at=due,
                kind=KIND_REMIND,
                now=now,
                cohort_id=rnd.cohort_id,
                target={**target, "label": label},
            )


def cancel_due(uow: UnitOfWork, rnd: FeedbackRound) -> None:
    cancel(uow, f"feedback:{rnd.id}:close")
    cancel(uow, f"feedback:{rnd.id}:remind:")


def in_thread(
    uow: UnitOfWork, rnd: FeedbackRound, message: Message, key: str, subject: str, now: datetime
) -> None:
    """Post into the thread under the announcement in every bound channel; while the
    announcement has not been sent yet, post into the channel itself."""
    roots = list(
        uow.session.scalars(select(PostedMessage).where(PostedMessage.subject == root_subject(rnd)))
    )
    if not roots:
        post_to_cohort(uow, rnd.cohort_id, message, key, now, subject)
        return
    for root in roots:
        enqueue(
            uow,
            key=f"{key}:{root.platform}:{root.channel_id}",
            platform=root.platform,
            operation="post",
            target={
                "channel_id": root.channel_id,
                "thread_id": root.message_id,
                "subject": subject,
            },
            now=now,
            message=message,
        )


def replace(uow: UnitOfWork, key: str, subject: str, message: Message, now: datetime) -> None:
    """Show ``message`` instead of an earlier post: edit the sent ones, rewrite unsent rows."""
    pending = uow.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.idempotency_key.startswith(f"{key}:", autoescape=True),
            OutboxMessage.status == "pending",
        )
    )
    for row in pending:
        row.payload = {**row.payload, "message": message.to_dict()}
    for posted in uow.session.scalars(
        select(PostedMessage).where(PostedMessage.subject == subject)
    ):
        enqueue(
            uow,
            key=f"{key}:edit:{uuid4().hex}",
            platform=posted.platform,
            operation="update",
            target={"channel_id": posted.channel_id, "message_id": posted.message_id},
            now=now,
            message=message,
        )


def named_answer(
    uow: UnitOfWork,
    rnd: FeedbackRound,
    response: FeedbackResponse,
    author: Person,
    edited: bool,
    now: datetime,
    settings: Settings,
) -> None:
    name = author.display_name or "?"
    label = f"{name} ({author.municipality})" if author.municipality else name
    view = views.AnswerView(label, tuple(response.answers["answers"]))
    message = views.named_answer(rnd, view, translator(post_language(rnd, settings.language)))
    key = f"feedback:{rnd.id}:answer:{response.id}"
    subject = key
    if edited:
        replace(uow, key, subject, message, now)
    else:
        in_thread(uow, rnd, message, key, subject, now)
    response.published_at = now


def _batch_of(rows: list[FeedbackResponse], batch: int) -> list[FeedbackResponse]:
    chosen = [r for r in rows if r.answers.get("batch") == batch]
    return sorted(chosen, key=lambda r: int(r.answers.get("slot", 0)))


def _batch_message(
    rnd: FeedbackRound, batch: list[FeedbackResponse], number: int, settings: Settings
) -> Message:
    texts = [tuple(r.answers["answers"]) for r in batch]
    return views.anonymous_batch(
        rnd, number, texts, translator(post_language(rnd, settings.language))
    )


def _publish_batch(
    uow: UnitOfWork,
    rnd: FeedbackRound,
    rows: list[FeedbackResponse],
    pending: list[FeedbackResponse],
    now: datetime,
    settings: Settings,
) -> None:
    """Post ``pending`` as a new shuffled batch — or, at the close, fold fewer than k late
    answers into the last batch (re-shuffled, the post edited), so that no batch holds fewer
    than k answers."""
    last = max((int(r.answers.get("batch", 0)) for r in rows), default=0)
    merge = 0 < len(pending) < settings.anonymity_threshold and last > 0
    number = last if merge else last + 1
    order = list(pending) + (_batch_of(rows, last) if merge else [])
    secrets.SystemRandom().shuffle(order)
    for slot, row in enumerate(order, 1):
        row.answers = {"answers": list(row.answers["answers"]), "batch": number, "slot": slot}
        row.published_at = row.published_at or now
    key = f"feedback:{rnd.id}:batch:{number}"
    message = _batch_message(rnd, order, number, settings)
    if merge:
        replace(uow, key, key, message, now)
    else:
        in_thread(uow, rnd, message, key, key, now)


def anonymous_after_submit(
    uow: UnitOfWork,
    rnd: FeedbackRound,
    response: FeedbackResponse,
    edited: bool,
    now: datetime,
    settings: Settings,
) -> None:
    rows = list(
        uow.session.scalars(select(FeedbackResponse).where(FeedbackResponse.round_id == rnd.id))
    )
    if edited and response.published_at is not None:
        number = int(response.answers["batch"])
        key = f"feedback:{rnd.id}:batch:{number}"
        batch = _batch_of(rows, number)
        replace(uow, key, key, _batch_message(rnd, batch, number, settings), now)
        return
    pending = [r for r in rows if r.published_at is None]
    if len(pending) >= settings.anonymity_threshold:
        _publish_batch(uow, rnd, rows, pending, now, settings)


def anonymous_at_close(
    uow: UnitOfWork,
    rnd: FeedbackRound,
    rows: list[FeedbackResponse],
    now: datetime,
    settings: Settings,
) -> bool:
    """Publish the rest, or withhold everything when fewer than k answered. True: withheld."""
    k = settings.anonymity_threshold
    if 0 < len(rows) < k:
        for row in rows:
            if row.author_person_id is not None:
                author = uow.persons.get(row.author_person_id)
                if author is not None:
                    tell(
                        uow,
                        author,
                        N_(
                            "Die anonyme Runde „{title}“ ist geschlossen. Es kamen nur {count} "
                            "Antworten zusammen; damit niemand erkennbar wird, sind mindestens "
                            "{k} nötig. Ihre Antwort wurde daher an niemanden weitergegeben und "
                            "gelöscht."
                        ),
                        now=now,
                        default_language=settings.language,
                        title=rnd.title,
                        count=len(rows),
                        k=k,
                    )
            row.answers = {"answers": [], "withheld": True}
        return True
    pending = [r for r in rows if r.published_at is None]
    if pending:
        _publish_batch(uow, rnd, rows, pending, now, settings)
    return False


def closing_posts(
    uow: UnitOfWork,
    rnd: FeedbackRound,
    answered: int,
    invited: int,
    withheld: bool,
    now: datetime,
    settings: Settings,
) -> None:
    message = views.summary(
        rnd,
        answered,
        invited,
        withheld,
        settings.anonymity_threshold,
        translator(post_language(rnd, settings.language)),
    )
    key = f"feedback:{rnd.id}:summary"
    in_thread(uow, rnd, message, key, key, now)
