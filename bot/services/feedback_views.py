"""What feedback rounds look like: announcement, prompts, thread posts, presenter DM, exports.

Every function takes a ``translate`` for the reader's language. Anonymous answers arrive here as
bare texts (``AnswerView.label is None``): nothing in this module can name their authors.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.actions import CommandAction
from bot.i18n import N_
from bot.services.participants import safe_cell
from bot.views import Actions, Block, Button, Header, Message, Note, Section
from storage.models import FeedbackRound

Translate = Callable[[str], str]
ANSWER_LIMIT = 3000  # per question: the limit of Slack's input fields
INLINE_LIMIT = 12_000  # presenter DM: longer answer sets come as a file only


@dataclass(frozen=True)
class AnswerView:
    """One answer set as others may see it: ``label`` is None in anonymous rounds."""

    label: str | None
    answers: tuple[str, ...]
    erased: bool = False  # the author asked for erasure: every answer shows as ERASED


@dataclass(frozen=True)
class RoundInfo:
    """What every view of a round shows."""

    round: FeedbackRound
    presenters: str  # "Anna Muster (Musterstadt)" or "Musterstadt"
    deadline: str  # formatted in the reader's language and time zone


ERASED = N_("[auf Wunsch gelöscht]")


def answers_of(rnd: FeedbackRound, view: AnswerView, translate: Translate) -> tuple[str, ...]:
    """The answers as shown: an erased author's words are replaced by the marker."""
    if view.erased:
        return tuple(translate(ERASED) for _q in questions(rnd, translate))
    return view.answers


def questions(rnd: FeedbackRound, translate: Translate) -> list[str]:
    items = [str(q) for q in rnd.questions.get("items", [])]
    return [translate(q) for q in items] if rnd.questions.get("default") else items


def _t(translate: Translate, msgid: str, **params: object) -> str:
    return translate(msgid).format(**params)


EDIT_RULE = N_(
    "Solange Ihre Antworten noch nicht veröffentlicht sind, können Sie sie ändern; danach "
    "nicht mehr, denn jede Änderung zeigte, welche Antwort Ihre ist."
)


def privacy_note(info: RoundInfo, k: int, translate: Translate) -> str:
    if info.round.anonymous:
        return _anonymous_note(k, translate) + " " + translate(EDIT_RULE)
    return translate(
        N_("Ihre Antworten erscheinen mit Ihrem Namen und Ihrer Kommune im Thread der Runde.")
    )


def _anonymous_note(k: int, translate: Translate) -> str:
    return _t(
        translate,
        N_(
            "Diese Runde ist anonym: Ihre Antworten erscheinen ohne Namen, gemischt in "
            "Gruppen von {k}, damit weder Zeitpunkt noch Reihenfolge verraten, von wem sie "
            "stammen. Niemand – auch nicht das Programmteam – sieht, wer was geschrieben hat. "
            "Kommen weniger als {k} Antworten zusammen, werden sie an niemanden weitergegeben."
        ),
        k=k,
    )


def announcement(info: RoundInfo, k: int, translate: Translate) -> Message:
    rnd = info.round
    head = _t(translate, N_("Kollegiale Beratung #{n}: {title}"), n=rnd.number, title=rnd.title)
    lines = (
        _t(translate, N_("Für: {presenters}"), presenters=info.presenters),
        _t(translate, N_("Antworten bis: {deadline}"), deadline=info.deadline),
    )
    asked = tuple(f"{i}. {q}" for i, q in enumerate(questions(rnd, translate), 1))
    hint = translate(
        N_(
            "Alle Teilnehmenden erhalten eine Direktnachricht mit den Fragen. Die Antworten "
            "erscheinen in diesem Thread."
        )
    )
    blocks: tuple[Block, ...] = (
        Header(head),
        Section(lines),
        Section(asked, label=translate(N_("Leitfragen"))),
        Note(privacy_note(info, k, translate)),
        Note(hint),
    )
    return Message(blocks, fallback=head)


def prompt(
    info: RoundInfo, k: int, translate: Translate, *, reminder: str | None = None
) -> Message:
    """The DM inviting a participant to answer (``reminder``: 'in 2 Tagen' and the like)."""
    rnd = info.round
    n = rnd.number
    asked = questions(rnd, translate)
    if reminder:
        head = _t(
            translate,
            N_("Erinnerung: Ihr Feedback zu „{title}“ fehlt noch – Frist endet {when}."),
            title=rnd.title,
            when=reminder,
        )
    else:
        head = _t(
            translate,
            N_("Kollegiale Beratung #{n}: Ihr Feedback zu „{title}“ ist gefragt."),
            n=n,
            title=rnd.title,
        )
    numbered = " ".join(f"{i}. …" for i in range(1, len(asked) + 1))
    how = _t(
        translate,
        N_(
            "Ohne Knopf: „feedback {n} geben“ fragt Sie Frage für Frage, oder schreiben Sie "
            "mir „feedback {n} antworten {numbered}“ (jede Antwort in eine eigene Zeile). "
            "Wartet nur diese Runde auf Sie, genügt „{numbered}“. Bis zur Frist können Sie "
            "Ihre Antworten ändern."
        ),
        n=n,
        numbered=numbered,
    )
    blocks: tuple[Block, ...] = (
        Section((head,)),
        Section(
            (
                _t(translate, N_("Für: {presenters}"), presenters=info.presenters),
                _t(translate, N_("Antworten bis: {deadline}"), deadline=info.deadline),
            )
        ),
        Section(tuple(f"{i}. {q}" for i, q in enumerate(asked, 1)), label=translate(N_("Fragen"))),
        Note(_t(translate, N_("Je Frage höchstens {limit} Zeichen."), limit=ANSWER_LIMIT)),
        Note(privacy_note(info, k, translate)),
        Actions(
            (
                Button(
                    translate(N_("Feedback geben")),
                    CommandAction("feedback", (str(n), "geben")),
                    "primary",
                ),
            )
        ),
        Note(how),
    )
    return Message(blocks, fallback=head[:150])


def _qa_lines(asked: Sequence[str], answers: Sequence[str]) -> list[str]:
    lines: list[str] = []
    for i, (q, a) in enumerate(zip(asked, answers, strict=False), 1):
        lines.append(f"{i}. {q}")
        lines.extend(f"   {line}" for line in a.splitlines() or [""])
    return lines


def _who(rnd: FeedbackRound, view: AnswerView, i: int, translate: Translate) -> str:
    """The author (named rounds; an erased one shows as such) or the answer's number."""
    if rnd.anonymous:
        return _t(translate, N_("Antwort {i}"), i=i)
    return view.label or translate(N_("(gelöschte Person)"))


def named_answer(rnd: FeedbackRound, view: AnswerView, translate: Translate) -> Message:
    label = view.label or translate(N_("(gelöschte Person)"))
    lines = _qa_lines(questions(rnd, translate), answers_of(rnd, view, translate))
    return Message((Section(tuple(lines), label=label),), fallback=label)


def anonymous_batch(
    rnd: FeedbackRound, batch: int, answers: Sequence[tuple[str, ...]], translate: Translate
) -> Message:
    head = _t(
        translate,
        N_("Anonyme Antworten (Gruppe {batch}, {count} Antworten in zufälliger Reihenfolge)"),
        batch=batch,
        count=len(answers),
    )
    asked = questions(rnd, translate)
    blocks: list[Block] = [Section((head,))]
    for i, answer in enumerate(answers, 1):
        label = _t(translate, N_("Antwort {i}"), i=i)
        blocks.append(Section(tuple(_qa_lines(asked, answer)), label=label))
    return Message(tuple(blocks), fallback=head)


def summary(
    rnd: FeedbackRound, answered: int, invited: int, withheld: bool, k: int, translate: Translate
) -> Message:
    text = _t(
        translate,
        N_(
            "Die Runde „{title}“ ist geschlossen: {answered} von {invited} Eingeladenen haben "
            "geantwortet. Danke!"
        ),
        title=rnd.title,
        answered=answered,
        invited=invited,
    )
    lines = [text]
    if withheld:
        lines.append(
            _t(
                translate,
                N_(
                    "Für eine anonyme Weitergabe sind mindestens {k} Antworten nötig; die "
                    "Antworten wurden daher an niemanden weitergegeben."
                ),
                k=k,
            )
        )
    else:
        lines.append(translate(N_("Die Vortragenden haben alle Antworten per Direktnachricht.")))
    return Message((Section(tuple(lines)),), fallback=text[:150])


def presenter_dm(
    info: RoundInfo, views: Sequence[AnswerView], withheld: bool, k: int, translate: Translate
) -> Message:
    rnd = info.round
    head = _t(
        translate,
        N_("Feedback zu „{title}“ (Antworten: {count})"),
        title=rnd.title,
        count=len(views),
    )
    if withheld:
        head = _t(translate, N_("Feedback zu „{title}“"), title=rnd.title)
        text = _t(
            translate,
            N_(
                "Es kamen weniger als {k} Antworten zusammen. Damit niemand erkennbar wird, "
                "wurden sie an niemanden weitergegeben."
            ),
            k=k,
        )
        return Message((Header(head), Section((text,))), fallback=head)
    blocks: list[Block] = [Header(head)]
    asked = questions(rnd, translate)
    total = sum(len(a) for v in views for a in v.answers)
    if total <= INLINE_LIMIT:
        for i, view in enumerate(views, 1):
            label = _who(rnd, view, i, translate)
            shown = answers_of(rnd, view, translate)
            blocks.append(Section(tuple(_qa_lines(asked, shown)), label=label))
    blocks.append(Note(translate(N_("Alle Antworten stehen auch in der angehängten Datei."))))
    return Message(tuple(blocks), fallback=head)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def _md(text: str) -> str:
    """Markdown shown inert: every markup character escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def export_markdown(info: RoundInfo, views: Sequence[AnswerView], translate: Translate) -> bytes:
    rnd = info.round
    title = _t(translate, N_("Kollegiale Beratung #{n}: {title}"), n=rnd.number, title=rnd.title)
    out = [f"# {_md(title)}", ""]
    out.append(_md(_t(translate, N_("Für: {presenters}"), presenters=info.presenters)) + "  ")
    out.append(_md(_t(translate, N_("Antworten bis: {deadline}"), deadline=info.deadline)) + "  ")
    out.append(_md(_t(translate, N_("Antworten: {count}"), count=len(views))))
    if rnd.anonymous:
        out += [
            "",
            _md(translate(N_("Anonyme Runde: Antworten ohne Namen, in zufälliger Reihenfolge."))),
        ]
    for q_index, q in enumerate(questions(rnd, translate)):
        out += ["", f"## {q_index + 1}. {_md(q)}", ""]
        for i, view in enumerate(views, 1):
            shown = answers_of(rnd, view, translate)
            if q_index >= len(shown):
                continue
            who = _who(rnd, view, i, translate)
            text = " ".join(_md(line) for line in shown[q_index].splitlines())
            out.append(f"- **{_md(who)}:** {text}")
    return ("\n".join(out) + "\n").encode("utf-8")


def export_csv(rnd: FeedbackRound, views: Sequence[AnswerView], translate: Translate) -> bytes:
    asked = questions(rnd, translate)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if rnd.anonymous:
        writer.writerow([translate(N_("Antwort")), *asked])
    else:
        writer.writerow([translate(N_("Name und Kommune")), *asked])
    for i, view in enumerate(views, 1):
        first = str(i) if rnd.anonymous else _who(rnd, view, i, translate)
        shown = answers_of(rnd, view, translate)
        writer.writerow([safe_cell(first), *(safe_cell(a) for a in shown)])
    return buffer.getvalue().encode("utf-8")
