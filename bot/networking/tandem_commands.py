"""tandems starten, tandems — organisers pair the cohort for an exchange between meetings."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.dates import parse_deadline
from bot.i18n import N_
from bot.networking import tandems, views
from bot.services import meetings
from bot.views import Message


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("tandems", "starten"),
            start_tandems,
            N_("bildet Tandems aus den bestätigten Teilnehmenden und stellt sie einander vor"),
            "tandems starten [thema=…] [bis=…]",
            "tandems starten thema=Pflege bis=15.01.2027",
            (("tandems", "start"),),
            "organisation",
            needs_cohort=True,
            options=(
                Option("thema", N_("ein Thema für alle Tandems (optional)"), ("topic",)),
                Option("bis", N_("bis wann, z. B. 15.01.2027"), ("until",)),
            ),
        )
    )
    registry.add(
        CommandSpec(
            ("tandems",),
            show_tandems,
            N_("zeigt die Tandems der letzten Runde"),
            "tandems",
            "tandems",
            (),
            "organisation",
            needs_cohort=True,
        )
    )


def start_tandems(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    until = ctx.options.get("bis") or ctx.options.get("until")
    if until:
        due_at = parse_deadline(until, now=ctx.now, tz=ctx.settings.timezone)
    else:  # until the next meeting, else four weeks
        meeting = meetings.upcoming(ctx.uow, ctx.cohort.id, ctx.now)
        due_at = meeting.starts_at if meeting else ctx.now + timedelta(weeks=4)
    started = tandems.start(
        ctx.uow,
        cohort=ctx.cohort,
        theme=ctx.options.get("thema") or ctx.options.get("topic"),
        due_at=due_at,
        now=ctx.now,
        default_language=ctx.default_language,
        tz=ctx.tz,
    )
    ctx.uow.commit()
    return Reply(
        views.tandems_message(ctx._, started.round, started.groups, started.unplaced, ctx.tz)
    )


def show_tandems(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    found = tandems.latest(ctx.uow, ctx.cohort.id)
    if found is None:
        return Reply(
            Message.text(
                ctx._(N_("Noch keine Tandems. Starten: tandems starten [thema=…] [bis=…]"))
            )
        )
    return Reply(views.tandems_message(ctx._, found[0], found[1], [], ctx.tz))
