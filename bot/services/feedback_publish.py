"""Where feedback goes: the announcement (thread root), answers in its thread, scheduled work.

Channel posts are in the default language. Anonymous batches are keyed and rendered without any
reference to their authors; their order is shuffled with a cryptographic RNG, and a batch once
posted is never edited (the rule is in docs/feedback.md).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from uuid import uuid4

from bot.i18n import N_, translator
from bot.notify import tell
from bot.outbox import enqueue, post_to_cohort
from bot.scheduling.due import cancel, schedule
from bot.services import feedback_views as views
from bot.services.cohorts import post_language
from bot.settings import Settings
from bot.views import Message
from storage.models import FeedbackResponse, FeedbackRound, Person
from storage.ports import UnitOfWorkPort

KIND_CLOSE = "feedback.close"
KIND_REMIND = "feedback.remind"
REMINDERS = (("2d", timedelta(days=2)), ("2h", timedelta(hours=2)))


def root_subject(rnd: FeedbackRound) -> str:
    return f"feedback:{rnd.id}"


def announce(
    uow: UnitOfWorkPort,
    rnd: FeedbackRound,
    info: views.RoundInfo,
    now: datetime,
    settings: Settings,
) -> None:
    message = views.announcement(
        info, settings.anonymity_threshold, translator(post_language(rnd, settings.language))
    )
    post_to_cohort(uow, rnd.cohort_id, message, f"feedback:{rnd.id}:root", now, root_subject(rnd))


def schedule_due(uow: UnitOfWorkPort, rnd: FeedbackRound, now: datetime) -> None:
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


def cancel_due(uow: UnitOfWorkPort, rnd: FeedbackRound) -> None:
    cancel(uow, f"feedback:{rnd.id}:close")
    cancel(uow, f"feedback:{rnd.id}:remind:")


def in_thread(
    uow: UnitOfWorkPort, rnd: FeedbackRound, message: Message, key: str, subject: str, now: datetime
) -> None:
    """Post into the thread under the announcement in every bound channel; while the
    announcement has not been sent yet, post into the channel itself."""
    roots = uow.posted.with_subject(root_subject(rnd))
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


def replace(uow: UnitOfWorkPort, key: str, subject: str, message: Message, now: datetime) -> None:
    """Show ``message`` instead of an earlier post: edit the sent ones, rewrite unsent rows."""
    for row in uow.outbox.with_prefix(f"{key}:", status="pending"):
        row.payload = {**row.payload, "message": message.to_dict()}
    for posted in uow.posted.with_subject(subject):
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
    uow: UnitOfWorkPort,
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


def _batch_message(
    rnd: FeedbackRound, batch: list[FeedbackResponse], number: int, settings: Settings
) -> Message:
    texts = [tuple(r.answers["answers"]) for r in batch]
    return views.anonymous_batch(
        rnd, number, texts, translator(post_language(rnd, settings.language))
    )


def _publish_batch(
    uow: UnitOfWorkPort,
    rnd: FeedbackRound,
    rows: list[FeedbackResponse],
    chosen: list[FeedbackResponse],
    now: datetime,
    settings: Settings,
    *,
    post: bool = True,
) -> None:
    """Publish ``chosen`` as a new batch in shuffled order. A published batch is never edited:
    an edit would show which answer changed (``post=False``: for the presenters only)."""
    number = max((int(r.answers.get("batch", 0)) for r in rows), default=0) + 1
    order = list(chosen)
    secrets.SystemRandom().shuffle(order)
    for slot, row in enumerate(order, 1):
        row.answers = {"answers": list(row.answers["answers"]), "batch": number, "slot": slot}
        row.published_at = now
    if post:
        key = f"feedback:{rnd.id}:batch:{number}"
        in_thread(uow, rnd, _batch_message(rnd, order, number, settings), key, key, now)


def anonymous_after_submit(
    uow: UnitOfWorkPort, rnd: FeedbackRound, now: datetime, settings: Settings
) -> None:
    """Publish a batch once 2k answers wait, holding k of them (chosen at random) back, so
    that the batch at the close always mixes a late answer with at least k others and no
    published change ever holds fewer than k answers (docs/feedback.md)."""
    rows = uow.feedback_answers.of_round(rnd.id)
    pending = [r for r in rows if r.published_at is None]
    k = settings.anonymity_threshold
    if len(pending) >= 2 * k:
        chosen = secrets.SystemRandom().sample(pending, len(pending) - k)
        _publish_batch(uow, rnd, rows, chosen, now, settings)


def anonymous_at_close(
    uow: UnitOfWorkPort,
    rnd: FeedbackRound,
    rows: list[FeedbackResponse],
    invited: list[Person],
    now: datetime,
    settings: Settings,
) -> bool:
    """Publish the rest, or withhold everything when fewer than k answered. True: withheld.

    Everyone invited is told about a withheld round, not only those who answered: a DM to
    the respondents alone would keep, in the outbox, who answered."""
    k = settings.anonymity_threshold
    if 0 < len(rows) < k:
        for person in invited:
            tell(
                uow,
                person,
                N_(
                    "Die anonyme Runde „{title}“ ist geschlossen. Es kamen nur {count} "
                    "Antworten zusammen; damit niemand erkennbar wird, sind mindestens {k} "
                    "nötig. Die Antworten – auch Ihre, falls Sie geantwortet haben – wurden "
                    "daher an niemanden weitergegeben und gelöscht."
                ),
                now=now,
                default_language=settings.language,
                key=f"feedback:{rnd.id}:withheld:{person.id}",
                title=rnd.title,
                count=len(rows),
                k=k,
            )
        for row in rows:
            row.answers = {"answers": [], "withheld": True}
        return True
    pending = [r for r in rows if r.published_at is None]
    if pending:
        # At least k wait here unless answers were deleted after a batch: those few go to
        # the presenters only, never into the thread on their own.
        earlier = any(r.published_at is not None for r in rows)
        post = len(pending) >= k or not earlier
        _publish_batch(uow, rnd, rows, pending, now, settings, post=post)
    return False


def closing_posts(
    uow: UnitOfWorkPort,
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
