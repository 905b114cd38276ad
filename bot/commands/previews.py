"""What the organiser sees before a poll or a feedback round goes to the cohort: every value
the bot read from the command, spelled out, so a misread option or date is caught in time."""

from __future__ import annotations

from bot.context import CommandContext
from bot.i18n import N_, format_when
from bot.services.feedback_start import RoundRequest
from bot.services.poll_spec import PollSpec
from bot.views import Bullets, Header, Message, Section


def poll(ctx: CommandContext, spec: PollSpec) -> Message:
    lines = [
        ctx._(N_("Anonym: ja")) if spec.anonymous else ctx._(N_("Anonym: nein (namentlich)")),
        ctx._(N_("Auswahl: höchstens {n} Optionen"), n=spec.max_choices)
        if spec.max_choices > 1
        else ctx._(N_("Auswahl: eine Option")),
    ]
    if not spec.anonymous:
        lines.append(
            ctx._(N_("Ergebnis: live"))
            if spec.results_live
            else ctx._(N_("Ergebnis: erst nach dem Schluss"))
        )
    if spec.closes_at is not None:
        lines.append(
            ctx._(
                N_("Schluss: {when}"),
                when=format_when(spec.closes_at.astimezone(ctx.tz), ctx.language),
            )
        )
    else:
        lines.append(ctx._(N_("Schluss: von Hand („umfrage N schliessen“)")))
    return Message(
        (
            Header(spec.question),
            Bullets(tuple(f"{i}. {label}" for i, label in enumerate(spec.options, 1))),
            Section(tuple(lines)),
        ),
        fallback=spec.question[:150],
    )


def feedback_round(ctx: CommandContext, wanted: RoundRequest, questions: list[str]) -> Message:
    names = ", ".join(p.display_name or "?" for p in wanted.presenters)
    lines = [
        ctx._(N_("Für: {subject}"), subject=wanted.subject or names or "?"),
        ctx._(N_("Anonym: ja")) if wanted.anonymous else ctx._(N_("Anonym: nein (namentlich)")),
        ctx._(
            N_("Schluss: {when}"),
            when=format_when(wanted.closes_at.astimezone(ctx.tz), ctx.language),
        ),
    ]
    return Message(
        (
            Header(wanted.title),
            Section(tuple(lines)),
            Bullets(tuple(ctx._(q) for q in questions)),
        ),
        fallback=wanted.title[:150],
    )
