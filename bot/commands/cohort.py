"""jahrgang, jahrgang anlegen|verbinden|abschliessen."""

from __future__ import annotations

from datetime import time

from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.dates import describe_when, parse_when
from bot.errors import UserFacingError
from bot.i18n import N_, format_when
from bot.router import confirmed, fold
from bot.services import cohorts, functions
from bot.views import Actions, Bullets, Button, Header, Message, Note, Section

# the options of "jahrgang anlegen": one table for parsing, "hilfe" and refusals
CREATE_OPTIONS = (
    Option("plaetze", N_("Anzahl der Plätze (Standard 20)"), ("seats", "capacity"), "positive"),
    Option("anmeldeschluss", N_("Anmeldeschluss, z. B. 15.10.2027"), ("deadline",)),
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("jahrgang",),
            show,
            N_("zeigt den Jahrgang dieses Kanals: Plätze, Frist, Termine"),
            "jahrgang",
            "jahrgang",
            (("cohort",),),
            "jahrgang",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("jahrgang", "anlegen"),
            create,
            N_("legt einen Jahrgang an und verbindet ihn mit diesem Kanal"),
            'jahrgang anlegen "NAME" [plaetze=20] [moderiert] [anmeldeschluss="…"]',
            'jahrgang anlegen "Stadtlabor 2026/27" plaetze=20 anmeldeschluss="31.12.2026"',
            (("cohort", "create"),),
            "organisation",
            options=CREATE_OPTIONS,
        )
    )
    add(
        CommandSpec(
            ("jahrgang", "verbinden"),
            bind,
            N_("verbindet diesen Kanal (auch auf der anderen Plattform) mit einem Jahrgang"),
            'jahrgang verbinden "NAME"',
            'jahrgang verbinden "Stadtlabor 2026/27"',
            (("cohort", "connect"),),
            "organisation",
        )
    )
    add(
        CommandSpec(
            ("jahrgang", "abschliessen"),
            close,
            N_("beendet den Jahrgang"),
            "jahrgang abschliessen",
            "jahrgang abschliessen",
            (("cohort", "close"),),
            "organisation",
            needs_cohort=True,
        )
    )


def show(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    data = cohorts.info(ctx.uow, ctx.cohort)
    lines = [
        ctx._(
            N_("Plätze: {confirmed} von {capacity} belegt, {waiting} auf der Warteliste"),
            confirmed=data.confirmed,
            capacity=data.capacity,
            waiting=data.waitlisted,
        ),
        ctx._(N_("Anmeldung: mit Bestätigung durch das Programmteam"))
        if data.moderated
        else ctx._(N_("Anmeldung: Plätze in der Reihenfolge der Anmeldung")),
        ctx._(
            N_("Anmeldeschluss: {date}"),
            date=format_when(data.deadline.astimezone(ctx.tz), ctx.language),
        )
        if data.deadline
        else ctx._(N_("Anmeldeschluss: keiner")),
    ]
    if data.ended_at is not None:
        lines.append(
            ctx._(
                N_("Ende: {date}"), date=format_when(data.ended_at.astimezone(ctx.tz), ctx.language)
            )
        )
    if counts := functions.function_counts(ctx.uow, ctx.cohort.id):  # by category
        shown = ", ".join(f"{ctx._(category)} {n}" for category, n in counts)
        lines.append(ctx._(N_("Funktionen: {counts}"), counts=shown))
    meetings = tuple(
        f"{n}. {title} – {format_when(start.astimezone(ctx.tz), ctx.language)}"
        for n, title, start in data.meetings
    )
    blocks: list[Header | Section | Bullets | Note] = [Header(data.name), Section(tuple(lines))]
    if meetings:
        blocks.append(Bullets(meetings))
    return Reply(Message(tuple(blocks), fallback=data.name))


def create(ctx: CommandContext) -> Reply:
    if not ctx.args:
        raise UserFacingError(
            N_('Bitte nennen Sie den Namen, z. B. jahrgang anlegen "Stadtlabor 2026/27".')
        )
    name = ctx.args[0]
    flags = {fold(a) for a in ctx.args[1:]}
    capacity = _int_option(ctx, "plaetze", 20)
    deadline = None
    if "anmeldeschluss" in ctx.options:
        deadline = parse_when(
            ctx.options["anmeldeschluss"],
            now=ctx.now,
            tz=ctx.settings.timezone,
            default_time=time(23, 59),
        )
    became_organiser = not ctx.person.is_organiser
    ctx.person.is_organiser = True  # the dispatcher only lets organisers (or the bootstrap) here
    cohort = cohorts.create_cohort(
        ctx.uow,
        actor_id=ctx.person.id,
        name=name,
        capacity=capacity,
        moderated="moderiert" in flags or "moderated" in flags,
        deadline=deadline,
        platform=ctx.request.conversation.platform,
        channel_id=None
        if ctx.request.conversation.is_direct
        else ctx.request.conversation.channel_id,
        now=ctx.now,
    )
    ctx.uow.commit()
    lines = [
        ctx._(
            N_("Jahrgang „{name}“ angelegt: {capacity} Plätze."),
            name=cohort.name,
            capacity=cohort.capacity,
        )
    ]
    if deadline is not None:
        lines.append(
            ctx._(
                N_("Anmeldeschluss – {when}"),
                when=describe_when(deadline.astimezone(ctx.tz), ctx.language),
            )
        )
    if became_organiser:
        lines.append(
            ctx._(N_("Es gab noch niemanden im Programmteam: Sie sind jetzt Organisator/in."))
        )
    lines.append(ctx._(N_("Teilnehmende melden sich hier mit „anmelden“ an.")))
    return Reply(Message.text(*lines), private=False)


def _int_option(ctx: CommandContext, key: str, default: int) -> int:
    raw = ctx.options.get(key)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise UserFacingError(N_("„{key}“ muss eine ganze Zahl sein, z. B. {key}=20."), key=key)
    return int(raw)


def bind(ctx: CommandContext) -> Reply:
    conv = ctx.request.conversation
    if conv.is_direct or conv.channel_id is None:
        raise UserFacingError(
            N_(
                "Bitte schreiben Sie „jahrgang verbinden“ im Kanal, der "
                "verbunden werden soll, nicht im Direktchat."
            )
        )
    if not ctx.args:
        raise UserFacingError(
            N_('Bitte nennen Sie den Jahrgang, z. B. jahrgang verbinden "Stadtlabor 2026/27".')
        )
    cohort = cohorts.bind_channel(
        ctx.uow,
        actor_id=ctx.person.id,
        name=ctx.args[0],
        platform=conv.platform,
        channel_id=conv.channel_id,
        now=ctx.now,
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(N_("Dieser Kanal gehört jetzt zum Jahrgang „{name}“."), name=cohort.name)
        ),
        private=False,
    )


def close(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    if not confirmed(ctx.args):
        return Reply(
            Message(
                (
                    Section(
                        (
                            ctx._(
                                N_(
                                    "Den Jahrgang „{name}“ wirklich abschließen? Danach beginnt "
                                    "die Aufbewahrungsfrist für personenbezogene Daten."
                                ),
                                name=ctx.cohort.name,
                            ),
                        )
                    ),
                    Note(
                        ctx._(N_("Zum Bestätigen: {command}"), command="jahrgang abschliessen ja")
                    ),
                    Actions(
                        (
                            Button(
                                ctx._(N_("Ja, abschließen")),
                                "close",
                                "yes",
                                "danger",
                                "jahrgang abschliessen ja",
                            ),
                        )
                    ),
                ),
                fallback=ctx.cohort.name,
            )
        )
    cohorts.close_cohort(ctx.uow, actor_id=ctx.person.id, cohort=ctx.cohort, now=ctx.now)
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_(
                    "Der Jahrgang „{name}“ ist abgeschlossen. Personenbezogene Daten werden "
                    "nach {days} Tagen gelöscht."
                ),
                name=ctx.cohort.name,
                days=ctx.settings.retention_days,
            )
        )
    )
