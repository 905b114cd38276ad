"""hilfe / help and sprache / language."""

from __future__ import annotations

from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply, Role
from bot.errors import UserFacingError
from bot.i18n import LANGUAGES, N_
from bot.permissions import PERMISSIONS, access, refusal
from bot.router import shorten
from bot.views import Bullets, Header, Message, Note, Section

GROUPS = {
    "allgemein": N_("Allgemein"),
    "jahrgang": N_("Jahrgang und Anmeldung"),
    "datenschutz": N_("Ihre Daten"),
    "organisation": N_("Für das Programmteam"),
}


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            words=("hilfe",),
            aliases=(("help",), ("?",)),
            handler=lambda ctx: help_command(ctx, registry),
            summary=N_("zeigt, was Sie hier tun können; „hilfe BEFEHL“ erklärt einen Befehl"),
            syntax="hilfe [BEFEHL]",
            example="hilfe anmelden",
        )
    )
    registry.add(
        CommandSpec(
            words=("sprache",),
            aliases=(("language",),),
            handler=language_command,
            summary=N_("stellt Ihre Sprache ein: Deutsch oder Englisch"),
            syntax="sprache de|en",
            example="sprache en",
        )
    )


def help_command(ctx: CommandContext, registry: CommandRegistry) -> Reply:
    topic = " ".join(a.strip() for a in ctx.args if a.strip())
    if topic:
        return _help_for(ctx, registry, topic)
    groups: dict[str, list[str]] = {}
    for spec in registry.specs:
        if access(spec.key, ctx.role) == "refused":
            continue
        groups.setdefault(spec.group, []).append(f"{ctx._(spec.syntax)} — {ctx._(spec.summary)}")
    blocks: list[Header | Section | Bullets | Note] = [
        Header(ctx._(N_("Stadtlabor-Bot: was Sie tun können"))),
    ]
    for group, label in GROUPS.items():
        if groups.get(group):
            blocks.append(Section(lines=(ctx._(label),)))
            blocks.append(Bullets(items=tuple(groups[group])))
    blocks.append(
        Note(ctx._(N_("Schreiben Sie „hilfe BEFEHL“ für ein Beispiel, z. B. „hilfe anmelden“.")))
    )
    return Reply(Message(blocks=tuple(blocks), fallback=ctx._(N_("Hilfe"))))


def _help_for(ctx: CommandContext, registry: CommandRegistry, name: str) -> Reply:
    spec = registry.lookup(name) or registry.lookup(name.split()[0])
    if spec is None:
        suggestion = registry.suggest(name)
        raise UserFacingError(
            N_(
                "Zu „{name}“ gibt es keine Hilfe, weil es diesen Befehl nicht gibt.{hint} "
                "„hilfe“ listet alle Befehle."
            ),
            name=shorten(name, 40),
            hint=f" → {suggestion}?" if suggestion else "",
        )
    lines = (
        ctx._(spec.summary),
        ctx._(N_("Aufruf: {syntax}"), syntax=ctx._(spec.syntax)),
        ctx._(
            N_("Beispiel: {example}"),
            example=ctx._(example_for(spec.example, spec.key, ctx.role)),
        ),
    )
    # syntax and example are German; help.po holds them with the English names and aliases
    blocks: list[Header | Section | Bullets | Note] = [
        Header(ctx._(spec.syntax)),
        Section(lines=lines),
    ]
    if spec.options:
        blocks.append(Section(lines=(ctx._(N_("Angaben (NAME=WERT):")),)))
        blocks.append(Bullets(items=tuple(_option_line(ctx, o) for o in spec.options)))
    # only word aliases: "1." (a numbered feedback answer) is not worth listing
    aliases = ", ".join(" ".join(a) for a in spec.aliases if a[0][:1].isalpha())
    if aliases:
        blocks.append(Note(ctx._(N_("Auch: {aliases}"), aliases=aliases)))
    if access(spec.key, ctx.role) == "refused":  # the dispatcher's words: not always organisers
        blocks.append(Note(ctx._(refusal(spec.key, ctx.role), command=spec.key)))
    return Reply(Message(blocks=tuple(blocks), fallback=ctx._(spec.syntax)))


def example_for(example: str, key: str, role: Role) -> str:
    """The spec's example, unless it runs a sub-action the role may not run (``treffen 1
    aendern …`` for a participant): then only the command's words."""
    words = [w for w in example.split() if not w.isdigit()]
    sub = next(
        (k for n in range(len(words), 0, -1) if (k := " ".join(words[:n])) in PERMISSIONS), key
    )
    return key if access(sub, role) == "refused" else example


def _option_line(ctx: CommandContext, option: Option) -> str:
    """``plaetze= (seats=) — …``; in English the English name comes first."""
    names = list(option.names)
    if ctx.language == "en" and option.aliases:
        names = [option.aliases[0], option.name, *option.aliases[1:]]
    also = ", ".join(f"{n}=" for n in names[1:])
    return f"{names[0]}=" + (f" ({also})" if also else "") + f" — {ctx._(option.help)}"


def language_command(ctx: CommandContext) -> Reply:
    choice = (ctx.args[0].lower() if ctx.args else "").strip()
    aliases = {"deutsch": "de", "german": "de", "englisch": "en", "english": "en"}
    choice = aliases.get(choice, choice)
    if choice not in LANGUAGES:
        raise UserFacingError(
            N_("Bitte wählen Sie „sprache de“ (Deutsch) oder „sprache en“ (English).")
        )
    ctx.person.language = choice
    ctx.uow.commit()
    if choice == "en":
        return Reply(Message.text("From now on I will answer you in English."))
    return Reply(Message.text("Ab jetzt antworte ich Ihnen auf Deutsch."))
