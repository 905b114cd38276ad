"""feedback (list, geben, antworten, schliessen), feedback starten, export feedback."""

from __future__ import annotations

import re
from uuid import uuid4

from bot.commands.registry import CommandRegistry, CommandSpec
from bot.context import CommandContext, Reply
from bot.dates import describe_when, parse_deadline
from bot.errors import NotFound, UserFacingError
from bot.i18n import N_, format_when
from bot.outbox import dm_person
from bot.people import resolve_person
from bot.permissions import require
from bot.reminders import DueContext, DueHandlers
from bot.router import fold
from bot.services import feedback as fb
from bot.services import feedback_views as views
from bot.services.feedback_answers import message_body, parse_numbered, strip_answer_command
from bot.services.feedback_publish import KIND_CLOSE, KIND_REMIND
from bot.views import Actions, Block, Button, Form, FormField, Message, Note, Section
from storage.models import FeedbackRound, Person

FORM_ID = "feedback"
GIVE = {"geben", "give", "aendern", "edit"}
ANSWER = {"antworten", "answer"}
CLOSE = {"schliessen", "close"}
FLAGS = {"anonym", "anonymous"}
EXAMPLE = 'feedback starten titel="Quartiersentwicklung" fuer=Musterstadt bis="Freitag 18 Uhr"'


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
        )
    )
    add(
        CommandSpec(
            ("feedback", "schliessen"),
            lambda ctx: close(ctx, _number(ctx.args[:1])),
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
    rnd = due.uow.session.get(FeedbackRound, int(due.reminder.target.get("round_id", 0)))
    return rnd if rnd is not None and rnd.closed_at is None else None


def _due_close(due: DueContext) -> None:
    rnd = _due_round(due)
    if rnd is not None:
        fb.close(due.uow, rnd, due.now, due.settings)


def _due_remind(due: DueContext) -> None:
    rnd = _due_round(due)
    if rnd is not None:
        fb.remind(due.uow, rnd, str(due.reminder.target.get("label", "")), due.now, due.settings)


def _number(args: list[str]) -> int:
    if not args or not args[0].lstrip("#").isdigit():
        raise UserFacingError(
            N_("Welche Runde? Nennen Sie die Nummer, z. B. „feedback schliessen 2“.")
        )
    return int(args[0].lstrip("#"))


def _round(ctx: CommandContext, number: int) -> FeedbackRound:
    assert ctx.cohort is not None
    return fb.get_round(ctx.uow, ctx.cohort, number)


def main(ctx: CommandContext) -> Reply:
    body = message_body(ctx.request.text)
    if re.match(r"1\s*[.)]", body):
        return _answer_only_round(ctx, body)
    if not ctx.args:
        return _list(ctx)
    number = _number(ctx.args)
    action = fold(ctx.args[1]) if len(ctx.args) > 1 else ""
    if action in GIVE or not action:
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


def _list(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    blocks: list[Block] = []
    waiting = fb.waiting_for(ctx.uow, ctx.cohort, ctx.person, ctx.now)
    buttons = []
    lines = []
    for rnd in waiting:
        done = fb.response_of(ctx.uow, rnd, ctx.person.id) is not None
        state = ctx._(N_("beantwortet – änderbar")) if done else ctx._(N_("Antwort fehlt"))
        lines.append(_line(ctx, rnd) + f" — {state}")
        buttons.append(
            Button(
                ctx._(N_("Feedback geben")),
                "feedback_give",
                str(rnd.number),
                None,
                f"feedback {rnd.number} geben",
            )
        )
    if lines:
        blocks.append(Section(tuple(lines), label=ctx._(N_("Warten auf Ihr Feedback"))))
        blocks.append(Actions(tuple(buttons[:5])))
    else:
        blocks.append(Section((ctx._(N_("Zurzeit wartet keine Feedback-Runde auf Sie.")),)))
    if ctx.role == "organiser":
        rows = [_organiser_line(ctx, r) for r in fb.rounds_of(ctx.uow, ctx.cohort)]
        if rows:
            blocks.append(Section(tuple(rows), label=ctx._(N_("Alle Runden"))))
    return Reply(Message(tuple(blocks), fallback=ctx._(N_("Feedback-Runden"))))


def _line(ctx: CommandContext, rnd: FeedbackRound) -> str:
    when = format_when(rnd.closes_at.astimezone(ctx.tz), ctx.language)
    return ctx._(
        N_("#{n} „{title}“ für {presenters}, bis {deadline}"),
        n=rnd.number,
        title=rnd.title,
        presenters=fb.presenters_label(ctx.uow, rnd),
        deadline=when,
    )


def _organiser_line(ctx: CommandContext, rnd: FeedbackRound) -> str:
    count = len(fb.responses(ctx.uow, rnd))
    state = ctx._(N_("offen")) if fb.is_open(rnd, ctx.now) else ctx._(N_("geschlossen"))
    mode = ctx._(N_("anonym")) if rnd.anonymous else ctx._(N_("namentlich"))
    return (
        _line(ctx, rnd)
        + " — "
        + ctx._(N_("{mode}, {state}, {count} Antworten"), mode=mode, state=state, count=count)
    )


def feedback_form(ctx: CommandContext, rnd: FeedbackRound) -> Form:
    existing = fb.response_of(ctx.uow, rnd, ctx.person.id)
    before = list(existing.answers.get("answers", [])) if existing is not None else []
    prefill = ctx.request.can_open_forms  # a guided dialog would skip prefilled questions
    asked = views.questions(rnd, ctx.translate)
    fields = tuple(
        FormField(
            f"a{i}",
            f"{i}. {q}",
            kind="longtext",
            max_length=fb.MAX_ANSWER,
            initial=before[i - 1] if prefill and i <= len(before) else None,
        )
        for i, q in enumerate(asked, 1)
    )
    info = fb.info(ctx.uow, rnd, ctx.language, ctx.settings)
    intro = [ctx._(N_("Kollegiale Beratung #{n}: {title}"), n=rnd.number, title=rnd.title)]
    intro.append(ctx._(N_("Für: {presenters}"), presenters=info.presenters))
    intro.append(views.privacy_note(info, ctx.settings.anonymity_threshold, ctx.translate))
    if existing is not None:
        intro.append(ctx._(N_("Ihre neuen Antworten ersetzen die bisherigen.")))
    return Form(
        FORM_ID,
        ctx._(N_("Feedback-Runde #{n}"), n=rnd.number)[:24],
        fields,
        ctx._(N_("Absenden")),
        intro=tuple(intro),
        context={"round_id": str(rnd.id)},
    )


def _give(ctx: CommandContext, rnd: FeedbackRound) -> Reply:
    fb.check_may_answer(ctx.uow, rnd, ctx.person, ctx.now)
    return Reply(form=feedback_form(ctx, rnd))


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
    rnd = ctx.uow.session.get(FeedbackRound, int(round_id)) if round_id.isdigit() else None
    if rnd is None:
        raise UserFacingError(N_("Dieses Formular ist veraltet. Bitte starten Sie neu."))
    count = len(rnd.questions.get("items", []))
    return _store(ctx, rnd, [values.get(f"a{i}", "") for i in range(1, count + 1)])


def _store(ctx: CommandContext, rnd: FeedbackRound, answers: list[str]) -> Reply:
    done = fb.submit(
        ctx.uow, rnd=rnd, person=ctx.person, answers=answers, now=ctx.now, settings=ctx.settings
    )
    ctx.uow.commit()
    if done.anonymous:
        text = ctx._(
            N_(
                "Danke! Ihre Antworten zu „{title}“ sind gespeichert. Sie erscheinen ohne Ihren "
                "Namen, gemischt mit anderen, sobald {k} Antworten zusammen sind."
            ),
            title=rnd.title,
            k=ctx.settings.anonymity_threshold,
        )
    else:
        text = ctx._(
            N_(
                "Danke! Ihre Antworten zu „{title}“ sind gespeichert und erscheinen mit Ihrem "
                "Namen im Thread der Runde."
            ),
            title=rnd.title,
        )
    if done.edited:
        text = ctx._(N_("Ihre Antworten wurden aktualisiert.")) + " " + text
    asked = views.questions(rnd, ctx.translate)
    echo = tuple(
        f"{i}. {q}: {a[:200]}{'…' if len(a) > 200 else ''}"
        for i, (q, a) in enumerate(zip(asked, done.answers, strict=False), 1)
    )
    when = format_when(rnd.closes_at.astimezone(ctx.tz), ctx.language)
    hint = ctx._(N_("Ändern bis {deadline}: „feedback {n} geben“."), deadline=when, n=rnd.number)
    return Reply(Message((Section((text,)), Section(echo), Note(hint)), fallback=text[:150]))


def start(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    o = ctx.options
    flags = {fold(a) for a in ctx.args} & FLAGS
    rest = [a for a in ctx.args if fold(a) not in FLAGS]
    title = (o.get("titel") or o.get("title") or (rest.pop(0) if rest else "")).strip()
    if rest:
        raise UserFacingError(
            N_("„{word}“ verstehe ich hier nicht. Beispiel: {example}"),
            word=rest[0][:40],
            example=EXAMPLE,
        )
    if not title or len(title) > 200:
        raise UserFacingError(
            N_(
                "Bitte geben Sie einen Titel an (höchstens 200 Zeichen), z. B. "
                'titel="Quartiersentwicklung Musterstadt".'
            )
        )
    who = (o.get("fuer") or o.get("for") or "").strip()
    if not who:
        raise UserFacingError(
            N_("Für wen ist die Runde? Nennen Sie fuer=@person oder fuer=KOMMUNE.")
        )
    when = (o.get("bis") or o.get("until") or o.get("frist") or "").strip()
    if not when:
        raise UserFacingError(N_('Bis wann? Geben Sie die Frist an, z. B. bis="Freitag 18 Uhr".'))
    closes_at = parse_deadline(when, now=ctx.now, tz=ctx.settings.timezone)
    presenters, subject = _presenters(ctx, who)
    anonymous = bool(flags) or fold(o.get("anonym", o.get("anonymous", "nein"))) in {
        "ja",
        "yes",
        "true",
    }
    rnd = fb.open_round(
        ctx.uow,
        cohort=ctx.cohort,
        title=title,
        presenters=presenters,
        subject=subject,
        closes_at=closes_at,
        anonymous=anonymous,
        questions=_questions(o.get("fragen") or o.get("questions")),
        now=ctx.now,
        settings=ctx.settings,
    )
    invited = len(fb.eligible(ctx.uow, rnd))
    ctx.uow.commit()
    text = ctx._(
        N_(
            "Feedback-Runde #{n} „{title}“ ist offen ({mode}) und im Kanal angekündigt; "
            "{invited} Teilnehmende wurden per Direktnachricht gefragt."
        ),
        n=rnd.number,
        title=title,
        mode=ctx._(N_("anonym")) if anonymous else ctx._(N_("namentlich")),
        invited=invited,
    )
    echo = describe_when(closes_at.astimezone(ctx.tz), ctx.language)
    return Reply(Message((Section((text,)), Note(echo)), fallback=text[:150]), private=False)


def _questions(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    items = [q.strip() for q in raw.split("|") if q.strip()]
    if not items or len(items) > fb.MAX_QUESTIONS or any(len(q) > fb.MAX_QUESTION for q in items):
        raise UserFacingError(
            N_(
                "Fragen bitte mit | trennen: 1 bis {max} Fragen, je höchstens {limit} Zeichen, "
                'z. B. fragen="Was überzeugt?|Was fehlt?".'
            ),
            max=fb.MAX_QUESTIONS,
            limit=fb.MAX_QUESTION,
        )
    return items


def _presenters(ctx: CommandContext, who: str) -> tuple[list[Person], str | None]:
    assert ctx.cohort is not None
    try:
        return [resolve_person(ctx.uow, who, ctx.request.conversation.platform)], None
    except NotFound:
        if who.startswith("@"):
            raise
    towns: dict[str, list[Person]] = {}
    for participant in ctx.uow.participants.in_cohort(ctx.cohort.id, "confirmed"):
        person = ctx.uow.persons.get(participant.person_id)
        if person is not None and person.municipality:
            towns.setdefault(person.municipality, []).append(person)
    match = [name for name in towns if fold(name) == fold(who)]
    if match:
        return towns[match[0]], match[0]
    raise UserFacingError(
        N_(
            "„{name}“ ist weder eine bekannte Person noch eine Kommune des Jahrgangs. "
            "Kommunen: {towns}."
        ),
        name=who[:80],
        towns=", ".join(sorted(towns)) or "–",
    )


def close(ctx: CommandContext, number: int) -> Reply:
    require(ctx, "feedback schliessen")
    rnd = _round(ctx, number)
    done = fb.close(ctx.uow, rnd, ctx.now, ctx.settings)
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
    rnd = _round(ctx, _number(ctx.args))
    info = fb.info(ctx.uow, rnd, ctx.language, ctx.settings)
    shown = fb.answer_views(ctx.uow, rnd)
    caption = Message.text(
        ctx._(N_("Feedback-Runde #{n} „{title}“"), n=rnd.number, title=rnd.title)
    )
    tag = uuid4().hex
    files = (
        (f"feedback-{rnd.number}.md", views.export_markdown(info, shown, ctx.translate)),
        (f"feedback-{rnd.number}.csv", views.export_csv(rnd, shown, ctx.translate)),
    )
    for name, data in files:
        dm_person(
            ctx.uow,
            ctx.person.id,
            caption,
            f"export:feedback:{rnd.id}:{tag}:{name}",
            ctx.now,
            file=(name, data),
        )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_(
                    "Der Export ({count} Antworten) kommt als Markdown und CSV in Ihren Direktchat."
                ),
                count=len(shown),
            )
        )
    )
