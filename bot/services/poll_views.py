"""How a poll looks: the poll message with results and buttons, and the closing summary.

Plain views (``bot.views``); every adapter renders them. Texts are translated with the
``translate`` given (channel posts use the bot's default language).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.actions import VoteAction
from bot.i18n import N_, format_when
from bot.views import Actions, Block, Button, Header, Message, NativePoll, Note, Section
from storage.models import Poll, PollOption

BAR_WIDTH = 10
Translate = Callable[[str], str]


@dataclass(frozen=True)
class Tally:
    counts: dict[int, int]  # option position → votes
    ballots: int
    names: dict[int, list[str]] = field(default_factory=dict)  # named polls only


def bar(share: float) -> str:
    """``▇▇▇▇▇░░░░░ 50 %`` for a share between 0 and 1."""
    filled = round(share * BAR_WIDTH)
    return "▇" * filled + "░" * (BAR_WIDTH - filled) + f" {round(share * 100)} %"


def votes_text(n: int, translate: Translate) -> str:
    return translate(N_("1 Stimme")) if n == 1 else translate(N_("{n} Stimmen")).format(n=n)


def ballots_text(n: int, translate: Translate) -> str:
    """'1 Stimmzettel abgegeben' / '1 ballot cast' — the English plural differs."""
    if n == 1:
        return translate(N_("1 Stimmzettel abgegeben"))
    return translate(N_("{n} Stimmzettel abgegeben")).format(n=n)


def result_lines(options: list[PollOption], tally: Tally, translate: Translate) -> list[str]:
    lines = []
    for option in options:
        count = tally.counts.get(option.position, 0)
        share = count / tally.ballots if tally.ballots else 0.0
        votes = votes_text(count, translate)
        line = f"{option.position}. {option.label} — {bar(share)} ({votes})"
        names = tally.names.get(option.position)
        if names:
            line += ": " + ", ".join(names)
        lines.append(line)
    return lines


def _settings_note(poll: Poll, translate: Translate, tz: ZoneInfo, language: str) -> str:
    parts = [
        translate(N_("eine Option"))
        if poll.max_choices == 1
        else translate(N_("bis zu {n} Optionen")).format(n=poll.max_choices),
        translate(N_("anonym")) if poll.anonymous else translate(N_("namentlich")),
    ]
    # A closed poll shows its final result (no "live" any more); an open anonymous one says
    # when its result comes next to the ballot count.
    if poll.closed_at is None and not poll.anonymous:
        parts.append(
            translate(N_("Ergebnis live") if poll.results_live else N_("Ergebnis nach Schluss"))
        )
    if poll.host_abstain:
        parts.append(translate(N_("Gastgeberstadt enthält sich")))
    if poll.closes_at is not None and poll.closed_at is None:
        when = format_when(poll.closes_at.astimezone(tz), language)
        parts.append(translate(N_("Schluss: {when}")).format(when=when))
    return " · ".join(parts)


def poll_message(
    poll: Poll,
    options: list[PollOption],
    tally: Tally,
    *,
    visible: bool,
    threshold: int,
    translate: Translate,
    tz: ZoneInfo,
    language: str,
) -> Message:
    """The poll post: question, options (with results when visible), buttons while open."""
    title = translate(N_("Umfrage {number}: {question}")).format(
        number=poll.number, question=poll.question
    )
    blocks: list[Block] = [Header(title)]
    if visible:
        blocks.append(Section(tuple(result_lines(options, tally, translate))))
    else:
        blocks.append(Section(tuple(f"{o.position}. {o.label}" for o in options)))
    count = ballots_text(tally.ballots, translate)
    if poll.closed_at is not None:
        count += " · " + translate(N_("geschlossen"))
    elif poll.anonymous:
        count += " · " + translate(
            N_("Ergebnis nach dem Schluss, wenn mindestens {k} Stimmzettel abgegeben sind")
        ).format(k=threshold)
    blocks.append(Section((count,)))
    blocks.append(Note(_settings_note(poll, translate, tz, language)))
    if poll.closed_at is None:
        example = "1,2" if poll.max_choices > 1 else "1"
        blocks.append(
            Actions(tuple(vote_button(poll, o, f"{o.position}. {o.label}"[:75]) for o in options))
        )
        hint = (
            N_(
                "Anonym: schreiben Sie „abstimmen {number} {example}“ per Direktnachricht an den "
                "Bot (oder klicken Sie in Slack), dann sieht niemand Ihre Wahl."
            )
            if poll.anonymous
            else N_("Abstimmen: abstimmen {number} {example} — bis zum Schluss änderbar.")
        )
        blocks.append(Note(translate(hint).format(number=poll.number, example=example)))
    return Message(tuple(blocks), fallback=title[:150], poll=native_poll(poll, options, title))


def vote_button(poll: Poll, option: PollOption, label: str) -> Button:
    """A click votes for ``option``: in a poll with several choices it adds the option to
    the ballot ("abstimmen N plus K"), otherwise it replaces the choice."""
    multiple = poll.max_choices > 1
    return Button(
        label,
        VoteAction(poll.id, (option.position,), "add" if multiple else "replace"),
        hint=f"abstimmen {poll.number} {'plus ' if multiple else ''}{option.position}",
    )


def native_poll(poll: Poll, options: list[PollOption], title: str) -> NativePoll | None:
    """Named polls with live results may be native polls (Matrix); anonymous ones and those
    with hidden results never: a native vote is a room event everybody can see."""
    if poll.anonymous or not poll.results_live:
        return None
    return NativePoll(
        poll_id=poll.id,
        number=poll.number,
        question=title,
        options=tuple(o.label for o in options),
        max_choices=poll.max_choices,
        closed=poll.closed_at is not None,
    )


def winners(options: list[PollOption], tally: Tally) -> list[PollOption]:
    best = max(tally.counts.values(), default=0)
    if best == 0:
        return []
    return [o for o in options if tally.counts.get(o.position, 0) == best]


def summary_message(
    poll: Poll,
    options: list[PollOption],
    tally: Tally,
    *,
    visible: bool,
    threshold: int,
    translate: Translate,
) -> Message:
    """The closing post: winner(s) or a tie, or why there is no result."""
    head = translate(N_("Umfrage {number} ist geschlossen: {question}")).format(
        number=poll.number, question=poll.question
    )
    best = winners(options, tally)
    if not visible:
        text = translate(
            N_("Zu wenige Stimmzettel ({n}) für ein anonymes Ergebnis; nötig sind mindestens {k}.")
        ).format(n=tally.ballots, k=threshold)
    elif not best:
        text = translate(N_("Es wurden keine Stimmen abgegeben."))
    elif len(best) == 1:
        text = translate(N_("Ergebnis: „{label}“ mit {votes}.")).format(
            label=best[0].label, votes=votes_text(tally.counts[best[0].position], translate)
        )
    else:
        text = translate(N_("Gleichstand bei {labels} mit je {votes}.")).format(
            labels=", ".join(f"„{o.label}“" for o in best),
            votes=votes_text(tally.counts[best[0].position], translate),
        )
    blocks: list[Block] = [Header(head), Section((text,))]
    if visible:
        blocks.append(Section(tuple(result_lines(options, tally, translate))))
    blocks.append(Note(ballots_text(tally.ballots, translate)))
    return Message(tuple(blocks), fallback=text[:150])
