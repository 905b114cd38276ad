"""treffen (list/show), treffen anlegen, treffen N aendern|loeschen, kalender."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from bot.commands import meeting_input, meeting_reminders
from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.dates import describe_when
from bot.errors import UserFacingError
from bot.i18n import N_, format_when
from bot.networking import alumni_commands
from bot.outbox import dm_person
from bot.permissions import require
from bot.router import confirmed, fold, shorten
from bot.scheduling.due import DueHandlers
from bot.services import agenda as agenda_service
from bot.services import agenda_invites, calendar, invitations
from bot.services import meetings as svc
from bot.services.cohorts import post_language
from bot.views import Bullets, Message, Note, Section
from storage.models import Meeting

CONFIRM_WORDS = {"ja", "yes"}
CHANGE_WORDS = {"aendern", "change", "edit", "bearbeiten"}
DELETE_WORDS = {"loeschen", "delete", "absagen", "cancel"}
# option names → Meeting fields (German and English)
TEXT_OPTIONS = {
    "titel": "title",
    "title": "title",
    "ort": "location",
    "location": "location",
    "place": "location",
    "gastgeber": "host_city",
    "host": "host_city",
    "hinweise": "notes",
    "notes": "notes",
}
START_OPTIONS = ("von", "beginn", "from", "start")
END_OPTIONS = ("bis", "ende", "to", "end")


def register_due(handlers: DueHandlers) -> None:
    meeting_reminders.register_due(handlers)
    handlers.add(agenda_invites.KIND, invitations.send_agenda_update)


# the options of "treffen anlegen" and "treffen N aendern" (see TEXT_OPTIONS, START_OPTIONS)
MEETING_OPTIONS = (
    Option("titel", N_("Titel"), ("title",)),
    Option("von", N_("Beginn, z. B. „12.11.2027 10 Uhr“"), ("from", "start", "beginn")),
    Option("bis", N_("Ende, z. B. „13.11.2027 16 Uhr“"), ("to", "end", "ende")),
    Option("ort", N_("Ort"), ("location", "place")),
    Option("gastgeber", N_("Gastgeberstadt"), ("host",)),
    Option("hinweise", N_("Hinweise, z. B. zur Anreise"), ("notes",)),
)
CALENDAR_OPTIONS = (Option("programm", N_("ja: mit den Programmpunkten"), ("agenda",)),)


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("treffen",),
            meetings_command,
            N_("listet die Treffen; „treffen N“ zeigt eines (Programmteam: N aendern|loeschen)"),
            "treffen [N] [aendern titel=… von=… bis=… ort=… gastgeber=… hinweise=…|loeschen] "
            "| treffen erinnerungen an|aus",
            'treffen 1 aendern ort="Hamburg, KörberForum" hinweise="Anreise bis 9:30"',
            (("meetings",), ("meeting",)),
            "jahrgang",
            needs_cohort=True,
            options=MEETING_OPTIONS,
        )
    )
    registry.add(
        CommandSpec(
            ("treffen", "anlegen"),
            create,
            N_("legt ein Treffen an (Nummer 1, 2, 3 … in Reihenfolge des Anlegens)"),
            'treffen anlegen titel="…" von="…" bis="…" [ort="…"] [gastgeber="…"] [hinweise="…"]',
            'treffen anlegen titel="Auftakt" von="12.11.2027 10 Uhr" bis="13.11.2027 16 Uhr" '
            'ort="Hamburg, KörberForum"',
            (("meeting", "create"),),
            "organisation",
            needs_cohort=True,
            options=MEETING_OPTIONS,
        )
    )
    registry.add(
        CommandSpec(
            ("kalender",),
            send_calendar,
            N_("schickt Ihnen alle Treffen als Kalenderdatei (.ics); programm=ja mit Agenda"),
            "kalender [programm=ja]",
            "kalender programm=ja",
            (("calendar",),),
            "jahrgang",
            needs_cohort=True,
            options=CALENDAR_OPTIONS,
        )
    )


def _option(ctx: CommandContext, names: tuple[str, ...]) -> str | None:
    return next((ctx.options[n] for n in names if n in ctx.options), None)


def _texts(ctx: CommandContext) -> dict[str, str | None]:
    return {
        field: (value.strip() or None) if field != "title" else value
        for key, field in TEXT_OPTIONS.items()
        if (value := ctx.options.get(key)) is not None
    }


def _echo(ctx: CommandContext, meeting: Meeting) -> list[str]:
    start = describe_when(meeting.starts_at.astimezone(ctx.tz), ctx.language)
    end = format_when(meeting.ends_at.astimezone(ctx.tz), ctx.language)
    return [f"{start} – {end}"]


def create(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    texts = _texts(ctx)
    title = texts.pop("title", None)
    if title and ctx.args:  # "ort=Hamburg Altona": the stray word would be lost
        raise UserFacingError(
            N_(
                "„{word}“ gehört zu keiner Angabe und wurde nicht angelegt. Text mit Leerzeichen "
                'gehört in Anführungszeichen, z. B. ort="Hamburg, KörberForum".'
            ),
            word=shorten(" ".join(ctx.args), 40),
        )
    title = title or " ".join(ctx.args)
    start_text, end_text = _option(ctx, START_OPTIONS), _option(ctx, END_OPTIONS)
    if not title or not start_text or not end_text:
        raise UserFacingError(
            N_(
                "Bitte geben Sie Titel, Beginn und Ende an, z. B. treffen anlegen "
                'titel="Auftakt" von="12.11.2027 10 Uhr" bis="13.11.2027 16 Uhr" '
                'ort="Hamburg, KörberForum".'
            )
        )
    start = meeting_input.parse_moment(start_text, now=ctx.now, tz=ctx.tz)
    end = meeting_input.parse_moment(
        end_text, now=ctx.now, tz=ctx.tz, day=start.astimezone(ctx.tz).date()
    )
    data = svc.MeetingData(
        title, start, end, texts.get("location"), texts.get("host_city"), texts.get("notes")
    )
    meeting = svc.create(ctx.uow, ctx.cohort, data, actor_id=ctx.person.id, now=ctx.now, tz=ctx.tz)
    invitations.send_for_meeting(ctx.uow, meeting, settings=ctx.settings, now=ctx.now)
    ctx.uow.commit()
    text = ctx._(
        N_("Treffen {n} „{title}“ ist angelegt: {span}."),
        n=meeting.number,
        title=meeting.title,
        span=svc.span_label(meeting, ctx.tz, ctx.language),
    )
    hint = ctx._(
        N_('Programmpunkte: programmpunkt {n} von="10 Uhr" bis="11:30" titel="…" [tag=2]'),
        n=meeting.number,
    )
    return Reply(Message((Section((text, *_echo(ctx, meeting))), Note(hint)), fallback=text))


def meetings_command(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    if not ctx.args:
        return _list(ctx)
    if fold(ctx.args[0]) in ("erinnerungen", "reminders"):
        return meeting_reminders.switch(ctx)
    meeting = svc.get(ctx.uow, ctx.cohort.id, meeting_input.parse_number(ctx.args[0]))
    action = fold(ctx.args[1]) if len(ctx.args) > 1 else ""
    if action in CHANGE_WORDS:
        require(ctx, "treffen aendern")
        return _change(ctx, meeting)
    if action in DELETE_WORDS:
        require(ctx, "treffen loeschen")
        return _delete(ctx, meeting, confirmed(ctx.args[2:3]))
    if alumni_commands.is_alumni_switch(ctx.args[1:]):  # "oeffnen fuer alumni" and back
        require(ctx, "treffen aendern")
        return alumni_commands.switch_meeting(ctx, meeting)
    if action:
        raise UserFacingError(
            N_("„{word}“ verstehe ich hier nicht. Möglich: treffen {n} aendern … oder loeschen."),
            word=ctx.args[1][:40],
            n=meeting.number,
        )
    return Reply(agenda_service.render(ctx.uow, meeting, ctx.tz, ctx.language))


def _list(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    found = svc.active(ctx.uow, ctx.cohort.id)
    if not found:
        return Reply(
            Message.text(
                ctx._(N_("Noch keine Treffen. Das Programmteam legt sie mit „treffen anlegen“ an."))
            )
        )
    lines = []
    for m in found:
        place = ", ".join(x for x in (m.location, m.host_city) if x)
        line = f"{m.number}. {m.title} — {svc.span_label(m, ctx.tz, ctx.language)}"
        lines.append(f"{line} — {place}" if place else line)
    head = ctx._(N_("Treffen im Jahrgang „{name}“:"), name=ctx.cohort.name)
    hint = ctx._(N_("„agenda N“ zeigt das Programm, „kalender“ schickt eine .ics-Datei."))
    return Reply(Message((Section((head,)), Bullets(tuple(lines)), Note(hint)), fallback=head))


def _changes(ctx: CommandContext, meeting: Meeting) -> dict[str, Any]:
    changes: dict[str, Any] = _texts(ctx)
    start_text, end_text = _option(ctx, START_OPTIONS), _option(ctx, END_OPTIONS)
    if start_text:
        changes["starts_at"] = meeting_input.parse_moment(start_text, now=ctx.now, tz=ctx.tz)
    if end_text:
        start = changes.get("starts_at", meeting.starts_at)
        day = start.astimezone(ctx.tz).date()
        changes["ends_at"] = meeting_input.parse_moment(end_text, now=ctx.now, tz=ctx.tz, day=day)
    if not changes:
        raise UserFacingError(
            N_(
                'Was soll sich ändern? Zum Beispiel: treffen {n} aendern von="…" bis="…" '
                'ort="…" gastgeber="…" hinweise="…" titel="…"'
            ),
            n=meeting.number,
        )
    return changes


def _change(ctx: CommandContext, meeting: Meeting) -> Reply:
    changes = _changes(ctx, meeting)
    svc.update(ctx.uow, meeting, changes, actor_id=ctx.person.id, now=ctx.now, tz=ctx.tz)
    updated = agenda_service.refresh(
        ctx.uow,
        meeting,
        now=ctx.now,
        tz=ctx.tz,
        language=post_language(meeting, ctx.default_language),
        note=N_("Agenda geändert: Treffen {n} wurde aktualisiert."),
    )
    invitations.send_for_meeting(ctx.uow, meeting, settings=ctx.settings, now=ctx.now)
    ctx.uow.commit()
    text = ctx._(
        N_("Treffen {n} „{title}“ ist geändert: {span}."),
        n=meeting.number,
        title=meeting.title,
        span=svc.span_label(meeting, ctx.tz, ctx.language),
    )
    lines = [text, *_echo(ctx, meeting)]
    if updated:
        lines.append(ctx._(N_("Die gepostete Agenda wird aktualisiert.")))
    return Reply(Message((Section(tuple(lines)),), fallback=text))


def _delete(ctx: CommandContext, meeting: Meeting, confirmed: bool) -> Reply:
    if not confirmed:
        items = len(svc.items_of(ctx.uow, meeting))
        return Reply(
            Message.text(
                ctx._(
                    N_(
                        "Treffen {n} „{title}“ mit {items} Programmpunkten wirklich löschen? "
                        "Die Erinnerungen entfallen. Schreiben Sie „treffen {n} loeschen ja“."
                    ),
                    n=meeting.number,
                    title=meeting.title,
                    items=items,
                )
            )
        )
    svc.delete(ctx.uow, meeting, actor_id=ctx.person.id, now=ctx.now)
    agenda_service.refresh(
        ctx.uow,
        meeting,
        now=ctx.now,
        tz=ctx.tz,
        language=post_language(meeting, ctx.default_language),
        note=None,
        cancelled=True,
    )
    invitations.send_for_meeting(ctx.uow, meeting, settings=ctx.settings, now=ctx.now)
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_("Treffen {n} „{title}“ ist gelöscht; die Nummer {n} wird nicht neu vergeben."),
                n=meeting.number,
                title=meeting.title,
            )
        )
    )


def send_calendar(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    with_items = fold(ctx.options.get("programm", ctx.options.get("agenda", ""))) in CONFIRM_WORDS
    count = len(svc.active(ctx.uow, ctx.cohort.id))
    data = calendar.build(
        ctx.uow,
        ctx.cohort,
        tz=ctx.tz,
        language=ctx.language,
        now=ctx.now,
        with_items=with_items,
        role=ctx.role,
    )
    dm_person(
        ctx.uow,
        ctx.person.id,
        Message.text(
            ctx._(
                N_("Kalender „{name}“: In Ihren Kalender importieren; bei Änderungen neu laden."),
                name=ctx.cohort.name,
            )
        ),
        f"calendar:{ctx.cohort.id}:{uuid4().hex}",
        ctx.now,
        file=("stadtlabor.ics", data),
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_("Ich schicke Ihnen die Kalenderdatei mit {count} Treffen als Direktnachricht."),
                count=count,
            )
        )
    )
