"""ueberblick (overview, status) and nachfassen (nudge) — the personal overview and dashboard."""

from __future__ import annotations

from typing import Literal

from bot.commands.registry import CommandRegistry, CommandSpec
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import fold
from bot.services import overview as svc
from bot.services import overview_nudge as nudges
from bot.views import Message

Kind = Literal["umfrage", "feedback", "teilnahme"]
KINDS: dict[str, Kind] = {
    "umfrage": "umfrage",
    "poll": "umfrage",
    "feedback": "feedback",
    "teilnahme": "teilnahme",
    "attendance": "teilnahme",
    "treffen": "teilnahme",
}
LABELS: dict[Kind, str] = {
    "umfrage": N_("Umfrage {n}"),
    "feedback": N_("Feedback-Runde {n}"),
    "teilnahme": N_("der Teilnahme an Treffen {n}"),
}
USAGE = N_(
    "So geht es: „nachfassen umfrage 3“, „nachfassen feedback 2“ oder „nachfassen teilnahme 1“ "
    "– die Nummern zeigt „ueberblick“."
)


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("ueberblick",),
            show_overview,
            N_("zeigt Ihren Stand: Anmeldung, nächstes Treffen, offene Umfragen und Feedback"),
            "ueberblick",
            "ueberblick",
            (("overview",), ("status",), ("uebersicht",)),
            "allgemein",
        )
    )
    registry.add(
        CommandSpec(
            ("nachfassen",),
            nudge_missing,
            N_("erinnert alle, die bei einer Umfrage, Feedback-Runde oder Teilnahme noch fehlen"),
            "nachfassen umfrage|feedback|teilnahme NUMMER",
            "nachfassen umfrage 3",
            (("nudge",),),
            "organisation",
            needs_cohort=True,
        )
    )


def show_overview(ctx: CommandContext) -> Reply:
    _model, message = svc.overview(
        ctx.uow,
        ctx.person,
        ctx.cohort,
        role=ctx.role,
        now=ctx.now,
        settings=ctx.settings,
        language=ctx.language,
    )
    return Reply(message, private=True)


def _parse(ctx: CommandContext) -> tuple[Kind, int]:
    args = [fold(a) for a in ctx.args]
    if len(args) != 2 or args[0] not in KINDS:
        raise UserFacingError(USAGE)
    number = args[1].lstrip("#")
    if not number.isdigit() or len(number) > 9:
        raise UserFacingError(USAGE)
    return KINDS[args[0]], int(number)


def nudge_missing(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    kind, number = _parse(ctx)
    done = nudges.nudge(
        ctx.uow,
        ctx.cohort,
        kind,
        number,
        actor_id=ctx.person.id,
        now=ctx.now,
        settings=ctx.settings,
    )
    ctx.uow.commit()
    what = ctx._(LABELS[kind], n=number)
    if done.missing == 0:
        text = ctx._(N_("Bei {what} fehlt niemand mehr – keine Erinnerung nötig."), what=what)
    elif done.sent == done.missing:
        text = ctx._(
            N_("Erinnerung an {sent} Person(en) verschickt, die bei {what} noch fehlen."),
            sent=done.sent,
            what=what,
        )
    else:
        text = ctx._(
            N_(
                "Erinnerung an {sent} von {missing} fehlenden Person(en) verschickt; "
                "die anderen wurden heute schon erinnert."
            ),
            sent=done.sent,
            missing=done.missing,
        )
    return Reply(Message.text(text), private=True)
