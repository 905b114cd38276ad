"""programmpunkt (add, N aendern|verschieben|loeschen), agenda [N], agenda posten [N]."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.commands import meeting_input
from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.dates.resolve import to_aware
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import fold
from bot.services import agenda as svc
from bot.services import meetings as meeting_service
from bot.services.cohorts import post_language
from bot.views import Message, Note, Section
from storage.models import AgendaItem, Meeting

CHANGE_WORDS = {"aendern", "change", "edit"}
MOVE_WORDS = {"verschieben", "move"}
DELETE_WORDS = {"loeschen", "delete", "entfernen"}
TEXT_OPTIONS = {
    "titel": "title",
    "title": "title",
    "wer": "speaker",
    "who": "speaker",
    "raum": "room",
    "room": "room",
    "beschreibung": "description",
    "description": "description",
}
EXAMPLE = (
    'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung und Kennenlernen" art=Input '
    'wer="Programmteam" raum="Saal 1"'
)

# the options of "programmpunkt"
ITEM_OPTIONS = (
    Option("von", N_("Beginn, z. B. „10 Uhr“"), ("from",)),
    Option("bis", N_("Ende, z. B. „11:30“"), ("to",)),
    Option("tag", N_("der Tag des Treffens (1, 2, …)"), ("day",), "positive"),
    Option("titel", N_("Titel"), ("title",)),
    Option("art", N_("Art, z. B. Input, Pause, Exkursion"), ("kind",)),
    Option("wer", N_("wer spricht oder leitet"), ("who",)),
    Option("raum", N_("Raum"), ("room",)),
    Option("beschreibung", N_("Beschreibung"), ("description",)),
)


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("programmpunkt",),
            item_command,
            N_("fügt einem Treffen einen Programmpunkt hinzu; N aendern|verschieben|loeschen"),
            'programmpunkt TREFFEN von="…" bis="…" titel="…" [tag=2] [art=…] [wer=…] [raum=…] '
            "[beschreibung=…] | programmpunkt TREFFEN NR aendern|verschieben|loeschen …",
            EXAMPLE,
            (("item",), ("agenda-item",)),
            "organisation",
            needs_cohort=True,
            options=ITEM_OPTIONS,
        )
    )
    registry.add(
        CommandSpec(
            ("agenda",),
            show,
            N_("zeigt das Programm des nächsten (oder N-ten) Treffens, Tag für Tag"),
            "agenda [N]",
            "agenda 1",
            (("programme",),),
            "jahrgang",
            needs_cohort=True,
        )
    )
    registry.add(
        CommandSpec(
            ("agenda", "posten"),
            post,
            N_("postet die Agenda in den Kanal; spätere Änderungen aktualisieren den Post"),
            "agenda posten [N]",
            "agenda posten 1",
            (("agenda", "post"),),
            "organisation",
            needs_cohort=True,
        )
    )


def _meeting(ctx: CommandContext) -> Meeting:
    assert ctx.cohort is not None
    if ctx.args:
        return meeting_service.get(ctx.uow, ctx.cohort.id, meeting_input.parse_number(ctx.args[0]))
    meeting = meeting_service.upcoming(ctx.uow, ctx.cohort.id, ctx.now)
    if meeting is None:
        raise UserFacingError(N_("Es steht kein Treffen an. „treffen“ listet alle Treffen."))
    return meeting


def show(ctx: CommandContext) -> Reply:
    return Reply(svc.render(ctx.uow, _meeting(ctx), ctx.tz, ctx.language))


def post(ctx: CommandContext) -> Reply:
    meeting = _meeting(ctx)
    count = svc.post(
        ctx.uow,
        meeting,
        now=ctx.now,
        tz=ctx.tz,
        language=post_language(meeting, ctx.default_language),
    )
    ctx.uow.commit()
    if not count:
        raise UserFacingError(
            N_("Mit diesem Jahrgang ist kein Kanal verbunden („jahrgang verbinden“).")
        )
    return Reply(
        Message.text(
            ctx._(
                N_(
                    "Die Agenda von Treffen {n} wird gepostet (oder der Post aktualisiert). "
                    "Spätere Änderungen aktualisieren ihn automatisch."
                ),
                n=meeting.number,
            )
        )
    )


def _day(ctx: CommandContext, meeting: Meeting, default: int) -> datetime:
    """Midnight of the meeting day named by tag=N (local date as an aware datetime)."""
    days = meeting_service.local_days(meeting, ctx.tz)
    raw = ctx.options.get("tag", ctx.options.get("day"))
    number = default
    if raw is not None:
        if not raw.strip().isdigit() or not 1 <= int(raw) <= len(days):
            raise UserFacingError(
                N_("tag= muss zwischen 1 und {count} liegen (Treffen {n} hat {count} Tage)."),
                count=len(days),
                n=meeting.number,
            )
        number = int(raw)
    return to_aware(datetime.combine(days[number - 1], datetime.min.time()), ctx.tz)


def _times(
    ctx: CommandContext, meeting: Meeting, old: svc.ItemData | None, keep_duration: bool
) -> tuple[datetime, datetime] | None:
    start_text = ctx.options.get("von", ctx.options.get("from"))
    end_text = ctx.options.get("bis", ctx.options.get("to"))
    day_given = "tag" in ctx.options or "day" in ctx.options
    if old is None and (not start_text or not end_text):
        raise UserFacingError(
            N_('Bitte geben Sie Beginn und Ende an, z. B. von="10 Uhr" bis="11:30" (tag=2 …).')
        )
    if old is not None and not (start_text or end_text or day_given):
        return None
    current_day = 1
    if old is not None:
        days = meeting_service.local_days(meeting, ctx.tz)
        current_day = days.index(old.starts_at.astimezone(ctx.tz).date()) + 1
    day = _day(ctx, meeting, current_day).date()
    if start_text:
        start = meeting_input.parse_moment(start_text, now=ctx.now, tz=ctx.tz, day=day)
    else:
        assert old is not None
        start = to_aware(datetime.combine(day, old.starts_at.astimezone(ctx.tz).time()), ctx.tz)
    if end_text:
        local_day = start.astimezone(ctx.tz).date()
        end = meeting_input.parse_moment(end_text, now=ctx.now, tz=ctx.tz, day=local_day)
    else:
        assert old is not None
        end = start + (old.ends_at - old.starts_at) if keep_duration or day_given else old.ends_at
    return start, end


def _apply_texts(ctx: CommandContext, data: svc.ItemData) -> svc.ItemData:
    values = {
        field: (value.strip() or None) if field != "title" else value
        for key, field in TEXT_OPTIONS.items()
        if (value := ctx.options.get(key)) is not None
    }
    kind = ctx.options.get("art", ctx.options.get("kind"))
    if kind is not None:
        values["kind"] = svc.kind_of(kind) if kind.strip() else None
    return replace(data, **values)  # type: ignore[arg-type]


def item_command(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    if not ctx.args:
        raise UserFacingError(N_("Zu welchem Treffen? Zum Beispiel: {example}"), example=EXAMPLE)
    meeting = meeting_service.get(ctx.uow, ctx.cohort.id, meeting_input.parse_number(ctx.args[0]))
    rest = ctx.args[1:]
    if rest and rest[0].strip().isdigit():
        item = svc.item_at(ctx.uow, meeting, int(rest[0]))
        action = fold(rest[1]) if len(rest) > 1 else ""
        if action in DELETE_WORDS:
            svc.delete_item(ctx.uow, meeting, item)
            return _done(
                ctx, meeting, None, N_("Programmpunkt „{title}“ ist gelöscht."), item.title
            )
        if action in CHANGE_WORDS | MOVE_WORDS:
            return _edit(ctx, meeting, item, action in MOVE_WORDS)
        raise UserFacingError(
            N_("Bitte: programmpunkt {n} {nr} aendern|verschieben|loeschen …"),
            n=meeting.number,
            nr=rest[0],
        )
    times = _times(ctx, meeting, None, False)
    assert times is not None
    data = _apply_texts(ctx, svc.ItemData(times[0], times[1], " ".join(rest)))
    items = meeting_service.items_of(ctx.uow, meeting)
    for nr, other in enumerate(items, 1):  # typed again (its answer lost?): not a second copy
        if svc.data_of(other) == replace(data, title=data.title.strip()):
            line = _line(ctx, meeting, other, nr)
            return Reply(
                Message.text(ctx._(N_("Diesen Programmpunkt gibt es schon: {line}"), line=line))
            )
    item = svc.add_item(ctx.uow, meeting, data, ctx.tz)
    return _done(ctx, meeting, item, N_("Programmpunkt hinzugefügt: {line}"))


def _edit(ctx: CommandContext, meeting: Meeting, item: AgendaItem, move: bool) -> Reply:
    old = svc.data_of(item)
    times = _times(ctx, meeting, old, move)
    data = _apply_texts(ctx, old)
    if times is not None:
        data = replace(data, starts_at=times[0], ends_at=times[1])
    if data == old:
        raise UserFacingError(
            N_('Was soll sich ändern? Zum Beispiel von="14 Uhr" tag=2 titel="…" raum="…".')
        )
    svc.update_item(ctx.uow, meeting, item, data, ctx.tz)
    return _done(ctx, meeting, item, N_("Programmpunkt geändert: {line}"))


def _done(
    ctx: CommandContext,
    meeting: Meeting,
    item: AgendaItem | None,
    msgid: str,
    title: str = "",
) -> Reply:
    lines: list[str] = []
    if item is not None:
        items = meeting_service.items_of(ctx.uow, meeting)
        nr = next(i for i, other in enumerate(items, 1) if other.id == item.id)
        clash = svc.overlaps_of(ctx.uow, meeting, item)
        lines.append(ctx._(msgid, line=_line(ctx, meeting, item, nr)))
        if clash:
            lines.append(
                ctx._(
                    N_("⚠ Überschneidet sich mit Programmpunkt {numbers} – bitte prüfen."),
                    numbers=", ".join(str(n) for n in clash),
                )
            )
    else:
        lines.append(ctx._(msgid, title=title))
    updated = svc.changed(ctx.uow, meeting, now=ctx.now, tz=ctx.tz, default=ctx.default_language)
    ctx.uow.commit()
    hint = ctx._(N_("„agenda {n}“ zeigt das ganze Programm."), n=meeting.number)
    if updated:
        lines.append(ctx._(N_("Die gepostete Agenda wird aktualisiert.")))
    return Reply(Message((Section(tuple(lines)), Note(hint)), fallback=lines[0]))


def _line(ctx: CommandContext, meeting: Meeting, item: AgendaItem, nr: int) -> str:
    days = meeting_service.local_days(meeting, ctx.tz)
    day = days.index(item.starts_at.astimezone(ctx.tz).date()) + 1
    start, end = item.starts_at.astimezone(ctx.tz), item.ends_at.astimezone(ctx.tz)
    kind = f" ({item.kind})" if item.kind else ""
    return ctx._(
        N_("Treffen {n}, Nr. {nr}: Tag {d}, {start}–{end} „{title}“{kind}"),
        n=meeting.number,
        nr=nr,
        d=day,
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        title=item.title,
        kind=kind,
    )
