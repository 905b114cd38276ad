"""Scheduled messages of a meeting (kinds handled here, scheduled by the meetings service).

* 21 days before, 09:00: confirmed participants who have not answered are asked once.
* 14 days before, 09:00: everyone coming gets the organisers' notes (``hinweise``).
* 1 day before, 09:00: everyone coming gets the agenda as a recap.
* day 1, 08:00: a post in the cohort's channels.

Organisers can switch these off (and on again) per cohort: ``treffen erinnerungen aus|an``.
"""

from __future__ import annotations

from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_, translator
from bot.notify import tell
from bot.outbox import dm_person, post_to_cohort
from bot.permissions import require
from bot.router import fold
from bot.scheduling.due import DueContext, DueHandlers
from bot.services import agenda as agenda_service
from bot.services import attendance as attendance_service
from bot.services.answer_links import answer_item
from bot.services.cohorts import post_language
from bot.views import Message, Section
from storage.models import Meeting, Person
from storage.uow import UnitOfWork


def register_due(handlers: DueHandlers) -> None:
    handlers.add("meeting_attendance_ask", ask)
    handlers.add("meeting_notes14", notes)
    handlers.add("meeting_recap1", recap)
    handlers.add("meeting_day1", day_one)


SWITCH_KEY = "meetings:reminders-off:{cohort_id}"
ON_WORDS, OFF_WORDS = {"an", "ein", "on", "ja"}, {"aus", "off", "nein"}


def enabled(uow: UnitOfWork, cohort_id: int) -> bool:
    return uow.state.get(SWITCH_KEY.format(cohort_id=cohort_id)) != "1"


def switch(ctx: CommandContext) -> Reply:
    """``treffen erinnerungen [an|aus]``: the cohort's meeting reminders on or off."""
    assert ctx.cohort is not None
    require(ctx, "treffen aendern")
    word = fold(ctx.args[1]) if len(ctx.args) > 1 else ""
    if word in ON_WORDS | OFF_WORDS:
        ctx.uow.state.put(
            SWITCH_KEY.format(cohort_id=ctx.cohort.id), "1" if word in OFF_WORDS else "0"
        )
        ctx.uow.commit()
    elif word:
        raise UserFacingError(N_("Bitte: treffen erinnerungen an oder treffen erinnerungen aus."))
    if enabled(ctx.uow, ctx.cohort.id):
        text = N_("Die Erinnerungen zu Treffen sind an (21 und 14 Tage, 1 Tag vorher, Tag 1).")
    else:
        text = N_("Die Erinnerungen zu Treffen sind aus. Einschalten: treffen erinnerungen an")
    return Reply(Message.text(ctx._(text)))


def _meeting(ctx: DueContext) -> Meeting | None:
    meeting = ctx.uow.meetings.by_id(int(ctx.reminder.target.get("meeting_id", 0)))
    if meeting is None or meeting.deleted_at is not None:
        return None
    if not enabled(ctx.uow, meeting.cohort_id):
        return None
    return meeting


def _date(meeting: Meeting, ctx: DueContext) -> str:
    return f"{meeting.starts_at.astimezone(ctx.settings.tz):%d.%m.%Y %H:%M}"


def ask(ctx: DueContext) -> None:
    meeting = _meeting(ctx)
    if meeting is None or attendance_service.is_closed(ctx.uow, meeting):
        return
    for person in attendance_service.unanswered(ctx.uow, meeting):
        tell(
            ctx.uow,
            person,
            N_(
                "Kommen Sie zu Treffen {n} „{title}“ am {date}? Bitte antworten Sie mit "
                "„teilnahme {n} ja“, „nein“, „tag1“ oder „tag2“ (auch essen=… "
                "barrierefreiheit=… uebernachtung=ja|nein)."
            ),
            now=ctx.now,
            default_language=ctx.settings.language,
            key=f"meeting:{meeting.id}:ask:{person.id}",
            answer=answer_item(ctx.settings, "teilnahme", meeting.id),
            n=meeting.number,
            title=meeting.title,
            date=_date(meeting, ctx),
        )


def _with_copies(ctx: DueContext, meeting: Meeting) -> list[tuple[Person, Person]]:
    """(recipient, participant) for everyone coming, plus their office contacts' copies."""
    out: list[tuple[Person, Person]] = []
    for person in attendance_service.coming(ctx.uow, meeting):
        out.append((person, person))
        participant = ctx.uow.participants.get(meeting.cohort_id, person.id)
        delegate_id = participant.delegate_person_id if participant else None
        delegate = ctx.uow.persons.get(delegate_id) if delegate_id else None
        if delegate is not None and delegate.id != person.id and delegate.erased_at is None:
            out.append((delegate, person))
    return out


# (a copy for the office contact?, notes given?) → message; no "Hinweise: –" without notes.
_NOTES_MESSAGES = {
    (True, True): N_(
        "Kopie für {name}: In zwei Wochen: Treffen {n} „{title}“ am {date}, {place}. "
        "Hinweise: {notes}"
    ),
    (True, False): N_(
        "Kopie für {name}: In zwei Wochen: Treffen {n} „{title}“ am {date}, {place}."
    ),
    (False, True): N_(
        "In zwei Wochen: Treffen {n} „{title}“ am {date}, {place}. Hinweise: {notes}"
    ),
    (False, False): N_("In zwei Wochen: Treffen {n} „{title}“ am {date}, {place}."),
}


def notes(ctx: DueContext) -> None:
    meeting = _meeting(ctx)
    if meeting is None:
        return
    for recipient, person in _with_copies(ctx, meeting):
        copy = recipient.id != person.id
        tell(
            ctx.uow,
            recipient,
            _NOTES_MESSAGES[(copy, bool(meeting.notes))],
            now=ctx.now,
            default_language=ctx.settings.language,
            key=f"meeting:{meeting.id}:notes14:{person.id}:{recipient.id}",
            name=person.display_name or "—",
            n=meeting.number,
            title=meeting.title,
            date=_date(meeting, ctx),
            place=meeting.location or "–",
            notes=meeting.notes or "",
        )


def recap(ctx: DueContext) -> None:
    meeting = _meeting(ctx)
    if meeting is None:
        return
    tz = ctx.settings.tz
    for recipient, person in _with_copies(ctx, meeting):
        language = recipient.language or ctx.settings.language
        t = translator(language)
        agenda = agenda_service.render(ctx.uow, meeting, tz, language)
        intro = t(N_("Morgen beginnt Treffen {n}. Das Programm:")).format(n=meeting.number)
        if recipient.id != person.id:
            intro = t(N_("Kopie für {name}: {text}")).format(
                name=person.display_name or "—", text=intro
            )
        message = Message((Section((intro,)), *agenda.blocks), fallback=intro)
        key = f"meeting:{meeting.id}:recap1:{person.id}:{recipient.id}"
        dm_person(ctx.uow, recipient.id, message, key, ctx.now)


def day_one(ctx: DueContext) -> None:
    meeting = _meeting(ctx)
    if meeting is None:
        return
    language = post_language(meeting, ctx.settings.language)
    t = translator(language)
    intro = t(N_("Heute beginnt Treffen {n} „{title}“ – willkommen!")).format(
        n=meeting.number, title=meeting.title
    )
    agenda = agenda_service.render(ctx.uow, meeting, ctx.settings.tz, language, short=True)
    message = Message((Section((intro,)), *agenda.blocks), fallback=intro)
    post_to_cohort(ctx.uow, meeting.cohort_id, message, f"meeting:{meeting.id}:day1", ctx.now)
