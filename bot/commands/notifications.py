"""benachrichtigung / notifications: where the bot's messages reach a person.

``benachrichtigung`` shows the choice; ``benachrichtigung chat|email|beides`` sets it (English
``notifications chat|email|both``). ``email=`` sets the person's own address on the way (checked
with bot.mail_address.normalise), ``bueroleitung=`` the office contact's address that gets
copies of meeting invitations (``bueroleitung=keine`` removes it). The routing itself is
bot.notifications.routes.
"""

from __future__ import annotations

from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.mail_address import normalise
from bot.notifications import Channel, channel_of
from bot.services import invitations
from bot.views import Message, Note, Section

_CHOICES: dict[str, Channel] = {
    "chat": "chat",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "beides": "beides",
    "both": "beides",
}
_NONE = {"keine", "keiner", "none", "-"}
OPTIONS = (
    Option("email", N_("Ihre E-Mail-Adresse"), ("e-mail",)),
    Option(
        "bueroleitung",
        N_("E-Mail-Adresse Ihrer Büroleitung für Kopien der Einladungen („keine“ entfernt sie)"),
        ("office", "buero"),
    ),
)


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("benachrichtigung",),
            notifications_command,
            N_("wählt, wo Sie Nachrichten des Bots erhalten: im Chat, per E-Mail oder beides"),
            "benachrichtigung [chat|email|beides] [email=…] [bueroleitung=…]",
            "benachrichtigung beides bueroleitung=buero@musterstadt.de",
            (("notifications",),),
            "datenschutz",
            options=OPTIONS,
        )
    )


def notifications_command(ctx: CommandContext) -> Reply:
    person = ctx.person
    words = [a.strip().lower() for a in ctx.args if a.strip()]
    if len(words) > 1 or (words and words[0] not in _CHOICES):
        raise UserFacingError(
            N_(
                "Bitte wählen Sie „benachrichtigung chat“, „benachrichtigung email“ oder "
                "„benachrichtigung beides“."
            )
        )
    changed = False
    if "email" in ctx.options:
        person.email = normalise(ctx.options["email"])
        changed = True
    if "bueroleitung" in ctx.options:
        given = ctx.options["bueroleitung"].strip()
        person.office_email = None if given.lower() in _NONE else normalise(given)
        changed = True
    if words:
        choice = _CHOICES[words[0]]
        if choice in ("email", "beides") and not person.email:
            raise UserFacingError(
                N_(
                    "Für Nachrichten per E-Mail brauche ich Ihre Adresse: "
                    "„benachrichtigung {choice} email=name@kommune.de“."
                ),
                choice=words[0],
            )
        person.notify_via = choice
        changed = True
    if changed:
        invitations.send_for_person(ctx.uow, person.id, settings=ctx.settings, now=ctx.now)
        ctx.uow.commit()
    return Reply(_summary(ctx, changed))


def _summary(ctx: CommandContext, changed: bool) -> Message:
    person = ctx.person
    choice = channel_of(ctx.uow, person)
    where = {
        "chat": ctx._(N_("im Chat")),
        "email": ctx._(N_("per E-Mail an {address}"), address=person.email or "—"),
        "beides": ctx._(N_("im Chat und per E-Mail an {address}"), address=person.email or "—"),
    }[choice]
    lead = (
        N_("Gespeichert: Sie erhalten Nachrichten des Bots {where}.")
        if changed
        else N_("Sie erhalten Nachrichten des Bots {where}.")
    )
    lines = [ctx._(lead, where=where)]
    if person.office_email:
        lines.append(
            ctx._(
                N_("Kopien der Einladungen gehen an Ihre Büroleitung: {address}."),
                address=person.office_email,
            )
        )
    return Message(
        blocks=(
            Section(lines=tuple(lines)),
            Note(
                ctx._(
                    N_(
                        "Ändern: „benachrichtigung chat“, „benachrichtigung email“ oder "
                        "„benachrichtigung beides“; Büroleitung: „benachrichtigung "
                        "bueroleitung=…“."
                    )
                )
            ),
        ),
        fallback=lines[0],
    )
