"""verknuepfen: link your identities on two platforms, so that you are one person."""

from __future__ import annotations

from bot.commands.registry import CommandRegistry, CommandSpec
from bot.context import CommandContext, Reply
from bot.i18n import N_
from bot.services import linking
from bot.views import Message, Note, Section


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("verknuepfen",),
            link,
            N_("verknüpft Ihre Konten auf Slack und Matrix (einmaliger Code)"),
            "verknuepfen [CODE]",
            "verknuepfen K7M2QX9P",
            (("link",),),
            "allgemein",
        )
    )


def link(ctx: CommandContext) -> Reply:
    if not ctx.args:
        code = linking.new_code(ctx.uow, ctx.person, ctx.now)
        ctx.uow.commit()
        text = ctx._(
            N_(
                "Ihr Code: {code}. Schreiben Sie auf der anderen Plattform innerhalb von "
                "15 Minuten „verknuepfen {code}“ an den Bot."
            ),
            code=code,
        )
        note = ctx._(N_("Danach sind beide Konten eine Person: eine Anmeldung, eine Stimme."))
        return Reply(Message((Section((text,)), Note(note)), fallback=text))
    configured = ctx.settings.organizer_identities
    target = linking.redeem(ctx.uow, ctx.person, ctx.args[0], ctx.now, configured)
    ctx.uow.commit()
    identities = ", ".join(
        f"{i.platform}:{i.external_id}" for i in ctx.uow.persons.identities_of(target.id)
    )
    return Reply(Message.text(ctx._(N_("Verknüpft: {identities}."), identities=identities)))
