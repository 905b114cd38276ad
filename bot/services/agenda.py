"""Agenda items of a meeting, the agenda view, and the posted agenda that is kept up to date.

Items are numbered by their place in the sorted agenda (time, then creation). Overlaps are
flagged, not refused. A posted agenda (``PostedMessage.subject == "agenda:<meeting id>"``) is
edited in place after every change, with a short note in its thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

from bot.errors import NotFound, UserFacingError
from bot.i18n import N_, translator
from bot.outbox import enqueue, post_to_cohort
from bot.router import fold
from bot.services import agenda_invites
from bot.services.cohorts import post_language
from bot.services.meetings import day_label, items_of, local_days, span_label
from bot.views import Header, Message, Note, Section
from storage.models import AgendaItem, Meeting, PostedMessage
from storage.ports import UnitOfWorkPort

KINDS = ("Input", "Workshop", "Kollegiale Beratung", "Vor-Ort-Besuch", "Pause")
MAX_ITEMS = 60
SECTION_CHARS = 2800  # Slack refuses section texts over 3000 characters
LIMITS = {"title": 200, "speaker": 200, "room": 200, "description": 1000}
OPTION_NAMES = {"title": "titel", "speaker": "wer", "room": "raum", "description": "beschreibung"}
Translate = Callable[[str], str]


@dataclass(frozen=True)
class ItemData:
    starts_at: datetime
    ends_at: datetime
    title: str
    kind: str | None = None
    speaker: str | None = None
    room: str | None = None
    description: str | None = None


def subject(meeting: Meeting) -> str:
    return f"agenda:{meeting.id}"


def item_at(uow: UnitOfWorkPort, meeting: Meeting, number: int) -> AgendaItem:
    items = items_of(uow, meeting)
    if not 1 <= number <= len(items):
        raise NotFound(
            N_(
                "Treffen {n} hat keinen Programmpunkt {nr}. „agenda {n}“ zeigt die Punkte "
                "mit Nummer."
            ),
            n=meeting.number,
            nr=number,
        )
    return items[number - 1]


def kind_of(text: str) -> str:
    wanted = fold(text.strip()).replace(" ", "").replace("-", "")
    for kind in KINDS:
        if fold(kind).replace(" ", "").replace("-", "") == wanted:
            return kind
    raise UserFacingError(
        N_("Die Art „{text}“ kenne ich nicht. Möglich sind: {kinds}."),
        text=text[:40],
        kinds=", ".join(KINDS),
    )


def _check(meeting: Meeting, data: ItemData, tz: ZoneInfo) -> None:
    for key in LIMITS:
        value = getattr(data, key)
        if value is not None and len(value) > LIMITS[key]:
            raise UserFacingError(
                N_("„{field}“ ist zu lang (höchstens {limit} Zeichen)."),
                field=OPTION_NAMES[key],
                limit=LIMITS[key],
            )
    if not data.title.strip():
        raise UserFacingError(N_('Bitte geben Sie einen Titel an, z. B. titel="Begrüßung".'))
    if data.ends_at <= data.starts_at:
        raise UserFacingError(
            N_("Das Ende (bis=…) liegt nicht nach dem Beginn (von=…). Bitte prüfen Sie die Zeiten.")
        )
    if data.starts_at < meeting.starts_at or data.ends_at > meeting.ends_at:
        raise UserFacingError(
            N_(
                "Der Programmpunkt liegt außerhalb von Treffen {n} ({span}). Bitte wählen Sie "
                "Zeiten innerhalb des Treffens (tag=2 für den zweiten Tag)."
            ),
            n=meeting.number,
            span=span_label(meeting, tz, "de"),
        )


def overlaps_of(uow: UnitOfWorkPort, meeting: Meeting, item: AgendaItem) -> list[int]:
    """Numbers of the other items that overlap ``item`` (breaks never count)."""
    items = items_of(uow, meeting)
    return [
        nr
        for nr, other in enumerate(items, 1)
        if other.id != item.id
        and other.starts_at < item.ends_at
        and item.starts_at < other.ends_at
        and "Pause" not in (other.kind, item.kind)
    ]


def add_item(uow: UnitOfWorkPort, meeting: Meeting, data: ItemData, tz: ZoneInfo) -> AgendaItem:
    if len(items_of(uow, meeting)) >= MAX_ITEMS:
        raise UserFacingError(
            N_(
                "Treffen {n} hat schon {limit} Programmpunkte, mehr passen nicht in eine "
                "Agenda. Fassen Sie Punkte zusammen oder löschen Sie welche."
            ),
            n=meeting.number,
            limit=MAX_ITEMS,
        )
    _check(meeting, data, tz)
    item = AgendaItem(
        meeting_id=meeting.id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        title=data.title.strip(),
        kind=data.kind,
        speaker=data.speaker,
        room=data.room,
        description=data.description,
    )
    uow.agenda.add(item)
    return item  # the SEQUENCE goes up in changed()


def update_item(
    uow: UnitOfWorkPort, meeting: Meeting, item: AgendaItem, data: ItemData, tz: ZoneInfo
) -> None:
    _check(meeting, data, tz)
    for key in ("starts_at", "ends_at", "kind", "speaker", "room", "description"):
        setattr(item, key, getattr(data, key))
    item.title = data.title.strip()


def delete_item(uow: UnitOfWorkPort, meeting: Meeting, item: AgendaItem) -> None:
    uow.agenda.remove(item)


def data_of(item: AgendaItem) -> ItemData:
    return ItemData(
        item.starts_at,
        item.ends_at,
        item.title,
        item.kind,
        item.speaker,
        item.room,
        item.description,
    )


def item_line(item: AgendaItem, nr: int, tz: ZoneInfo, clash: list[int], t: Translate) -> str:
    start, end = item.starts_at.astimezone(tz), item.ends_at.astimezone(tz)
    extras = [x for x in (item.kind, item.speaker, item.room) if x]
    line = f"{nr}. {start:%H:%M}–{end:%H:%M} {item.title}"
    if extras:
        line += f" ({'; '.join(extras)})"
    if item.description:
        line += f" — {item.description}"
    if clash:
        line += " " + t(N_("⚠ überschneidet sich mit {numbers}")).format(
            numbers=", ".join(str(n) for n in clash)
        )
    return line


def _chunks(lines: list[str]) -> list[list[str]]:
    """Split a day's lines so that no section exceeds Slack's text limit."""
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        line = line[:SECTION_CHARS]
        if chunks[-1] and size + len(line) + 1 > SECTION_CHARS:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    return chunks


def render(
    uow: UnitOfWorkPort, meeting: Meeting, tz: ZoneInfo, language: str, *, short: bool = False
) -> Message:
    """The agenda day by day (one Section per day, split when long)."""
    t = translator(language)
    head = t(N_("Treffen {n}: {title}")).format(n=meeting.number, title=meeting.title)
    info = [span_label(meeting, tz, language)]
    if meeting.location:
        info.append(t(N_("Ort: {place}")).format(place=meeting.location))
    if meeting.host_city:
        info.append(t(N_("Gastgeberstadt: {city}")).format(city=meeting.host_city))
    blocks: list[Header | Section | Note] = [Header(head[:150]), Section(tuple(info))]
    items = items_of(uow, meeting)
    numbered = list(enumerate(items, 1))
    for day_nr, day in enumerate(local_days(meeting, tz), 1):
        lines = [
            item_line(item, nr, tz, [] if short else overlaps_of(uow, meeting, item), t)
            for nr, item in numbered
            if item.starts_at.astimezone(tz).date() == day
        ] or [t(N_("(noch kein Programm)"))]
        label = t(N_("Tag {d}: {day}")).format(d=day_nr, day=day_label(day, language))
        for chunk in _chunks(lines):
            blocks.append(Section(tuple(chunk), label=label, stacked=True))
    if meeting.notes and not short:
        blocks.append(Note(t(N_("Hinweise: {notes}")).format(notes=meeting.notes)))
    return Message(tuple(blocks), fallback=head[:150])


def posted(uow: UnitOfWorkPort, meeting: Meeting) -> list[PostedMessage]:
    return uow.posted.with_subject(subject(meeting))


def post(
    uow: UnitOfWorkPort, meeting: Meeting, *, now: datetime, tz: ZoneInfo, language: str
) -> int:
    """Post the agenda to the cohort's channels; where it is already posted, update it."""
    message = render(uow, meeting, tz, language)
    updated = refresh(uow, meeting, now=now, tz=tz, language=language, note=None)
    added = post_to_cohort(
        uow, meeting.cohort_id, message, f"agenda:{meeting.id}:post", now, subject=subject(meeting)
    )
    return added + updated


def refresh(
    uow: UnitOfWorkPort,
    meeting: Meeting,
    *,
    now: datetime,
    tz: ZoneInfo,
    language: str,
    note: str | None,
    cancelled: bool = False,
) -> int:
    """Edit every posted copy of the agenda; ``note`` (a msgid) goes into its thread."""
    rows = posted(uow, meeting)
    if not rows:
        return 0
    t = translator(language)
    message = render(uow, meeting, tz, language)
    if cancelled:
        text = t(N_("Abgesagt: Treffen {n} „{title}“ findet nicht statt.")).format(
            n=meeting.number, title=meeting.title
        )
        message = Message.text(text)
    batch = uuid4().hex
    for row in rows:
        target = {"channel_id": row.channel_id, "message_id": row.message_id}
        enqueue(
            uow,
            key=f"agenda:{meeting.id}:update:{batch}:{row.platform}:{row.channel_id}",
            platform=row.platform,
            operation="update",
            target=target,
            now=now,
            message=message,
        )
        if note:
            enqueue(
                uow,
                key=f"agenda:{meeting.id}:note:{batch}:{row.platform}:{row.channel_id}",
                platform=row.platform,
                operation="post",
                target={"channel_id": row.channel_id, "thread_id": row.message_id},
                now=now,
                message=Message.text(t(note).format(n=meeting.number)),
            )
    return len(rows)


CHANGED_NOTE = N_("Agenda geändert: Das Programm von Treffen {n} wurde aktualisiert.")


def changed(
    uow: UnitOfWorkPort, meeting: Meeting, *, now: datetime, tz: ZoneInfo, default: str
) -> int:
    """After an item was added, changed or deleted (in the chat or on the web page): every
    posted copy of the agenda is edited in place, in the cohort's language, with a note in its
    thread. The SEQUENCE goes up at once, or — when addresses have the invitation by e-mail —
    once for a burst of edits, with the coalesced update
    (:func:`bot.services.agenda_invites.schedule_update`). Returns the number of copies."""
    if agenda_invites.schedule_update(uow, meeting, now) is None:
        meeting.sequence += 1  # no mail to send: calendar exports see the change now
    return refresh(
        uow, meeting, now=now, tz=tz, language=post_language(meeting, default), note=CHANGED_NOTE
    )
