"""umfrage, umfragen, abstimmen, export umfrage — polls in the cohort's channels."""

from __future__ import annotations

import re
from contextlib import suppress
from uuid import uuid4

from bot import confirm
from bot.actions import Action, VoteAction, VoteMode
from bot.commands import previews
from bot.commands.poll_input import (
    FORM_ID,
    NUMBER,
    created_reply,
    number_arg,
    poll_form,
    spec_from,
    split_words,
    submit_form,
    typed_tokens,
)
from bot.commands.registry import ActionSpec, CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.outbox import dm_person
from bot.permissions import require
from bot.router import fold
from bot.scheduling.due import DueContext, DueHandlers
from bot.services import audit, poll_close, poll_votes, polls
from bot.services.poll_results import render_for_channel
from bot.services.poll_spec import validate
from bot.views import Message, Note, Section
from storage.models import Poll, PollOption
from storage.uow import UnitOfWork

CLOSE_WORDS = ("schliessen", "close", "beenden")
# "abstimmen 3 2": the whole choice; "plus"/"minus" add or remove options of a multiple-choice
# poll ("abstimmen 3 plus 2"); "zurueckziehen" withdraws the ballot.
ADD_WORDS = ("plus", "dazu", "add")
REMOVE_WORDS = ("minus", "ohne", "remove")
WITHDRAW_WORDS = ("zurueckziehen", "withdraw", "keine", "none")
SHOW_WORDS = ("zeigen", "show", "ergebnis", "results")

# the options of "umfrage" (and "umfrage aus themen"); the flags may also be typed alone
POLL_OPTIONS = (
    Option("frage", N_("die Frage"), ("question",)),
    Option("mehrfach", N_("wie viele Optionen man wählen darf (Zahl oder ja)"), ("multiple",)),
    Option("ergebnis", N_("live oder ende: wann das Ergebnis zu sehen ist"), ("results",)),
    Option("bis", N_("Abstimmungsschluss, z. B. „Freitag 12 Uhr“"), ("until",)),
    Option("anonym", N_("ja: anonyme Abstimmung"), ("anonymous",)),
    Option(
        "gastgeber-enthaltung",
        N_("ja: die Gastgeberstadt enthält sich"),
        ("host-abstain",),
    ),
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    registry.add_form(FORM_ID, "umfrage", submit_form)
    add(
        CommandSpec(
            ("umfrage",),
            poll_command,
            N_("legt eine Umfrage an; „umfrage 3“ zeigt sie, „umfrage 3 schliessen“ beendet sie"),
            'umfrage "FRAGE" "OPTION" "OPTION" … [mehrfach=2] [anonym] [ergebnis=live|ende] '
            '[bis="…"] [gastgeber-enthaltung]',
            'umfrage "Welches Thema zuerst?" "Wohnen" "Mobilität" bis="Freitag 12 Uhr" anonym',
            (("poll",),),
            "jahrgang",
            needs_cohort=True,
            options=POLL_OPTIONS,
        )
    )
    add(
        CommandSpec(
            ("umfragen",),
            list_polls,
            N_("zeigt die Umfragen des Jahrgangs und ob Sie abgestimmt haben"),
            "umfragen",
            "umfragen",
            (("polls",),),
            "jahrgang",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("abstimmen",),
            vote,
            N_(
                "stimmt in einer Umfrage ab (bis zum Schluss änderbar); „plus“ oder „minus“ "
                "vor der Option fügt sie bei Mehrfachauswahl hinzu oder nimmt sie heraus"
            ),
            "abstimmen UMFRAGE OPTION[,OPTION] | abstimmen UMFRAGE plus|minus OPTION | "
            "abstimmen UMFRAGE zurueckziehen",
            "abstimmen 3 2",
            (("vote",),),
            "jahrgang",
            needs_cohort=True,
        )
    )
    registry.add_action(VoteAction.kind, ActionSpec("abstimmen", _vote_scope, vote_clicked))
    add(
        CommandSpec(
            ("export", "umfrage"),
            export,
            N_("schickt das Ergebnis einer Umfrage als CSV (ohne Namen bei anonymen Umfragen)"),
            "export umfrage NUMMER",
            "export umfrage 3",
            (("export", "poll"),),
            "organisation",
            needs_cohort=True,
        )
    )


def register_due(handlers: DueHandlers) -> None:
    handlers.add("poll_close", _due_close)
    handlers.add("poll_nudge", _due_nudge)


def _due_close(due: DueContext) -> None:
    poll = due.uow.session.get(Poll, int(due.reminder.target.get("poll_id", 0)))
    if poll is None or poll.closed_at is not None:
        return
    with suppress(UserFacingError):  # closed by hand a moment ago: nothing left to do
        poll_close.close_poll(due.uow, poll.id, now=due.now, settings=due.settings, actor_id=None)


def _due_nudge(due: DueContext) -> None:
    poll_close.nudge(
        due.uow, int(due.reminder.target.get("poll_id", 0)), now=due.now, settings=due.settings
    )


def poll_command(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    if ctx.args and NUMBER.match(ctx.args[0].lstrip("#")):
        return _poll_action(ctx, int(ctx.args[0].lstrip("#")), [fold(a) for a in ctx.args[1:]])
    if len(ctx.args) == 2 and fold(ctx.args[0]) in CLOSE_WORDS:  # "umfrage schliessen 3"
        number = number_arg(ctx.args[1], "umfrage 3 schliessen")
        return _poll_action(ctx, number, [fold(ctx.args[0])])
    if not ctx.args and not ctx.options:
        return Reply(form=poll_form(ctx))
    words, flags = split_words(typed_tokens(ctx))
    question = ctx.options.get("frage", ctx.options.get("question"))
    if question is None:
        if not words:
            raise UserFacingError(
                N_(
                    'Bitte geben Sie Frage und Optionen an, z. B. umfrage "Welches Thema?" '
                    '"Wohnen" "Mobilität".'
                )
            )
        question, words = words[0], words[1:]
    spec = spec_from(ctx, question, words, flags)
    validate(spec, ctx.now)
    shown = previews.poll(ctx, spec)
    if not confirm.approved(ctx, shown):
        return confirm.preview(ctx, shown)
    poll = polls.create_poll(
        ctx.uow,
        cohort=ctx.cohort,
        spec=spec,
        creator_id=ctx.person.id,
        now=ctx.now,
        settings=ctx.settings,
    )
    ctx.uow.commit()
    return created_reply(ctx, poll)


def _poll_action(ctx: CommandContext, number: int, rest: list[str]) -> Reply:
    assert ctx.cohort is not None
    poll = polls.get_poll(ctx.uow, ctx.cohort.id, number)
    if not rest or rest[0] in SHOW_WORDS:
        # a private answer: in the reader's language (the channel post keeps the cohort's)
        return Reply(render_for_channel(ctx.uow, poll, ctx.settings, reader_language=ctx.language))
    if rest[0] not in CLOSE_WORDS:
        raise UserFacingError(
            N_("Meinten Sie „umfrage {number} schliessen“? Oder „abstimmen {number} 1“?"),
            number=number,
        )
    require(ctx, "umfrage schliessen")
    poll_close.may_close(poll, ctx.person)
    poll_close.close_poll(
        ctx.uow, poll.id, now=ctx.now, settings=ctx.settings, actor_id=ctx.person.id
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_("Umfrage {number} ist geschlossen; das Ergebnis steht im Kanal."), number=number
            )
        )
    )


def _positions(
    ctx: CommandContext, poll: Poll, words: list[str], options: list[PollOption]
) -> tuple[int, ...]:
    """Option numbers (``2``, ``1,4``, ``1 4``), or one option's label (``"Wohnen"``)."""
    parts = [p for w in words for p in re.split(r"[,;\s]+", w) if p]
    if not parts:
        raise UserFacingError(N_("Welche Option? Z. B. abstimmen {number} 2."), number=poll.number)
    if all(NUMBER.match(p.lstrip("#")) for p in parts):
        return tuple(int(p.lstrip("#")) for p in parts)
    wanted = " ".join(fold(w) for w in words).strip()
    exact = [o.position for o in options if fold(o.label) == wanted]
    start = [o.position for o in options if fold(o.label).startswith(wanted)]
    for found in (exact, start):
        if len(found) == 1:
            return (found[0],)
    raise UserFacingError(
        N_(
            "„{text}“ passt zu keiner Option von Umfrage {number}. Nennen Sie die Nummer: "
            "{options}."
        ),
        text=" ".join(words)[:60],
        number=poll.number,
        options=", ".join(f"{o.position}. {o.label}" for o in options)[:600],
    )


def vote(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    if not ctx.args:
        raise UserFacingError(N_("Bitte nennen Sie Umfrage und Option, z. B. abstimmen 3 2."))
    number = number_arg(ctx.args[0], "abstimmen 3 2")
    # Locked at once, with its options (one statement): the ballot is read and replaced
    # under the poll's lock.
    poll, options = polls.lock_with_options(ctx.uow, ctx.cohort.id, number)
    _refuse_in_room(ctx, poll)
    rest = ctx.args[1:]
    mode: VoteMode = "replace"
    positions: tuple[int, ...] = ()
    first = fold(rest[0]) if rest else ""
    if first not in WITHDRAW_WORDS:
        if first in ADD_WORDS or first in REMOVE_WORDS:
            mode = "add" if first in ADD_WORDS else "remove"
            rest = rest[1:]
        positions = _positions(ctx, poll, rest, options)
    return _cast(ctx, poll, options, positions, mode)


def _vote_scope(uow: UnitOfWork, action: Action) -> int:
    """The clicked poll's cohort, for the permission check: read with the poll's lock, which
    the vote needs next anyway (one statement for both; a refused click rolls back)."""
    assert isinstance(action, VoteAction)
    poll, _options = polls.lock_by_id_with_options(uow, action.poll)
    return poll.cohort_id


def vote_clicked(ctx: CommandContext, action: Action) -> Reply:
    """A clicked vote button (or a Matrix poll response): the poll by id, the options as
    positions; checked here like a typed vote (open, eligible, in range, the poll's rules)."""
    assert isinstance(action, VoteAction)
    poll, options = polls.lock_by_id_with_options(ctx.uow, action.poll)
    _refuse_in_room(ctx, poll)
    return _cast(ctx, poll, options, action.options, action.mode)


def _refuse_in_room(ctx: CommandContext, poll: Poll) -> None:
    if poll.anonymous and _seen_in_room(ctx):
        raise UserFacingError(
            N_(
                "Umfrage {number} ist anonym: Ihre Stimme zähle ich nur in einer "
                "Direktnachricht an den Bot, denn hier im Raum können alle sie lesen. Diese "
                "Nachricht habe ich nicht gezählt; schreiben Sie mir „abstimmen {number} …“ "
                "direkt."
            ),
            number=poll.number,
        )


def _cast(
    ctx: CommandContext,
    poll: Poll,
    options: list[PollOption],
    positions: tuple[int, ...],
    mode: VoteMode,
) -> Reply:
    outcome = poll_votes.cast_vote(
        ctx.uow,
        poll,
        person_id=ctx.person.id,
        positions=positions,
        mode=mode,
        now=ctx.now,
        settings=ctx.settings,
        options=options,
    )
    ctx.uow.commit()
    return Reply(Message.text(_vote_text(ctx, poll, outcome)))


def _seen_in_room(ctx: CommandContext) -> bool:
    """Whether the vote itself is visible to others: a line typed (or a Matrix poll response
    or reply) in a shared room. Slack's slash commands and button clicks are private."""
    conversation = ctx.request.conversation
    if conversation.is_direct:
        return False
    return not (conversation.platform == "slack" and ctx.request.can_open_forms)


def _vote_text(ctx: CommandContext, poll: Poll, outcome: polls.VoteOutcome) -> str:
    labels = outcome.labels  # read in the vote's transaction: no query after the commit
    choice = ", ".join(f"{p}. {labels[p]}" for p in outcome.positions)
    if outcome.status == "neu":
        msgid = N_(
            "Ihre Stimme in Umfrage {number} ist gezählt: {choice}. Bis zum Schluss änderbar."
        )
    elif outcome.status == "geaendert":
        msgid = N_("Ihre Stimme in Umfrage {number} ist geändert: {choice}.")
    elif outcome.status == "zurueckgezogen":
        msgid = N_("Ihre Stimme in Umfrage {number} ist zurückgezogen.")
    elif not outcome.positions:
        msgid = N_("Unverändert: Sie haben in Umfrage {number} noch nicht abgestimmt.")
    else:
        msgid = N_("Unverändert: Ihre Stimme in Umfrage {number} ist bereits {choice}.")
    text = ctx._(msgid, number=poll.number, choice=choice)
    if choice.endswith((".", "!", "?", "…")):  # "1. 21./22.9." ends the sentence itself
        text = text.replace(f"{choice}.", choice, 1)
    return text


def list_polls(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    found = polls.polls_of(ctx.uow, ctx.cohort.id)
    if not found:
        return Reply(
            Message.text(ctx._(N_('Noch keine Umfragen. Anlegen: umfrage "Frage?" "A" "B".')))
        )
    lines = []
    for poll in found:
        if not polls.is_open(poll, ctx.now):
            state = ctx._(N_("geschlossen"))
        elif polls.ballot_of(ctx.uow, poll.id, ctx.person.id) is not None:
            state = ctx._(N_("offen – Sie haben abgestimmt"))
        elif polls.eligible(ctx.uow, poll, ctx.person.id):
            state = ctx._(N_("offen – Sie haben noch nicht abgestimmt"))
        else:
            state = ctx._(N_("offen"))
        lines.append(f"{poll.number}. {poll.question} — {state}")
    hint = ctx._(N_("„umfrage NUMMER“ zeigt eine Umfrage mit Ergebnis; abstimmen NUMMER OPTION."))
    return Reply(Message((Section(tuple(lines)), Note(hint)), fallback=lines[0]))


def export(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    if not ctx.args:
        raise UserFacingError(N_("Welche Umfrage? Z. B. export umfrage 3."))
    poll = polls.get_poll(ctx.uow, ctx.cohort.id, number_arg(ctx.args[0], "export umfrage 3"))
    data = poll_close.export_csv(ctx.uow, poll, ctx.settings)
    dm_person(
        ctx.uow,
        ctx.person.id,
        Message.text(
            ctx._(N_("Umfrage {number}: {question}"), number=poll.number, question=poll.question)
        ),
        f"poll-export:{poll.id}:{uuid4().hex}",
        ctx.now,
        file=(f"umfrage-{poll.number}.csv", data),
    )
    audit.exported(
        ctx.uow,
        actor_id=ctx.person.id,
        cohort_id=ctx.cohort.id,
        filename=f"umfrage-{poll.number}.csv",
        now=ctx.now,
    )
    ctx.uow.commit()
    return Reply(Message.text(ctx._(N_("Die Auswertung kommt als Datei in Ihren Direktchat."))))
