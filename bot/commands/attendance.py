"""teilnahme [N] ja|nein|tagN [essen=…] …, teilnahme N uebersicht|schliessen|oeffnen,
export teilnahme N."""

from __future__ import annotations

from uuid import uuid4

from bot.commands import meeting_input
from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking import alumni_commands
from bot.outbox import dm_person
from bot.permissions import require
from bot.router import fold
from bot.services import attendance as svc
from bot.services import audit
from bot.services import meetings as meeting_service
from bot.views import Bullets, Message, Note, Section
from storage.models import Meeting
from storage.models_meetings import Attendance

ANSWER_WORDS = {"ja", "yes", "nein", "no"}
NEED_OPTIONS = {
    "essen": "dietary",
    "food": "dietary",
    "ernaehrung": "dietary",
    "barrierefreiheit": "accessibility",
    "accessibility": "accessibility",
}
YES_NO = {"ja": True, "yes": True, "nein": False, "no": False}

# the options of "teilnahme" (see NEED_OPTIONS)
ATTENDANCE_OPTIONS = (
    Option("essen", N_("Essenswünsche, z. B. vegetarisch"), ("food", "ernaehrung")),
    Option("barrierefreiheit", N_("Bedarf an Barrierefreiheit"), ("accessibility",)),
    Option("uebernachtung", N_("ja oder nein: Übernachtung gewünscht"), ("overnight",)),
)


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("teilnahme",),
            attendance,
            N_("sagt zu oder ab (ganz oder tageweise), mit Essens- und Barrierefreiheitswünschen"),
            "teilnahme [N] ja|nein|tag1|tag2 [essen=…] [barrierefreiheit=…] "
            "[uebernachtung=ja|nein] | teilnahme N uebersicht|schliessen|oeffnen",
            "teilnahme 1 tag1 essen=vegetarisch uebernachtung=nein",
            (("attendance",), ("rsvp",)),
            "jahrgang",
            needs_cohort=True,
            options=ATTENDANCE_OPTIONS,
        )
    )
    registry.add(
        CommandSpec(
            ("export", "teilnahme"),
            export,
            N_("schickt die Rückmeldungen zu einem Treffen als CSV per Direktnachricht"),
            "export teilnahme N",
            "export teilnahme 1",
            (("export", "attendance"),),
            "organisation",
            needs_cohort=True,
        )
    )


def _is_answer(word: str) -> bool:
    folded = fold(word)
    return folded in ANSWER_WORDS or folded.startswith(("tag", "day"))


def attendance(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    args = list(ctx.args)
    if args and args[0].strip().lstrip("#").isdigit():
        meeting = meeting_service.get(ctx.uow, ctx.cohort.id, meeting_input.parse_number(args[0]))
        args = args[1:]
    elif args or _needs(ctx):
        found = meeting_service.upcoming(ctx.uow, ctx.cohort.id, ctx.now)
        if found is None:
            raise UserFacingError(N_("Es steht kein Treffen an. „treffen“ listet alle Treffen."))
        meeting = found
    else:
        return _mine(ctx)
    action = fold(args[0]) if args else ""
    if action in ("uebersicht", "overview"):
        require(ctx, "teilnahme uebersicht")
        return _overview(ctx, meeting)
    if action in ("schliessen", "close", "oeffnen", "open"):
        require(ctx, "teilnahme schliessen")
        closed = action in ("schliessen", "close")
        svc.close(ctx.uow, meeting, ctx.now, closed)
        ctx.uow.commit()
        msgid = (
            N_("Die Rückmeldungen für Treffen {n} sind geschlossen.")
            if closed
            else N_("Die Rückmeldungen für Treffen {n} sind wieder offen.")
        )
        return Reply(Message.text(ctx._(msgid, n=meeting.number)))
    if action and not _is_answer(action):
        raise UserFacingError(
            N_("Bitte: teilnahme {n} ja|nein|tag1|tag2 [essen=…] [barrierefreiheit=…]"),
            n=meeting.number,
        )
    if not action and not _needs(ctx):
        row = svc.answer_of(ctx.uow, meeting, ctx.person.id)
        return Reply(Message.text(_describe(ctx, meeting, row)))
    # every word is part of the answer: "tag1 tag2" is both days, never just the first
    answer = svc.Answer(svc.parse_answer(args, meeting, ctx.tz)) if action else None
    row = svc.give(ctx.uow, meeting, ctx.person, answer, ctx.now, **_needs(ctx))
    ctx.uow.commit()
    hint = ctx._(N_("Ändern können Sie das, bis das Programmteam die Rückmeldungen schließt."))
    text = _describe(ctx, meeting, row)
    if row.days == svc.NOT_ANSWERED:
        text = ctx._(
            N_(
                "Notiert für Treffen {n}: {needs}. Kommen Sie? Bitte „teilnahme {n} ja“, "
                "„nein“ oder „tag1“ … (auch mehrere Tage)."
            ),
            n=meeting.number,
            needs="; ".join(_needs_text(ctx, row)),
        )
    return Reply(Message((Section((text,)), Note(hint)), fallback=text))


def _needs(ctx: CommandContext) -> dict[str, str | bool | None]:
    needs: dict[str, str | bool | None] = {
        field: ctx.options[key] for key, field in NEED_OPTIONS.items() if key in ctx.options
    }
    raw = ctx.options.get("uebernachtung", ctx.options.get("overnight"))
    if raw is not None:
        if fold(raw.strip()) not in YES_NO:
            raise UserFacingError(N_("uebernachtung= bitte mit ja oder nein angeben."))
        needs["overnight"] = YES_NO[fold(raw.strip())]
    return needs


def _describe(ctx: CommandContext, meeting: Meeting, row: Attendance | None) -> str:
    if row is None:
        return ctx._(
            N_(
                "Für Treffen {n} „{title}“ haben Sie noch nicht geantwortet: teilnahme {n} ja|nein."
            ),
            n=meeting.number,
            title=meeting.title,
        )
    days = svc.days_of(row)
    if not days:
        text = ctx._(
            N_("Treffen {n} „{title}“: Sie sagen ab."), n=meeting.number, title=meeting.title
        )
    else:
        text = ctx._(
            N_("Treffen {n} „{title}“: Sie kommen (Tag {days})."),
            n=meeting.number,
            title=meeting.title,
            days=", ".join(str(d) for d in days),
        )
    return f"{text} {'; '.join(_needs_text(ctx, row))}".strip()


def _needs_text(ctx: CommandContext, row: Attendance) -> list[str]:
    extras = []  # each echo says what it is; nothing when nothing was given
    if row.dietary:
        extras.append(ctx._(N_("Essen: {value}"), value=row.dietary))
    if row.accessibility:
        extras.append(ctx._(N_("Barrierefreiheit: {value}"), value=row.accessibility))
    if row.overnight is not None:
        extras.append(
            ctx._(N_("mit Übernachtung")) if row.overnight else ctx._(N_("ohne Übernachtung"))
        )
    return extras


def _mine(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    lines = [
        _describe(ctx, m, svc.answer_of(ctx.uow, m, ctx.person.id))
        for m in meeting_service.active(ctx.uow, ctx.cohort.id)
        if m.ends_at > ctx.now
    ]
    if not lines:
        lines = [ctx._(N_("Es steht kein Treffen an. „treffen“ listet alle Treffen."))]
    hint = ctx._(N_("Antworten: teilnahme N ja|nein|tag1|tag2 [essen=…] [barrierefreiheit=…]"))
    return Reply(Message((Bullets(tuple(lines)), Note(hint)), fallback=lines[0]))


def _overview(ctx: CommandContext, meeting: Meeting) -> Reply:
    s = svc.summarise(ctx.uow, meeting, ctx.tz)
    none = ctx._(N_("niemand"))
    head = ctx._(
        N_("Rückmeldungen zu Treffen {n} „{title}“"), n=meeting.number, title=meeting.title
    )
    lines = [
        ctx._(N_("Tag {d}: {count} kommen"), d=d, count=count) for d, count in s.per_day.items()
    ]
    lines += [
        ctx._(N_("Absagen: {names}"), names=", ".join(s.declined) or none),
        ctx._(N_("Noch keine Antwort: {names}"), names=", ".join(s.missing) or none),
        ctx._(N_("Übernachtung: {names}"), names=", ".join(s.overnight) or none),
    ]
    needs = ctx._(N_("Essen und Barrierefreiheit: {needs}"), needs=" | ".join(s.needs) or none)
    state = (
        ctx._(N_("Die Rückmeldungen sind geschlossen."))
        if s.closed
        else ctx._(
            N_("Die Rückmeldungen sind offen (schließen: teilnahme {n} schliessen)."),
            n=meeting.number,
        )
    )
    blocks: tuple[Section | Bullets | Note, ...] = (
        Section((head,)),
        Bullets(tuple(lines)),
        Section((needs,)),
    )
    guests = alumni_commands.guests_section(ctx, meeting)  # a meeting opened for alumni
    if guests is not None:
        blocks += guests
    blocks += (Note(state),)
    return Reply(Message(blocks, fallback=head), private=True)


def export(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    if not ctx.args:
        raise UserFacingError(N_("Welches Treffen? Zum Beispiel: export teilnahme 1"))
    meeting = meeting_service.get(ctx.uow, ctx.cohort.id, meeting_input.parse_number(ctx.args[0]))
    dm_person(
        ctx.uow,
        ctx.person.id,
        Message.text(
            ctx._(
                N_("Rückmeldungen zu Treffen {n} „{title}“"), n=meeting.number, title=meeting.title
            )
        ),
        f"export-attendance:{meeting.id}:{uuid4().hex}",
        ctx.now,
        file=(f"teilnahme-treffen-{meeting.number}.csv", svc.export_csv(ctx.uow, meeting)),
    )
    audit.exported(
        ctx.uow,
        actor_id=ctx.person.id,
        cohort_id=ctx.cohort.id,
        filename=f"teilnahme-treffen-{meeting.number}.csv",
        now=ctx.now,
    )
    ctx.uow.commit()
    return Reply(Message.text(ctx._(N_("Ich schicke Ihnen die CSV-Datei als Direktnachricht."))))
