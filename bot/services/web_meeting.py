"""The meeting page of the web app as plain values, and its agenda form read into the
agenda service's terms (:class:`bot.services.agenda.ItemData`). The checks and limits are the
agenda service's own; this module only reads what a form sends: a day of the meeting and two
clock times (HH:MM), so no date parsing is involved."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.dates.resolve import to_aware
from bot.errors import NotFound, UserFacingError
from bot.i18n import N_
from bot.services import agenda, attendance
from bot.services import meetings as meeting_service
from storage.models import AgendaItem, Meeting
from storage.ports import UnitOfWorkPort


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 10 else None


@dataclass(frozen=True)
class ItemView:
    nr: int
    id: int
    day: int
    start: str
    end: str
    title: str
    kind: str
    speaker: str
    room: str
    description: str
    clash: tuple[int, ...]


def items(uow: UnitOfWorkPort, meeting: Meeting, tz: ZoneInfo) -> list[ItemView]:
    """The agenda in agenda order, with each item's day, times and overlaps."""
    days = meeting_service.local_days(meeting, tz)
    out = []
    for nr, item in enumerate(meeting_service.items_of(uow, meeting), 1):
        start, end = item.starts_at.astimezone(tz), item.ends_at.astimezone(tz)
        out.append(
            ItemView(
                nr=nr,
                id=item.id,
                day=days.index(start.date()) + 1 if start.date() in days else 1,
                start=f"{start:%H:%M}",
                end=f"{end:%H:%M}",
                title=item.title,
                kind=item.kind or "",
                speaker=item.speaker or "",
                room=item.room or "",
                description=item.description or "",
                clash=tuple(agenda.overlaps_of(uow, meeting, item)),
            )
        )
    return out


_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?$")


def _clock(text: str, field: str) -> time:
    found = _CLOCK.match(text.strip())
    if found is None or int(found[1]) > 23 or int(found[2] or 0) > 59:
        raise UserFacingError(
            N_("„{text}“ ist keine Uhrzeit ({field}). Bitte so: 09:30."),
            text=text.strip()[:20] or "–",
            field=field,
        )
    return time(int(found[1]), int(found[2] or 0))


def _optional(form: Mapping[str, str], key: str) -> str | None:
    return form.get(key, "").strip() or None


def form_data(meeting: Meeting, form: Mapping[str, str], tz: ZoneInfo) -> agenda.ItemData:
    """The typed item; the limits and the meeting's span are checked by the service."""
    days = meeting_service.local_days(meeting, tz)
    day = _int(form.get("tag"))
    if day is None or not 1 <= day <= len(days):
        raise UserFacingError(N_("Bitte wählen Sie einen Tag des Treffens."))
    date = days[day - 1]
    start = to_aware(datetime.combine(date, _clock(form.get("von", ""), "von")), tz)
    end = to_aware(datetime.combine(date, _clock(form.get("bis", ""), "bis")), tz)
    kind = _optional(form, "art")
    return agenda.ItemData(
        starts_at=start,
        ends_at=end,
        title=form.get("titel", "").strip(),
        kind=agenda.kind_of(kind) if kind else None,
        speaker=_optional(form, "wer"),
        room=_optional(form, "raum"),
        description=_optional(form, "beschreibung"),
    )


def form_item(uow: UnitOfWorkPort, meeting: Meeting, form: Mapping[str, str]) -> AgendaItem:
    """The item the form was made for: its number on the page and its id must still agree
    (another organiser may have added an item before it in the meantime)."""
    nr, item_id = _int(form.get("nr")), _int(form.get("punkt"))
    items = meeting_service.items_of(uow, meeting)
    if nr is None or not 1 <= nr <= len(items) or items[nr - 1].id != item_id:
        raise UserFacingError(
            N_(
                "Das Programm hat sich inzwischen geändert. Bitte laden Sie die Seite neu "
                "und versuchen Sie es noch einmal."
            )
        )
    return items[nr - 1]


def apply(
    uow: UnitOfWorkPort, meeting: Meeting, action: str, form: Mapping[str, str], tz: ZoneInfo
) -> tuple[str, str]:
    """Add (``neu``), change (``aendern``) or delete (``loeschen``) an item through the agenda
    service; returns the confirmation's msgid and the item's title. Raises UserFacingError."""
    if action == "neu":
        data = form_data(meeting, form, tz)
        agenda.add_item(uow, meeting, data, tz)
        return N_("Programmpunkt hinzugefügt: „{title}“."), data.title.strip()
    item = form_item(uow, meeting, form)
    if action == "aendern":
        data = form_data(meeting, form, tz)
        if data == agenda.data_of(item):
            raise UserFacingError(N_("Sie haben nichts geändert."))
        agenda.update_item(uow, meeting, item, data, tz)
        return N_("Programmpunkt geändert: „{title}“."), data.title.strip()
    title = item.title
    agenda.delete_item(uow, meeting, item)
    return N_("Programmpunkt „{title}“ ist gelöscht."), title


def find(uow: UnitOfWorkPort, cohort_id: int, number: str | None) -> Meeting:
    """The cohort's meeting named by the page's path; NotFound otherwise."""
    nr = _int(number)
    if nr is None:
        raise NotFound(N_("Dieses Treffen gibt es nicht."))
    return meeting_service.get(uow, cohort_id, nr)


@dataclass(frozen=True)
class MeetingPage:
    meeting: Meeting
    span: str
    days: list[tuple[int, str]]  # (number, label)
    items: list[ItemView]
    rows: list[attendance.TableRow] | None  # None: not for this viewer
    summary: attendance.Summary | None


def page_data(
    uow: UnitOfWorkPort, meeting: Meeting, tz: ZoneInfo, language: str, *, with_attendance: bool
) -> MeetingPage:
    days = meeting_service.local_days(meeting, tz)
    return MeetingPage(
        meeting=meeting,
        span=meeting_service.span_label(meeting, tz, language),
        days=[(i, meeting_service.day_label(d, language)) for i, d in enumerate(days, 1)],
        items=items(uow, meeting, tz),
        rows=attendance.table(uow, meeting) if with_attendance else None,
        summary=attendance.summarise(uow, meeting, tz) if with_attendance else None,
    )
