"""dashboard (alias web): a one-time login link to the web pages, sent by DM."""

from __future__ import annotations

from bot.commands.registry import CommandRegistry, CommandSpec
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.outbox import dm_person
from bot.services.web_login import digest, issue_link_token
from bot.views import Message, Note, Section

LOGIN_PATH = "/anmelden/"


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("dashboard",),
            send_link,
            N_("schickt Ihnen per Direktnachricht einen Link zur Stadtlabor-Webseite"),
            "dashboard",
            "dashboard",
            (("web",),),
            "allgemein",
        )
    )


def send_link(ctx: CommandContext) -> Reply:
    if not ctx.settings.web_enabled:
        raise UserFacingError(
            N_(
                "Die Stadtlabor-Webseite ist hier nicht eingerichtet. Bitte wenden Sie sich an "
                "das Programmteam (Einstellung STADTLABOR_WEB_URL)."
            )
        )
    token = issue_link_token(ctx.uow, ctx.person.id, ctx.now)
    url = ctx.settings.web_base() + LOGIN_PATH + token
    text = ctx._(
        N_(
            "Ihr Link zur Stadtlabor-Webseite: {url}\n"
            "Er gilt 15 Minuten und nur einmal. Geben Sie ihn nicht weiter."
        ),
        url=url,
    )
    note = ctx._(N_("Einen neuen Link erhalten Sie jederzeit mit „dashboard“."))
    sent = dm_person(
        ctx.uow,
        ctx.person.id,
        Message((Section((text,)), Note(note)), fallback=text),
        key=f"web-login:{digest(token)[:16]}",
        now=ctx.now,
    )
    if not sent:
        raise UserFacingError(
            N_("Ich kann Ihnen keine Direktnachricht schicken. Bitte schreiben Sie mir direkt.")
        )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(N_("Ich habe Ihnen den Link per Direktnachricht geschickt (15 Minuten gültig)."))
        )
    )
