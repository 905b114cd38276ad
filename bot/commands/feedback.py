"""feedback (list, geben, antworten, schliessen), feedback starten, export feedback."""

from __future__ import annotations

import re
from uuid import uuid4

from bot import confirm
from bot.commands import previews
from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.dates import describe_when
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.outbox import dm_person
from bot.permissions import require
from bot.router import fold
from bot.scheduling.due import DueContext, DueHandlers
from bot.services import audit, feedback_export
from bot.services import feedback as fb
from bot.services import feedback_close as fb_close
from bot.services import feedback_replies as replies
from bot.services.feedback_answers import message_body, parse_numbered, strip_answer_command
from bot.services.feedback_publish import KIND_CLOSE, KIND_REMIND
from bot.services.feedback_start import open_twin, read_request
from bot.views import Message, Note, Section
from storage.models import Cohort, FeedbackRound

FORM_ID = "feedback"
GIVE = {"geben", "give", "aendern", "edit"}
ANSWER = {"antworten", "answer"}
CLOSE = {"schliessen", "close"}

# the options of "feedback starten"
ROUND_OPTIONS = (
    Option("titel", N_("Titel"), ("title",)),
    Option("fuer", N_("wer vorstellt: Person oder Kommune"), ("for",)),
    Option("bis", N_("Frist, z. B. „Freitag 18 Uhr“"), ("until", "frist", "deadline")),
    Option("anonym", N_("ja: anonyme Antworten"), ("anonymous",)),
    Option("fragen", N_("eigene Fragen, getrennt mit |"), ("questions",)),
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("feedback",),
            main,
            N_(
                "zeigt die Feedback-Runden, die auf Ihre Antwort warten; "
                "„feedback 2 geben“ antwortet"
            ),
            "feedback [N geben|N antworten 1. … 2. … 3. …]",
            "feedback 2 antworten 1. Klare Ziele 2. Finanzierung 3. Früh die Bürger beteiligen",
            (("1.",), ("1)",)),
            "allgemein",
            needs_cohort=True,
            free_text=True,
        )
    )
    add(
        CommandSpec(
            ("feedback", "starten"),
            start,
            N_("öffnet eine Feedback-Runde (kollegiale Beratung) für eine Person oder Kommune"),
            'feedback starten titel="…" fuer=PERSON|KOMMUNE bis="…" [anonym] [fragen="…|…|…"]',
            'feedback starten titel="Quartiersentwicklung Musterstadt" fuer=Musterstadt '
            'bis="Freitag 18 Uhr" anonym',
            (("feedback", "start"),),
            "organisation",
            needs_cohort=True,
            options=ROUND_OPTIONS,
        )
    )
    add(
        CommandSpec(
            ("feedback", "schliessen"),
            lambda ctx: close(ctx, _number(ctx.args[:1], "feedback schliessen 2")),
            N_("schließt eine Feedback-Runde vor der Frist"),
            "feedback schliessen N",
            "feedback schliessen 2",
            (("feedback", "close"),),
            "organisation",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("export", "feedback"),
            export,
            N_("schickt die Antworten einer Runde als Markdown und CSV per Direktnachricht"),
            "export feedback N",
            "export feedback 2",
            (),
            "organisation",
            needs_cohort=True,
        )
    )
    registry.add_form(FORM_ID, "feedback", submit_form)


def register_due(handlers: DueHandlers) -> None:
    handlers.add(KIND_CLOSE, _due_close)
    handlers.add(KIND_REMIND, _due_remind)


def _due_round(due: DueContext) -> FeedbackRound | None:
    rnd = due.uow.feedback_rounds.by_id(int(due.reminder.target.get("round_id", 0)))
    return rnd if rnd is not None and rnd.closed_at is None else None


def _due_close(due: DueContext) -> None:
    rnd = _due_round(due)
    if rnd is not None:
        try:
            fb_close.close(due.uow, rnd, due.now, due.settings)
        except UserFacingError:  # closed by hand meanwhile
            return


def _due_remind(due: DueContext) -> None:
    rnd = _due_round(due)
    if rnd is not None:
        fb_close.remind(
            due.uow, rnd, str(due.reminder.target.get("label", "")), due.now, due.settings
        )


def _number(args: list[str], example: str = "feedback 2 geben") -> int:
    digits = args[0].lstrip("#") if args else ""
    if not digits.isdigit() or len(digits) > 6:
        raise UserFacingError(
            N_("Welche Runde? Nennen Sie ihre Nummer, z. B. „{example}“. „feedback“ zeigt sie."),
            example=example,
        )
    return int(digits)


def _round(ctx: CommandContext, number: int) -> FeedbackRound:
    assert ctx.cohort is not None
    return fb.get_round(ctx.uow, ctx.cohort, number)


def main(ctx: CommandContext) -> Reply:
    body = message_body(ctx.request.text)
    if re.match(r"1\s*[.)]", body):
        return _answer_only_round(ctx, body)
    if not ctx.args:
        return Reply(replies.listing(ctx))
    number = _number(ctx.args)
    action = fold(ctx.args[1]) if len(ctx.args) > 1 else ""
    if not action:  # the round: the form for those who answer it, its state for the others
        rnd = _round(ctx, number)
        if rnd in fb.waiting_for(ctx.uow, rnd_cohort(ctx), ctx.person, ctx.now):
            return _give(ctx, rnd)
        return Reply(replies.status(ctx, rnd))
    if action in GIVE:
        return _give(ctx, _round(ctx, number))
    if action in ANSWER:
        return _answer(ctx, _round(ctx, number), strip_answer_command(ctx.request.text))
    if action in CLOSE:
        return close(ctx, number)
    raise UserFacingError(
        N_(
            "„{action}“ verstehe ich nicht. Möglich sind: „feedback {n} geben“, "
            "„feedback {n} antworten 1. … 2. … 3. …“ und (Programmteam) „feedback {n} schliessen“."
        ),
        action=ctx.args[1][:40],
        n=number,
    )


def rnd_cohort(ctx: CommandContext) -> Cohort:
    assert ctx.cohort is not None
    return ctx.cohort


def _give(ctx: CommandContext, rnd: FeedbackRound) -> Reply:
    fb.check_may_answer(ctx.uow, rnd, ctx.person, ctx.now)
    return Reply(form=replies.feedback_form(ctx, rnd, FORM_ID))


def _answer_only_round(ctx: CommandContext, text: str) -> Reply:
    assert ctx.cohort is not None
    waiting = fb.waiting_for(ctx.uow, ctx.cohort, ctx.person, ctx.now)
    if len(waiting) == 1:
        return _answer(ctx, waiting[0], text)
    if not waiting:
        rounds = fb.rounds_of(ctx.uow, ctx.cohort)
        presenting = [r for r in rounds if fb.is_open(r, ctx.now)]
        latest = rounds[-1:] if rounds and not fb.is_open(rounds[-1], ctx.now) else []
        for rnd in presenting + latest:  # says why: presenter, or the round has closed
            fb.check_may_answer(ctx.uow, rnd, ctx.person, ctx.now)
        raise UserFacingError(
            N_(
                "Zurzeit wartet keine Feedback-Runde auf Ihre Antwort, daher habe ich nichts "
                "gespeichert. „feedback“ zeigt die Runden."
            )
        )
    raise UserFacingError(
        N_(
            "Es warten mehrere Feedback-Runden auf Sie ({rounds}). Schreiben Sie bitte, welche "
            "Sie meinen: „feedback N antworten 1. … 2. … 3. …“. Es wurde nichts gespeichert."
        ),
        rounds=", ".join(f"#{r.number} „{r.title}“" for r in waiting),
    )


def _answer(ctx: CommandContext, rnd: FeedbackRound, text: str) -> Reply:
    if not ctx.request.conversation.is_direct:
        raise UserFacingError(
            N_(
                "Bitte schicken Sie Ihre Antworten als Direktnachricht an mich (oder nutzen Sie "
                "„feedback {n} geben“), nicht in den Kanal. Es wurde nichts gespeichert."
            ),
            n=rnd.number,
        )
    fb.check_may_answer(ctx.uow, rnd, ctx.person, ctx.now)
    answers = parse_numbered(text, len(rnd.questions.get("items", [])))
    return _store(ctx, rnd, answers)


def submit_form(ctx: CommandContext, values: dict[str, str]) -> Reply:
    round_id = ctx.options.get("round_id", "")
    rnd = ctx.uow.feedback_rounds.by_id(int(round_id)) if round_id.isdigit() else None
    if rnd is None:
        raise UserFacingError(N_("Dieses Formular ist veraltet. Bitte starten Sie neu."))
    count = len(rnd.questions.get("items", []))
    return _store(ctx, rnd, [values.get(f"a{i}", "") for i in range(1, count + 1)])


def _store(ctx: CommandContext, rnd: FeedbackRound, answers: list[str]) -> Reply:
    done = fb.submit(
        ctx.uow, rnd=rnd, person=ctx.person, answers=answers, now=ctx.now, settings=ctx.settings
    )
    ctx.uow.commit()
    return Reply(replies.stored(ctx, rnd, done))


def start(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    wanted = read_request(
        ctx.uow,
        ctx.cohort,
        ctx.options,
        ctx.args,
        platform=ctx.request.conversation.platform,
        now=ctx.now,
        timezone=ctx.settings.timezone,
    )
    twin = open_twin(ctx.uow, ctx.cohort, wanted, fb.DEFAULT_QUESTIONS)
    if twin is not None:
        text = ctx._(
            N_("Die Feedback-Runde #{n} „{title}“ ist schon offen; ich öffne sie nicht doppelt."),
            n=twin.number,
            title=twin.title,
        )
        return Reply(Message.text(text))
    asked = wanted.questions or list(fb.DEFAULT_QUESTIONS)
    shown = previews.feedback_round(ctx, wanted, asked)
    if not confirm.approved(ctx, shown):
        return confirm.preview(ctx, shown)
    rnd = fb.open_round(
        ctx.uow,
        cohort=ctx.cohort,
        wanted=wanted,
        now=ctx.now,
        settings=ctx.settings,
        actor_id=ctx.person.id,
    )
    invited = len(fb.eligible(ctx.uow, rnd))
    ctx.uow.commit()
    text = ctx._(
        N_(
            "Feedback-Runde #{n} „{title}“ ist offen ({mode}) und im Kanal angekündigt; "
            "per Direktnachricht gefragt: {invited}."
        ),
        n=rnd.number,
        title=rnd.title,
        mode=ctx._(N_("anonym")) if rnd.anonymous else ctx._(N_("namentlich")),
        invited=invited,
    )
    echo = describe_when(rnd.closes_at.astimezone(ctx.tz), ctx.language)
    return Reply(Message((Section((text,)), Note(echo)), fallback=text[:150]), private=False)


def close(ctx: CommandContext, number: int) -> Reply:
    require(ctx, "feedback schliessen")
    rnd = _round(ctx, number)
    done = fb_close.close(ctx.uow, rnd, ctx.now, ctx.settings, actor_id=ctx.person.id)
    ctx.uow.commit()
    text = ctx._(
        N_("Runde #{n} „{title}“ ist geschlossen: {answered} von {invited} haben geantwortet."),
        n=rnd.number,
        title=rnd.title,
        answered=done.answered,
        invited=done.invited,
    )
    if done.withheld:
        text += " " + ctx._(
            N_("Zu wenige für eine anonyme Weitergabe (mindestens {k}); niemand erhält sie."),
            k=ctx.settings.anonymity_threshold,
        )
    return Reply(Message.text(text))


def export(ctx: CommandContext) -> Reply:
    rnd = _round(ctx, _number(ctx.args, "export feedback 2"))
    count, files = feedback_export.files(ctx.uow, rnd, ctx.language, ctx.settings, ctx.translate)
    caption = Message.text(
        ctx._(N_("Feedback-Runde #{n} „{title}“"), n=rnd.number, title=rnd.title)
    )
    tag = uuid4().hex
    for name, data in files:
        dm_person(
            ctx.uow,
            ctx.person.id,
            caption,
            f"export:feedback:{rnd.id}:{tag}:{name}",
            ctx.now,
            file=(name, data),
        )
        audit.exported(
            ctx.uow, actor_id=ctx.person.id, cohort_id=rnd.cohort_id, filename=name, now=ctx.now
        )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_(
                    "Der Export (Antworten: {count}) kommt als Markdown und CSV in Ihren "
                    "Direktchat."
                ),
                count=count,
            )
        )
    )
