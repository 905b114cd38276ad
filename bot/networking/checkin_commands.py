"""checkin (answer, share), checkin tag (organisers: the day, on/off), checkins (the cohort's
Vorhaben with their latest check-in) and the check-ins' scheduled work."""

from __future__ import annotations

import re

from bot.commands.registry import CommandRegistry, CommandSpec
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_, format_when
from bot.networking import checkin_views as views
from bot.networking import checkins
from bot.router import fold
from bot.scheduling.due import DueHandlers
from bot.scheduling.recurrence import describe_rule
from bot.services.feedback_answers import message_body, parse_numbered
from bot.views import Message

YES, NO = {"ja", "yes"}, {"nein", "no"}
OFF = {"aus", "off", "stopp", "stop"}
ON = {"an", "on", "standard", "default"}
_COMMAND = re.compile(r"^\s*checkin(?:\s+(?:antworten|answer))?\b[ \t:]*\n?", re.IGNORECASE)
USAGE = N_(
    "So geht es: „checkin“ öffnet die drei Fragen; „checkin 1. … 2. … 3. …“ antwortet in einer "
    "Nachricht; „checkin teilen ja|nein“ zeigt Ihren letzten Check-in dem Jahrgang oder nicht."
)


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("checkin",),
            answer,
            N_(
                "beantwortet den monatlichen Check-in zu Ihrem Vorhaben (Fortschritt, "
                "Hindernis, was helfen würde); „checkin teilen ja“ zeigt ihn dem Jahrgang"
            ),
            "checkin [1. … 2. … 3. …] | checkin teilen ja|nein",
            "checkin 1. Bürgerbefragung ausgewertet 2. Personal fehlt 3. Beispiele aus anderen "
            "Kommunen",
            (),
            "jahrgang",
            needs_cohort=True,
            free_text=True,
        )
    )
    registry.add(
        CommandSpec(
            ("checkin", "tag"),
            set_day,
            N_(
                "legt den Tag der monatlichen Check-ins fest und schaltet sie an (Standard: "
                "erster Montag, 9:00) oder mit „aus“ ab"
            ),
            "checkin tag [erster montag 9:00|an|aus]",
            "checkin tag erster montag 9:00",
            (("checkin", "day"),),
            "organisation",
            needs_cohort=True,
        )
    )
    registry.add(
        CommandSpec(
            ("checkins",),
            show,
            N_("zeigt die Vorhaben des Jahrgangs mit ihrem letzten (geteilten) Check-in"),
            "checkins",
            "checkins",
            (),
            "jahrgang",
            needs_cohort=True,
        )
    )
    registry.add_form(views.FORM_ID, "checkin", submit_form)


def register_due(handlers: DueHandlers) -> None:
    handlers.add(checkins.KIND_ASK, checkins.ask)
    handlers.add(checkins.KIND_NUDGE, checkins.nudge)
    handlers.add(checkins.KIND_DIGEST, checkins.digest)


def answer(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    word = fold(ctx.args[0]) if ctx.args else ""
    if word in ("teilen", "share"):
        return _share(ctx, [fold(a) for a in ctx.args[1:]])
    body = message_body(ctx.request.text)
    typed = _COMMAND.match(body)
    rest = (body[typed.end() :] if typed else "").strip()
    if rest and not re.match(r"1\s*[.)]", rest):
        raise UserFacingError(USAGE)
    profile = checkins.check_may_answer(ctx.uow, ctx.cohort.id, ctx.person)
    if not rest:
        period = checkins.period_of(ctx.now, ctx.settings)
        before = checkins.answer_of(ctx.uow, ctx.cohort.id, ctx.person.id, period)
        return Reply(form=views.form(ctx._, profile, before))
    progress, obstacle, helps = parse_numbered(rest, 3)
    return _save(ctx, checkins.Answers(progress, obstacle, helps), None)


def submit_form(ctx: CommandContext, values: dict[str, str]) -> Reply:
    answers = checkins.Answers(values.get("a1", ""), values.get("a2", ""), values.get("a3", ""))
    return _save(ctx, answers, fold(values.get("teilen") or "nein") in YES)


def _save(ctx: CommandContext, answers: checkins.Answers, shared: bool | None) -> Reply:
    assert ctx.cohort is not None
    row = checkins.save(
        ctx.uow,
        cohort_id=ctx.cohort.id,
        person=ctx.person,
        answers=answers,
        shared=shared,
        now=ctx.now,
        settings=ctx.settings,
    )
    ctx.uow.commit()
    text = (
        N_("Danke! Ihr Check-in ist gespeichert und für den Jahrgang sichtbar („checkins“).")
        if row.shared
        else N_(
            "Danke! Ihr Check-in ist gespeichert; ihn sieht das Programmteam. Mit dem Jahrgang "
            "teilen: „checkin teilen ja“."
        )
    )
    return Reply(Message.text(ctx._(text)))


def _share(ctx: CommandContext, rest: list[str]) -> Reply:
    assert ctx.cohort is not None
    if len(rest) != 1 or rest[0] not in YES | NO:
        raise UserFacingError(N_("Bitte „checkin teilen ja“ oder „checkin teilen nein“."))
    shared = rest[0] in YES
    checkins.set_shared(ctx.uow, ctx.cohort.id, ctx.person, shared)
    ctx.uow.commit()
    text = (
        N_("In Ordnung: Ihr letzter Check-in ist für den Jahrgang sichtbar.")
        if shared
        else N_("In Ordnung: Ihren letzten Check-in sieht nur noch das Programmteam.")
    )
    return Reply(Message.text(ctx._(text)))


def set_day(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    text = " ".join(ctx.args).strip()
    if fold(text) in OFF:
        stopped = checkins.stop(ctx.uow, ctx.cohort.id)
        ctx.uow.commit()
        return Reply(
            Message.text(
                ctx._(
                    N_("Die monatlichen Check-ins sind aus.")
                    if stopped
                    else N_("Die monatlichen Check-ins waren nicht an.")
                )
            )
        )
    if text:
        row = checkins.set_day(
            ctx.uow,
            ctx.cohort.id,
            None if fold(text) in ON else text,
            now=ctx.now,
            tz=ctx.settings.timezone,
        )
        ctx.uow.commit()
    else:
        found = checkins.schedule_of(ctx.uow, ctx.cohort.id)
        if found is None:
            return Reply(
                Message.text(
                    ctx._(
                        N_(
                            "Die monatlichen Check-ins sind aus. Einschalten: „checkin tag "
                            "an“ (erster Montag, 9:00) oder z. B. „checkin tag letzter "
                            "freitag 14 Uhr“."
                        )
                    )
                )
            )
        row = found
    return Reply(
        Message.text(
            ctx._(
                N_(
                    "Check-ins: {rule}. Der nächste ist am {when}; vor jedem Treffen bekommt "
                    "das Programmteam eine Übersicht. Abschalten: „checkin tag aus“."
                ),
                rule=describe_rule(row.recurrence or "", ctx.language),
                when=format_when(row.due_at.astimezone(ctx.tz), ctx.language),
            )
        )
    )


def show(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    organiser = ctx.role == "organiser"
    entries = checkins.overview(ctx.uow, ctx.cohort.id, None if organiser else ctx.person)
    return Reply(views.overview_message(ctx._, entries, organiser=organiser), private=True)
