"""Direct answers of the feedback commands: the list of rounds, the form, the receipt."""

from __future__ import annotations

from bot.actions import CommandAction
from bot.context import CommandContext
from bot.i18n import N_, format_when
from bot.services import feedback as fb
from bot.services import feedback_views as views
from bot.views import Actions, Block, Button, Form, FormField, Message, Note, Section
from storage.models import FeedbackRound


def listing(ctx: CommandContext) -> Message:
    assert ctx.cohort is not None
    blocks: list[Block] = []
    waiting = fb.waiting_for(ctx.uow, ctx.cohort, ctx.person, ctx.now)
    buttons = []
    lines = []
    for rnd in waiting:
        mine = fb.response_of(ctx.uow, rnd, ctx.person.id)
        if mine is None:
            state = ctx._(N_("Antwort fehlt"))
        elif rnd.anonymous and mine.published_at is not None:  # see feedback.submit
            state = ctx._(N_("beantwortet und anonym veröffentlicht"))
        else:
            state = ctx._(N_("beantwortet – änderbar"))
        lines.append(_line(ctx, rnd) + f" — {state}")
        buttons.append(
            Button(
                ctx._(N_("Feedback geben")), CommandAction("feedback", (str(rnd.number), "geben"))
            )
        )
    if lines:
        blocks.append(Section(tuple(lines), label=ctx._(N_("Warten auf Ihr Feedback"))))
        blocks.append(Actions(tuple(buttons[:5])))
    else:
        blocks.append(Section((ctx._(N_("Zurzeit wartet keine Feedback-Runde auf Sie.")),)))
    presenting = [
        _line(ctx, r)
        for r in fb.rounds_of(ctx.uow, ctx.cohort)
        if fb.is_open(r, ctx.now) and ctx.person.id in {p.id for p in fb.presenters_of(ctx.uow, r)}
    ]
    if presenting:
        label = ctx._(N_("Sie stellen vor (Sie erhalten alle Antworten beim Schließen)"))
        blocks.append(Section(tuple(presenting), label=label))
    if ctx.role == "organiser":
        rows = [_organiser_line(ctx, r) for r in fb.rounds_of(ctx.uow, ctx.cohort)]
        if rows:
            blocks.append(Section(tuple(rows), label=ctx._(N_("Alle Runden"))))
    return Message(tuple(blocks), fallback=ctx._(N_("Feedback-Runden")))


def _line(ctx: CommandContext, rnd: FeedbackRound) -> str:
    when = format_when(rnd.closes_at.astimezone(ctx.tz), ctx.language)
    return ctx._(
        N_("#{n} „{title}“ für {presenters}, bis {deadline}"),
        n=rnd.number,
        title=rnd.title,
        presenters=fb.who_presents(ctx.uow, rnd),
        deadline=when,
    )


def _organiser_line(ctx: CommandContext, rnd: FeedbackRound) -> str:
    count = len(fb.responses(ctx.uow, rnd))
    state = ctx._(N_("offen")) if fb.is_open(rnd, ctx.now) else ctx._(N_("geschlossen"))
    mode = ctx._(N_("anonym")) if rnd.anonymous else ctx._(N_("namentlich"))
    return (
        _line(ctx, rnd)
        + " — "
        + ctx._(N_("{mode}, {state}, Antworten: {count}"), mode=mode, state=state, count=count)
    )


def feedback_form(ctx: CommandContext, rnd: FeedbackRound, form_id: str) -> Form:
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
        form_id,
        ctx._(N_("Feedback-Runde #{n}"), n=rnd.number)[:24],
        fields,
        ctx._(N_("Absenden")),
        intro=tuple(intro),
        context={"round_id": str(rnd.id)},
    )


def stored(ctx: CommandContext, rnd: FeedbackRound, done: fb.Submitted) -> Message:
    if done.anonymous:
        text = ctx._(
            N_(
                "Danke! Ihre Antworten zu „{title}“ sind gespeichert. Sie erscheinen ohne Ihren "
                "Namen, in einer Gruppe von mindestens {k} Antworten – während der Runde oder "
                "beim Schließen."
            ),
            title=rnd.title,
            k=ctx.settings.anonymity_threshold,
        )
        text += " " + ctx._(views.EDIT_RULE)
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
    return Message((Section((text,)), Section(echo), Note(hint)), fallback=text[:150])


def status(ctx: CommandContext, rnd: FeedbackRound) -> Message:
    """``feedback N`` from someone who does not answer this round (organisers, presenters)."""
    line = _organiser_line(ctx, rnd) if ctx.role == "organiser" else _line(ctx, rnd)
    return Message((Section((line,)),), fallback=line[:150])
