"""erinnern, erinnern kanal, erinnerungen, erinnerung … löschen, später — reminders on request."""

from __future__ import annotations

import re
from datetime import datetime

from bot.commands.registry import CommandRegistry, CommandSpec
from bot.context import CommandContext, Reply
from bot.dates import describe_when, parse_when
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.notifications import EMAIL, routes
from bot.router import clean, fold, strip_prefix
from bot.scheduling import digest
from bot.scheduling import service as svc
from bot.scheduling.due import DIGEST_KIND, DueHandlers
from bot.scheduling.recurrence import describe_rule, is_recurring, parse_recurring
from bot.views import Bullets, Message, Note, Section
from storage.models import Reminder

_COMMAND = re.compile(r"^\s*(?:erinnern|remind)(?:\s+(?:kanal|channel))?(?=\s|;|$)", re.I)
_EXAMPLE = N_(
    "So geht es: „erinnern morgen 9 Uhr; Bericht schicken“ – erst die Zeit, dann ein "
    "Semikolon, dann der Text. Wiederkehrend: „erinnern jeden Montag 9 Uhr; Wochenplanung“."
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("erinnern",),
            lambda ctx: remind(ctx, channel=False),
            N_(
                "erinnert Sie per Direktnachricht (einmalig oder wiederkehrend: täglich, "
                "werktags, wöchentlich, jeden zweiten Montag, monatlich)"
            ),
            "erinnern WANN; TEXT",
            "erinnern morgen 9 Uhr; Bericht an das Programmteam schicken",
            (("remind",),),
            "allgemein",
            free_text=True,
        )
    )
    add(
        CommandSpec(
            ("erinnern", "kanal"),
            lambda ctx: remind(ctx, channel=True),
            N_("postet eine Erinnerung in den Kanälen des Jahrgangs"),
            "erinnern kanal WANN; TEXT",
            "erinnern kanal jeden Montag 9 Uhr; Bitte die Umfrage beantworten",
            (("remind", "channel"),),
            "allgemein",
            needs_cohort=True,
            free_text=True,
        )
    )
    add(
        CommandSpec(
            ("erinnerungen",),
            list_reminders,
            N_("zeigt Ihre offenen Erinnerungen mit Nummer"),
            "erinnerungen",
            "erinnerungen",
            (("reminders",),),
            "allgemein",
        )
    )
    add(
        CommandSpec(
            ("erinnerung",),
            reminder_action,
            N_("löscht eine Erinnerung: erinnerung NR löschen"),
            "erinnerung NR löschen",
            "erinnerung 3 löschen",
            (("reminder",),),
            "allgemein",
        )
    )
    add(
        CommandSpec(
            ("spaeter",),
            snooze,
            N_("verschiebt die letzte Erinnerung (in der Direktnachricht)"),
            "später DAUER|WANN",
            "später 1 Stunde",
            (("snooze",),),
            "allgemein",
        )
    )


def register_due(handlers: DueHandlers) -> None:
    handlers.add(svc.KIND_DM, svc.deliver_dm)
    handlers.add(svc.KIND_CHANNEL, svc.deliver_channel)
    handlers.add(DIGEST_KIND, digest.send_digest)


def _split(ctx: CommandContext) -> tuple[str, str]:
    text, _prefix = strip_prefix(clean(ctx.request.text))
    rest = _COMMAND.sub("", text, count=1)
    if ";" not in rest:
        raise UserFacingError(_EXAMPLE)
    when, body = rest.split(";", 1)
    if not when.strip():
        raise UserFacingError(_EXAMPLE)
    return when.strip(), body.strip()


def _when(ctx: CommandContext, when: str) -> tuple[datetime, str | None]:
    if is_recurring(when):
        rule, first = parse_recurring(when, now=ctx.now, tz=ctx.settings.timezone)
        return first, rule
    return parse_when(when, now=ctx.now, tz=ctx.settings.timezone), None


def _echo(ctx: CommandContext, row: Reminder) -> str:
    echo = describe_when(row.due_at.astimezone(ctx.tz), ctx.language)
    if row.recurrence:
        rule = describe_rule(row.recurrence, ctx.language)
        return ctx._(N_("{echo} – danach {rule}."), echo=echo, rule=rule)
    return echo


def _twin(
    ctx: CommandContext,
    kind: str,
    due_at: datetime,
    body: str,
    rule: str | None,
    cohort_id: int | None,
) -> Reminder | None:
    """The same reminder, still pending: a command typed again (say, its answer was lost)."""
    for row in svc.pending_for(ctx.uow, ctx.person.id, None, False):
        same_target = row.kind == kind and row.cohort_id == cohort_id
        same_time = row.due_at == due_at and row.recurrence == rule
        if same_target and same_time and (row.text or "") == body:
            return row
    return None


def remind(ctx: CommandContext, *, channel: bool) -> Reply:
    when, body = _split(ctx)
    due_at, rule = _when(ctx, when)
    cohort_id = ctx.cohort.id if channel and ctx.cohort is not None else None
    kind = svc.KIND_CHANNEL if channel else svc.KIND_DM
    twin = _twin(ctx, kind, due_at, body, rule, cohort_id)
    if twin is not None:
        head = ctx._(
            N_("Diese Erinnerung gibt es schon (Nr. {id}); ich lege sie nicht doppelt an."),
            id=twin.id,
        )
        hint = ctx._(N_("Löschen mit „erinnerung {id} löschen“."), id=twin.id)
        return Reply(
            Message(blocks=(Section(lines=(head, _echo(ctx, twin))), Note(hint)), fallback=head)
        )
    row = svc.create(
        ctx.uow,
        person_id=ctx.person.id,
        kind=kind,
        due_at=due_at,
        text=body,
        now=ctx.now,
        cohort_id=cohort_id,
        recurrence=rule,
    )
    ctx.uow.commit()
    if channel:
        head = ctx._(N_("Erinnerung Nr. {id} für die Kanäle des Jahrgangs angelegt."), id=row.id)
    else:
        head = ctx._(_BY_ROUTE[_route_kind(ctx)], id=row.id)
    hint = ctx._(N_("Löschen mit „erinnerung {id} löschen“."), id=row.id)
    return Reply(
        Message(blocks=(Section(lines=(head, _echo(ctx, row))), Note(hint)), fallback=head)
    )


_BY_ROUTE = {
    "chat": N_("Erinnerung Nr. {id} angelegt; ich schreibe Ihnen per Direktnachricht."),
    "email": N_(
        "Erinnerung Nr. {id} angelegt; ich schreibe Ihnen per E-Mail (so haben Sie es mit "
        "„benachrichtigung“ gewählt)."
    ),
    "beides": N_(
        "Erinnerung Nr. {id} angelegt; ich schreibe Ihnen per Direktnachricht und E-Mail."
    ),
}


def _route_kind(ctx: CommandContext) -> str:
    """Where the reminder will go (bot.notifications.routes), for the confirmation."""
    platforms = {i.platform for i in routes(ctx.uow, ctx.person.id)}
    if EMAIL in platforms:
        return "beides" if len(platforms) > 1 else "email"
    return "chat"


def list_reminders(ctx: CommandContext) -> Reply:
    organiser = ctx.role == "organiser"
    cohort_id = ctx.cohort.id if ctx.cohort else None
    rows = svc.pending_for(ctx.uow, ctx.person.id, cohort_id, organiser)
    if not rows:
        return Reply(
            Message.text(
                ctx._(
                    N_("Sie haben keine offenen Erinnerungen. Neu: „erinnern morgen 9 Uhr; Text“.")
                )
            )
        )
    lines = []
    for row in rows:
        when = describe_when(row.due_at.astimezone(ctx.tz), ctx.language).split(": ", 1)[-1]
        where = ctx._(N_("Kanal")) if row.kind == svc.KIND_CHANNEL else ctx._(N_("Direktnachricht"))
        rule = f" ({describe_rule(row.recurrence, ctx.language)})" if row.recurrence else ""
        number = ctx._(N_("Nr. {id}"), id=row.id)
        lines.append(f"{number} · {when}{rule} · {where}: {row.text or ''}")
    title = ctx._(N_("Offene Erinnerungen ({count})"), count=len(rows))
    hint = ctx._(N_("Löschen mit „erinnerung NR löschen“."))
    return Reply(
        Message(blocks=(Section(lines=(title,)), Bullets(tuple(lines)), Note(hint)), fallback=title)
    )


def reminder_action(ctx: CommandContext) -> Reply:
    args = [fold(a) for a in ctx.args]
    usage = N_(
        "So geht es: „erinnerung NR löschen“, z. B. „erinnerung 3 löschen“. "
        "Die Nummern zeigt „erinnerungen“."
    )
    if len(args) != 2 or args[1] not in ("loeschen", "delete", "entfernen"):
        raise UserFacingError(usage)
    number = args[0].lstrip("#")
    if not number.isdigit() or len(number) > 12:
        raise UserFacingError(usage)
    row = svc.remove(ctx.uow, int(number), ctx.person.id, ctx.role == "organiser")
    ctx.uow.commit()
    return Reply(Message.text(ctx._(N_("Erinnerung Nr. {id} gelöscht."), id=row.id)))


def snooze(ctx: CommandContext) -> Reply:
    text = " ".join(ctx.args).strip()
    if not text:
        raise UserFacingError(N_("Wie lange? Zum Beispiel „später 1 Stunde“ oder „später morgen“."))
    if text[0].isdigit():
        text = f"in {text}"
    due_at = parse_when(text, now=ctx.now, tz=ctx.settings.timezone)
    row = svc.snooze(ctx.uow, ctx.person.id, due_at, ctx.now)
    ctx.uow.commit()
    head = ctx._(N_("Verschoben – ich erinnere Sie noch einmal (Nr. {id})."), id=row.id)
    return Reply(Message.text(head, describe_when(due_at.astimezone(ctx.tz), ctx.language)))
