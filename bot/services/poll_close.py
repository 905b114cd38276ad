"""Closing a poll (early or at its deadline), the nudge before the deadline, the CSV export.

Closing an anonymous poll seals it: the ballot↔voter links are deleted, the votes are
rewritten in option order with the closing time (no order, id or time that could point to a
voter), and the intermediate result edits and the reminder DMs to non-voters are removed from
the outbox.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlalchemy import delete, select

from bot.errors import PermissionDenied, UserFacingError
from bot.i18n import N_, format_when, translator
from bot.notify import tell
from bot.outbox import enqueue, post_to_cohort
from bot.scheduling import due as reminders
from bot.services.answer_links import answer_item, item_closed
from bot.services.audit import record
from bot.services.cohorts import post_language
from bot.services.participants import safe_cell
from bot.services.poll_results import (
    options_of,
    push_results,
    refresh_prefix,
    results_visible,
    tally,
)
from bot.services.poll_views import summary_message, vote_button
from bot.services.polls import eligible_voters, is_open, lock_poll
from bot.settings import Settings
from storage.models import Person, Poll, PollOption, PostedMessage, Vote
from storage.models_polls import PollBallot
from storage.uow import UnitOfWork


def may_close(poll: Poll, person: Person) -> None:
    if not person.is_organiser and poll.created_by_person_id != person.id:
        raise PermissionDenied(
            N_(
                "Umfrage {number} können nur das Programmteam und die Person schließen, die "
                "sie angelegt hat."
            ),
            number=poll.number,
        )


def close_poll(
    uow: UnitOfWork, poll_id: int, *, now: datetime, settings: Settings, actor_id: int | None
) -> Poll:
    """Close, seal (anonymous), show the final result in place and post the summary."""
    poll = lock_poll(uow, poll_id)
    if poll.closed_at is not None:
        raise UserFacingError(N_("Umfrage {number} ist bereits geschlossen."), number=poll.number)
    poll.closed_at = now
    if poll.anonymous:
        _seal(uow, poll, now)
    item_closed(uow, "umfrage", poll.id, now, anonymous=poll.anonymous)
    reminders.cancel(uow, f"poll:{poll.id}:")
    push_results(uow, poll, now, settings)
    counted = tally(uow, poll)
    summary = summary_message(
        poll,
        options_of(uow, poll.id),
        counted,
        visible=results_visible(poll, counted, settings.anonymity_threshold),
        threshold=settings.anonymity_threshold,
        translate=translator(post_language(poll, settings.language)),
    )
    post_to_cohort(uow, poll.cohort_id, summary, f"poll:{poll.id}:summary", now)
    for posted in uow.session.scalars(
        select(PostedMessage).where(PostedMessage.subject == f"poll:{poll.id}")
    ):
        enqueue(
            uow,
            key=f"poll:{poll.id}:summary-thread:{posted.platform}:{posted.channel_id}",
            platform=posted.platform,
            operation="post",
            target={"channel_id": posted.channel_id, "thread_id": posted.message_id},
            now=now,
            message=summary,
        )
    record(
        uow,
        actor_id=actor_id,
        action="umfrage.schliessen",
        now=now,
        cohort_id=poll.cohort_id,
        after={"umfrage": poll.number, "stimmzettel": counted.ballots},
    )
    return poll


def _seal(uow: UnitOfWork, poll: Poll, now: datetime) -> None:
    s = uow.session
    option_ids = sorted(s.scalars(select(Vote.option_id).where(Vote.poll_id == poll.id)))
    s.execute(delete(Vote).where(Vote.poll_id == poll.id))
    s.execute(delete(PollBallot).where(PollBallot.poll_id == poll.id))
    s.add_all(Vote(poll_id=poll.id, option_id=o, person_id=None, cast_at=now) for o in option_ids)
    # Intermediate result edits, and the reminder DMs to those who had not voted yet (ours,
    # and nachfassen's ``nudge:umfrage:<poll>:<person>:<day>``): who was reminded when, next
    # to the ballot count's history, would say whose ballot came last. A row being sent at
    # this very moment is deleted by its sender once the send is over: see docs/polls.md.
    uow.outbox.delete_prefix(
        f"poll-update:{poll.id}:",
        refresh_prefix(poll.id),
        f"poll-nudge:{poll.id}:",
        f"nudge:umfrage:{poll.id}:",
    )
    s.flush()


def nudge(uow: UnitOfWork, poll_id: int, *, now: datetime, settings: Settings) -> int:
    """One DM to every eligible participant who has not voted yet; returns how many."""
    poll = uow.session.get(Poll, poll_id)
    if poll is None or not is_open(poll, now) or poll.closes_at is None:
        return 0
    voted = set(
        uow.session.scalars(select(PollBallot.person_id).where(PollBallot.poll_id == poll_id))
    )
    buttons = tuple(vote_button(poll, o, o.label[:75]) for o in options_of(uow, poll.id))
    sent = 0
    for person_id in eligible_voters(uow, poll):
        person = uow.persons.get(person_id)
        if person_id in voted or person is None or person.erased_at is not None:
            continue
        language = person.language or settings.language
        sent += tell(
            uow,
            person,
            N_(
                "Erinnerung: Umfrage {number} „{question}“ schließt am {when}. Sie haben noch "
                "nicht abgestimmt – z. B. mit „abstimmen {number} 1“."
            ),
            now=now,
            default_language=settings.language,
            key=f"poll-nudge:{poll.id}:{person_id}",
            buttons=buttons,
            answer=answer_item(settings, "umfrage", poll.id),
            number=poll.number,
            question=poll.question,
            when=format_when(poll.closes_at.astimezone(settings.tz), language),
        )
    return sent


def export_csv(uow: UnitOfWork, poll: Poll, settings: Settings) -> bytes:
    """Counts per option; named polls also who chose what. Anonymous: never a voter."""
    counted = tally(uow, poll)
    visible = results_visible(poll, counted, settings.anonymity_threshold)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["umfrage", "frage", "nummer", "option", "stimmen", "anteil"])
    for option in options_of(uow, poll.id):
        n = counted.counts.get(option.position, 0)
        share = f"{round(100 * n / counted.ballots)} %" if counted.ballots else "0 %"
        writer.writerow(
            [
                poll.number,
                safe_cell(poll.question),
                option.position,
                safe_cell(option.label),
                n if visible else "",
                share if visible else "",
            ]
        )
    writer.writerow([])
    writer.writerow(["stimmzettel", counted.ballots])
    if visible and not poll.anonymous:
        writer.writerow([])
        writer.writerow(["person", "nummer", "option", "abgegeben"])
        for name, pseudonym, position, label, cast_at in uow.session.execute(
            select(
                Person.display_name,
                Person.pseudonym,
                PollOption.position,
                PollOption.label,
                Vote.cast_at,
            )
            .join(Vote, Vote.option_id == PollOption.id)
            .join(Person, Person.id == Vote.person_id)
            .where(PollOption.poll_id == poll.id)
            .order_by(Person.display_name, PollOption.position)
        ):
            when = cast_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
            writer.writerow([safe_cell(name or pseudonym or "?"), position, safe_cell(label), when])
    return out.getvalue().encode("utf-8-sig")
