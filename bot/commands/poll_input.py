"""Reading a poll's settings: from the typed command line, or from the form (Slack modal;
a guided DM dialog on Matrix and in the console) that ``umfrage`` alone opens."""

from __future__ import annotations

import difflib
import re

from bot.confirm import SKIP_WORDS
from bot.context import CommandContext, Reply
from bot.dates import describe_when, parse_deadline
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import Token, clean, fold, parse_line, strip_prefix
from bot.services import polls
from bot.services.poll_spec import MAX_QUESTION, PollSpec
from bot.views import Form, FormField, Message, Section
from storage.models import Poll

FORM_ID = "poll"
YES_NO = ("ja", "nein")

FLAGS = {
    "anonym": "anonym",
    "anonymous": "anonym",
    "gastgeber-enthaltung": "gastgeber-enthaltung",
    "host-abstain": "gastgeber-enthaltung",
    "mehrfach": "mehrfach",  # alone: any number of options (mehrfach=ja)
    "multiple": "mehrfach",
}
KNOWN_OPTIONS = {"mehrfach", "multiple", "ergebnis", "results", "bis", "until", "frage", "question"}
# Unquoted words that are settings without their value, or close to a flag: what they meant.
SUGGESTIONS = {
    **{flag: flag for flag in FLAGS},
    "ergebnis": "ergebnis=ende",
    "results": "results=end",
    "live": "ergebnis=ende",
    "ende": "ergebnis=ende",
    "end": "results=end",
    "bis": 'bis="Freitag 12 Uhr"',
    "until": 'until="Friday 12:00"',
}
NUMBER = re.compile(r"^\d{1,6}$")


def typed_tokens(ctx: CommandContext) -> list[Token]:
    """``ctx.args`` with whether each was quoted (the command line read again: the context
    keeps the words only; a mismatch counts every word as unquoted, which refuses more)."""
    text, _prefixed = strip_prefix(clean(ctx.request.text))
    # the dispatcher took the preview flag ("sofort") out of the arguments: here too
    tokens = [t for t in parse_line(text).tokens if t.quoted or fold(t.text) not in SKIP_WORDS]
    tail = tokens[len(tokens) - len(ctx.args) :] if ctx.args else []
    if [t.text for t in tail] != ctx.args:
        return [Token(arg, False) for arg in ctx.args]
    return tail


def split_words(tokens: list[Token]) -> tuple[list[str], set[str]]:
    """Quoted words (question, options) and flags. Options are only quoted: any other
    unquoted word is refused, with what it probably meant — never taken as an option."""
    texts: list[str] = []
    flags: set[str] = set()
    for token in tokens:
        if token.quoted:
            texts.append(token.text)
            continue
        word = fold(token.text)
        if word in FLAGS:
            flags.add(FLAGS[word])
            continue
        close = difflib.get_close_matches(word, SUGGESTIONS, n=1, cutoff=0.75)
        if close:
            raise UserFacingError(
                N_(
                    "„{word}“ kenne ich nicht. Meinten Sie {suggestion}? Frage und Optionen "
                    'stehen in Anführungszeichen, z. B. umfrage "Frage?" "A" "B" anonym.'
                ),
                word=token.text[:40],
                suggestion=SUGGESTIONS[close[0]],
            )
        raise UserFacingError(
            N_(
                "„{word}“ steht nicht in Anführungszeichen. Setzen Sie die Frage und jede Option "
                'in Anführungszeichen, z. B. umfrage "Welches Thema zuerst?" "Wohnen" '
                '"Mobilität". Ohne Anführungszeichen verstehe ich nur anonym, mehrfach und '
                "gastgeber-enthaltung."
            ),
            word=token.text[:40],
        )
    return texts, flags


def number_arg(text: str, example: str) -> int:
    """A poll/option/topic number; ``#3`` and ``Nr. 3`` are fine too."""
    cleaned = text.strip().lstrip("#")
    if fold(cleaned).startswith("nr."):
        cleaned = cleaned[3:].strip()
    if not NUMBER.match(cleaned):
        raise UserFacingError(
            N_("„{text}“ ist keine Nummer. Beispiel: {example}"), text=text[:40], example=example
        )
    return int(cleaned)


def spec_from(
    ctx: CommandContext, question: str, labels: list[str], flags: set[str] | None = None
) -> PollSpec:
    """The poll settings from the options and flags typed after ``umfrage`` (``flags``: as
    :func:`split_words` found them; None: every argument that is a flag's name)."""
    unknown = sorted(set(ctx.options) - KNOWN_OPTIONS - set(FLAGS))
    if unknown:
        raise UserFacingError(
            N_(
                "Die Angabe „{key}=“ kenne ich nicht. Möglich sind mehrfach=, ergebnis=live|ende, "
                'bis="…", anonym und gastgeber-enthaltung.'
            ),
            key=unknown[0][:40],
        )
    if flags is None:
        flags = {FLAGS[fold(a)] for a in ctx.args if fold(a) in FLAGS}
    flags = flags | {FLAGS[k] for k, v in ctx.options.items() if k in FLAGS and fold(v) != "nein"}
    default = "ja" if "mehrfach" in flags else "1"
    multiple = ctx.options.get("mehrfach", ctx.options.get("multiple", default))
    if fold(multiple) in ("ja", "yes", "alle", "all"):
        max_choices = len(labels)
    elif NUMBER.match(multiple):
        max_choices = int(multiple)
    else:
        raise UserFacingError(
            N_("mehrfach= braucht eine Zahl, z. B. mehrfach=2 (höchstens zwei Optionen).")
        )
    anonymous = "anonym" in flags
    given = ctx.options.get("ergebnis", ctx.options.get("results"))
    results = fold(given) if given is not None else ("ende" if anonymous else "live")
    if results not in ("live", "ende", "end", "schluss"):
        raise UserFacingError(N_("ergebnis= ist live (sofort) oder ende (erst nach dem Schluss)."))
    if anonymous and results == "live":
        raise UserFacingError(
            N_(
                "Eine anonyme Umfrage zeigt ihr Ergebnis erst nach dem Schluss: ein Zwischenstand "
                "nach jeder Stimme verriete, wie die letzte Person gewählt hat. Bis dahin zeigt "
                "sie, wie viele abgestimmt haben. Lassen Sie ergebnis=live weg (oder schreiben "
                "Sie ergebnis=ende) – oder lassen Sie anonym weg für eine namentliche Umfrage "
                "mit Live-Ergebnis."
            )
        )
    deadline = ctx.options.get("bis", ctx.options.get("until"))
    closes_at = None
    if deadline is not None:
        closes_at = parse_deadline(deadline, now=ctx.now, tz=ctx.settings.timezone)
    return PollSpec(
        question=question,
        options=tuple(labels),
        max_choices=max_choices,
        anonymous=anonymous,
        results_live=results == "live",
        host_abstain="gastgeber-enthaltung" in flags,
        closes_at=closes_at,
    )


def created_reply(ctx: CommandContext, poll: Poll) -> Reply:
    text = ctx._(
        N_("Umfrage {number} ist angelegt und wird im Kanal des Jahrgangs gepostet."),
        number=poll.number,
    )
    lines = [text]
    if poll.closes_at is not None:
        lines.append(describe_when(poll.closes_at.astimezone(ctx.tz), ctx.language))
    return Reply(Message((Section(tuple(lines)),), fallback=text))


def poll_form(ctx: CommandContext) -> Form:
    assert ctx.cohort is not None
    fields = (
        FormField("frage", ctx._(N_("Ihre Frage")), max_length=MAX_QUESTION),
        FormField(
            "optionen",
            ctx._(N_("Die Optionen (2 bis 20)")),
            kind="longtext",
            max_length=4200,
            hint=ctx._(N_("Eine Option pro Zeile, oder durch ; getrennt.")),
        ),
        FormField(
            "mehrfach",
            ctx._(N_("Wie viele Optionen darf man wählen?")),
            required=False,
            max_length=3,
            hint=ctx._(N_("Eine Zahl; leer heißt eine.")),
        ),
        FormField("anonym", ctx._(N_("Anonym abstimmen?")), kind="select", options=YES_NO),
        FormField(
            "ergebnis",
            ctx._(N_("Ergebnis zeigen")),
            kind="select",
            options=("live", "ende"),
            hint=ctx._(N_("Anonyme Umfragen zeigen ihr Ergebnis erst nach dem Schluss: ende.")),
        ),
        FormField(
            "bis",
            ctx._(N_("Schluss der Umfrage"))[:48],
            required=False,
            hint=ctx._(N_("z. B. „Freitag 12 Uhr“; leer: bis jemand sie schließt")),
        ),
        FormField(
            "gastgeber-enthaltung",
            ctx._(N_("Enthält sich die Gastgeberstadt?")),
            kind="select",
            options=YES_NO,
        ),
    )
    return Form(
        FORM_ID,
        ctx._(N_("Neue Umfrage"))[:24],
        fields,
        ctx._(N_("Umfrage starten")),
        context={"cohort_id": str(ctx.cohort.id)},
    )


def submit_form(ctx: CommandContext, values: dict[str, str]) -> Reply:
    """The filled-in form: the same checks as the typed command."""
    cohort_id = int(ctx.options.get("cohort_id", "0") or 0)
    cohort = ctx.uow.cohorts.get(cohort_id) if cohort_id else ctx.cohort
    if cohort is None:
        raise UserFacingError(N_("Dieses Formular ist veraltet. Bitte starten Sie neu."))
    labels = [part.strip() for part in re.split(r"[;\n]", values.get("optionen", ""))]
    settings = {
        "mehrfach": values.get("mehrfach", ""),
        "ergebnis": values.get("ergebnis", ""),
        "bis": values.get("bis", ""),
    }
    ctx.options = {k: v for k, v in settings.items() if v.strip()}
    ctx.args = [flag for flag in ("anonym", "gastgeber-enthaltung") if values.get(flag) == "ja"]
    spec = spec_from(ctx, values.get("frage", ""), [label for label in labels if label])
    poll = polls.create_poll(
        ctx.uow,
        cohort=cohort,
        spec=spec,
        creator_id=ctx.person.id,
        now=ctx.now,
        settings=ctx.settings,
    )
    ctx.uow.commit()
    return created_reply(ctx, poll)
