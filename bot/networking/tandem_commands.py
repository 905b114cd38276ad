"""tandems starten, tandems, tandems stand (organisers) and tandem ja|nein|namen (members):
pairing the cohort for an exchange between meetings, and how it went."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.dates import parse_deadline
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking import tandem_followup, tandems, views
from bot.router import fold
from bot.scheduling.due import DueHandlers
from bot.services import meetings
from bot.services.feedback_answers import message_body
from bot.views import Form, FormField, Message

FORM_ID = "tandem"
YES = {"ja", "yes"}
NO = {"nein", "no"}
_ANSWER = re.compile(r"^\s*tandem\s+(?:ja|nein|yes|no)\b[\s:,.!-]*", re.IGNORECASE)


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
    registry.add(
        CommandSpec(
            ("tandems", "stand"),
            show_status,
            N_("zeigt, wie viele Tandems sich ausgetauscht haben, und ihre Erkenntnisse"),
            "tandems stand",
            "tandems stand",
            (("tandems", "status"),),
            "organisation",
            needs_cohort=True,
        )
    )
    registry.add(
        CommandSpec(
            ("tandem",),
            answer,
            N_(
                "beantwortet „Haben Sie sich ausgetauscht?“ für Ihr Tandem: ja mit einer "
                "Erkenntnis in einem Satz, oder nein; „tandem namen ja“ zeigt Ihren Namen dazu"
            ),
            "tandem ja [ERKENNTNIS] | tandem nein | tandem namen ja|nein",
            "tandem ja Die Nachbarkommune hat einen Pflegestammtisch, den probieren wir aus.",
            (),
            "jahrgang",
            needs_cohort=True,
            free_text=True,
        )
    )
    registry.add_form(FORM_ID, "tandem", submit_form)


def register_due(handlers: DueHandlers) -> None:
    handlers.add(tandem_followup.KIND_NUDGE, tandem_followup.nudge)
    handlers.add(tandem_followup.KIND_ASK, tandem_followup.ask)


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


NONE_YET = N_("Noch keine Tandems. Starten: tandems starten [thema=…] [bis=…]")


def show_tandems(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    found = tandems.latest(ctx.uow, ctx.cohort.id)
    if found is None:
        return Reply(Message.text(ctx._(NONE_YET)))
    return Reply(views.tandems_message(ctx._, found[0], found[1], [], ctx.tz))


def show_status(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    found = tandems.latest(ctx.uow, ctx.cohort.id)
    if found is None:
        return Reply(Message.text(ctx._(NONE_YET)))
    status = tandem_followup.status(ctx.uow, found[0])
    return Reply(views.tandem_status_message(ctx._, found[0], status, ctx.tz))


def answer(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    word = fold(ctx.args[0]) if ctx.args else ""
    if word in ("namen", "name", "names"):
        return _named(ctx, [fold(a) for a in ctx.args[1:]])
    if word not in YES | NO:
        raise UserFacingError(
            N_(
                "Bitte antworten Sie mit „tandem ja“ (gern mit einer Erkenntnis in einem Satz "
                "dahinter) oder „tandem nein“; „tandem namen ja|nein“ legt fest, ob das "
                "Programmteam Ihren Namen bei der Erkenntnis sieht."
            )
        )
    body = message_body(ctx.request.text)
    typed = _ANSWER.match(body)
    insight = body[typed.end() :] if typed else " ".join(ctx.args[1:])
    met = word in YES
    if met and not insight.strip() and ctx.request.can_open_forms:
        tandem_followup.round_of(ctx.uow, ctx.cohort.id, ctx.person.id)  # refuse early
        return Reply(form=_form(ctx))
    return _store(ctx, met, insight, None)


def _form(ctx: CommandContext) -> Form:
    return Form(
        FORM_ID,
        ctx._(N_("Ihr Tandem")),
        (
            FormField(
                "erkenntnis",
                ctx._(N_("Ihre Erkenntnis in einem Satz (freiwillig)")),
                "longtext",
                required=False,
                max_length=tandem_followup.MAX_INSIGHT,
            ),
            FormField(
                "namen",
                ctx._(N_("Darf das Programmteam Ihren Namen dazu sehen?")),
                "select",
                required=False,
                options=("nein", "ja"),
            ),
        ),
        ctx._(N_("Speichern")),
        intro=(ctx._(N_("Schön, dass Sie sich ausgetauscht haben!")),),
    )


def submit_form(ctx: CommandContext, values: dict[str, str]) -> Reply:
    named = fold(values.get("namen") or "nein") in YES
    return _store(ctx, True, values.get("erkenntnis") or "", named)


def _store(ctx: CommandContext, met: bool, insight: str, named: bool | None) -> Reply:
    assert ctx.cohort is not None
    tandem_round, row = tandem_followup.answer(
        ctx.uow, cohort_id=ctx.cohort.id, person=ctx.person, met=met, insight=insight, named=named
    )
    ctx.uow.commit()
    if not met:
        text = N_(
            "Danke für Ihre ehrliche Antwort zu Tandem-Runde {number}. Vielleicht klappt es "
            "in der nächsten Runde."
        )
    elif row.insight:
        text = (
            N_(
                "Danke! Ihre Erkenntnis ist gespeichert; das Programmteam sieht sie mit Ihrem "
                "Namen."
            )
            if row.named
            else N_(
                "Danke! Ihre Erkenntnis ist gespeichert; das Programmteam sieht sie ohne Ihren "
                "Namen („tandem namen ja“ erlaubt ihn)."
            )
        )
    else:
        text = N_(
            "Danke! Gespeichert: Sie haben sich ausgetauscht. Eine Erkenntnis können Sie "
            "nachreichen: „tandem ja Ihre Erkenntnis in einem Satz“."
        )
    return Reply(Message.text(ctx._(text, number=tandem_round.number)), private=True)


def _named(ctx: CommandContext, rest: list[str]) -> Reply:
    assert ctx.cohort is not None
    if len(rest) != 1 or rest[0] not in YES | NO:
        raise UserFacingError(N_("Bitte „tandem namen ja“ oder „tandem namen nein“."))
    named = rest[0] in YES
    tandem_followup.set_named(ctx.uow, cohort_id=ctx.cohort.id, person=ctx.person, named=named)
    ctx.uow.commit()
    text = (
        N_("In Ordnung: Das Programmteam sieht Ihre Erkenntnis mit Ihrem Namen.")
        if named
        else N_("In Ordnung: Das Programmteam sieht Ihre Erkenntnis ohne Ihren Namen.")
    )
    return Reply(Message.text(ctx._(text)), private=True)
