"""jahrgang, jahrgang anlegen|verbinden|abschliessen."""

from __future__ import annotations

import difflib
from datetime import time

from bot import confirm
from bot.actions import CommandAction
from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.confirm import SKIP_WORDS
from bot.context import CommandContext, Reply
from bot.dates import describe_when, parse_when
from bot.errors import UserFacingError
from bot.i18n import N_, format_when
from bot.permissions import access
from bot.router import confirmed, fold, shorten
from bot.services import cohort_end, cohorts, functions
from bot.views import Actions, Bullets, Button, Header, Message, Note, Section

# the options of "jahrgang anlegen": one table for parsing, "hilfe" and refusals
CREATE_OPTIONS = (
    Option("plaetze", N_("Anzahl der Plätze (Standard 20)"), ("seats", "capacity"), "positive"),
    Option("anmeldeschluss", N_("Anmeldeschluss, z. B. 15.10.2027"), ("deadline",)),
    Option("sprache", N_("Sprache der Beiträge im Kanal: de oder en"), ("language",)),
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("jahrgang",),
            show,
            N_("zeigt den Jahrgang dieses Kanals: Plätze, Frist, Termine"),
            "jahrgang",
            "jahrgang",
            (("cohort",),),
            "jahrgang",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("jahrgang", "anlegen"),
            create,
            N_("legt einen Jahrgang an und verbindet ihn mit diesem Kanal"),
            'jahrgang anlegen "NAME" [plaetze=20] [moderiert] [anmeldeschluss="…"] [sprache=de|en]',
            'jahrgang anlegen "Stadtlabor 2026/27" plaetze=20 anmeldeschluss="31.12.2026"',
            (("cohort", "create"),),
            "organisation",
            options=CREATE_OPTIONS,
        )
    )
    add(
        CommandSpec(
            ("jahrgang", "verbinden"),
            bind,
            N_("verbindet diesen Kanal (auch auf der anderen Plattform) mit einem Jahrgang"),
            'jahrgang verbinden "NAME"',
            'jahrgang verbinden "Stadtlabor 2026/27"',
            (("cohort", "connect"),),
            "organisation",
        )
    )
    add(
        CommandSpec(
            ("jahrgang", "abschliessen"),
            close,
            N_("beendet den Jahrgang"),
            "jahrgang abschliessen",
            "jahrgang abschliessen",
            (("cohort", "close"),),
            "organisation",
            needs_cohort=True,
        )
    )


def show(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    data = cohorts.info(ctx.uow, ctx.cohort)
    lines = [
        ctx._(
            N_("Plätze: {confirmed} von {capacity} belegt, {waiting} auf der Warteliste"),
            confirmed=data.confirmed,
            capacity=data.capacity,
            waiting=data.waitlisted,
        ),
        ctx._(N_("Anmeldung: mit Bestätigung durch das Programmteam"))
        if data.moderated
        else ctx._(N_("Anmeldung: Plätze in der Reihenfolge der Anmeldung")),
        ctx._(
            N_("Anmeldeschluss: {date}"),
            date=format_when(data.deadline.astimezone(ctx.tz), ctx.language),
        )
        if data.deadline
        else ctx._(N_("Anmeldeschluss: keiner")),
    ]
    posts_in = ctx.cohort.language or ctx.settings.language
    lines.append(
        ctx._(N_("Beiträge im Kanal: auf Deutsch"))
        if posts_in == "de"
        else ctx._(N_("Beiträge im Kanal: auf Englisch"))
    )
    # An end not yet declared is the last meeting's + 30 days: a date ``treffen`` would show.
    declared = ctx.cohort.ended_at is not None
    if data.ended_at is not None and (declared or access("treffen", ctx.role) != "refused"):
        lines.append(
            ctx._(
                N_("Ende: {date}"), date=format_when(data.ended_at.astimezone(ctx.tz), ctx.language)
            )
        )
    counts = []  # the participants' functions: ``teilnehmende``'s data
    if access("teilnehmende", ctx.role) != "refused":
        counts = functions.function_counts(ctx.uow, ctx.cohort.id)  # by category
    if counts:
        shown = ", ".join(f"{ctx._(category)} {n}" for category, n in counts)
        lines.append(ctx._(N_("Funktionen: {counts}"), counts=shown))
    meetings = tuple(
        f"{n}. {title} – {format_when(start.astimezone(ctx.tz), ctx.language)}"
        for n, title, start in data.meetings
    )
    blocks: list[Header | Section | Bullets | Note] = [Header(data.name), Section(tuple(lines))]
    if meetings and access("treffen", ctx.role) != "refused":  # the dates are ``treffen``'s
        blocks.append(Bullets(meetings))
    return Reply(Message(tuple(blocks), fallback=data.name))


def create(ctx: CommandContext) -> Reply:
    if not ctx.args:
        raise UserFacingError(
            N_('Bitte nennen Sie den Namen, z. B. jahrgang anlegen "Stadtlabor 2026/27".')
        )
    name = ctx.args[0]
    flags = {fold(a) for a in ctx.args[1:]}
    _refuse_unknown_words(flags - MODERATED - SKIP_WORDS)
    capacity = _int_option(ctx, "plaetze", 20)
    deadline = None
    if "anmeldeschluss" in ctx.options:
        deadline = parse_when(
            ctx.options["anmeldeschluss"],
            now=ctx.now,
            tz=ctx.settings.timezone,
            default_time=time(23, 59),
        )
    language = _language_option(ctx)
    became_organiser = not ctx.person.is_organiser
    ctx.person.is_organiser = True  # the dispatcher only lets organisers (or the bootstrap) here
    cohort = cohorts.create_cohort(
        ctx.uow,
        actor_id=ctx.person.id,
        name=name,
        capacity=capacity,
        moderated="moderiert" in flags or "moderated" in flags,
        deadline=deadline,
        platform=ctx.request.conversation.platform,
        channel_id=None
        if ctx.request.conversation.is_direct
        else ctx.request.conversation.channel_id,
        now=ctx.now,
        language=language,
    )
    ctx.uow.commit()
    lines = [
        ctx._(
            N_("Jahrgang „{name}“ angelegt: {capacity} Plätze."),
            name=cohort.name,
            capacity=cohort.capacity,
        )
    ]
    if deadline is not None:
        lines.append(
            ctx._(
                N_("Anmeldeschluss – {when}"),
                when=describe_when(deadline.astimezone(ctx.tz), ctx.language),
            )
        )
    if became_organiser:
        lines.append(
            ctx._(N_("Es gab noch niemanden im Programmteam: Sie sind jetzt Organisator/in."))
        )
    lines.append(ctx._(N_("Teilnehmende melden sich hier mit „anmelden“ an.")))
    return Reply(Message.text(*lines), private=False)


MODERATED = frozenset({"moderiert", "moderated"})


def _refuse_unknown_words(words: set[str]) -> None:
    """A mistyped ``moderiert`` would create an open cohort, a second unquoted word would be
    dropped from the name: refuse, never guess."""
    if not words:
        return
    word = sorted(words)[0]
    if difflib.get_close_matches(word, sorted(MODERATED), n=1, cutoff=0.75):
        raise UserFacingError(
            N_("„{word}“ verstehe ich nicht. Meinten Sie „moderiert“? Es wurde nichts angelegt."),
            word=shorten(word, 40),
        )
    raise UserFacingError(
        N_(
            "„{word}“ verstehe ich nicht. Ein Name mit Leerzeichen gehört in "
            'Anführungszeichen, z. B. jahrgang anlegen "Stadtlabor 2026/27" moderiert. Es wurde '
            "nichts angelegt."
        ),
        word=shorten(word, 40),
    )


def _int_option(ctx: CommandContext, key: str, default: int) -> int:
    raw = ctx.options.get(key)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise UserFacingError(N_("„{key}“ muss eine ganze Zahl sein, z. B. {key}=20."), key=key)
    return int(raw)


def bind(ctx: CommandContext) -> Reply:
    conv = ctx.request.conversation
    if conv.is_direct or conv.channel_id is None:
        raise UserFacingError(
            N_(
                "Bitte schreiben Sie „jahrgang verbinden“ im Kanal, der "
                "verbunden werden soll, nicht im Direktchat."
            )
        )
    if not ctx.args:
        raise UserFacingError(
            N_('Bitte nennen Sie den Jahrgang, z. B. jahrgang verbinden "Stadtlabor 2026/27".')
        )
    cohort = cohorts.bind_channel(
        ctx.uow,
        actor_id=ctx.person.id,
        name=ctx.args[0],
        platform=conv.platform,
        channel_id=conv.channel_id,
        now=ctx.now,
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(N_("Dieser Kanal gehört jetzt zum Jahrgang „{name}“."), name=cohort.name)
        ),
        private=False,
    )


_LANGUAGES = {
    "de": "de",
    "deutsch": "de",
    "german": "de",
    "en": "en",
    "englisch": "en",
    "english": "en",
}


def _language_option(ctx: CommandContext) -> str | None:
    """``sprache=de|en``: the language of the channel posts (default: the installation's)."""
    raw = ctx.options.get("sprache", ctx.options.get("language"))
    if raw is None:
        return None
    language = _LANGUAGES.get(fold(raw.strip()))
    if language is None:
        raise UserFacingError(
            N_("sprache= ist de (Deutsch) oder en (Englisch), nicht „{value}“."), value=raw[:40]
        )
    return language


def close(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    if ctx.cohort.ended_at is not None:
        raise UserFacingError(N_("Dieser Jahrgang ist bereits abgeschlossen."))
    if not confirmed(ctx.args):
        what = cohort_end.plan(ctx.uow, ctx.cohort, ctx.now)
        confirm.expect(ctx, _close_command(ctx))
        return Reply(
            Message(
                (
                    Section(
                        (
                            ctx._(
                                N_("Den Jahrgang „{name}“ wirklich abschließen? Das geschieht:"),
                                name=ctx.cohort.name,
                            ),
                        )
                    ),
                    Bullets(_closing_lines(ctx, what)),
                    Note(ctx._(N_("Zum Bestätigen: {command}"), command=_close_command(ctx))),
                    Actions(
                        (
                            Button(
                                ctx._(N_("Ja, abschließen")),
                                CommandAction("jahrgang abschliessen", ("ja",), ctx.person.id),
                                "danger",
                                _close_command(ctx),
                            ),
                        )
                    ),
                ),
                fallback=ctx.cohort.name,
            )
        )
    done = cohort_end.close(
        ctx.uow,
        ctx.cohort,
        actor_id=ctx.person.id,
        now=ctx.now,
        settings=ctx.settings,
        open_work=cohort_end.ServiceClosers(ctx.uow, ctx.settings, ctx.person.id, ctx.now),
    )
    ctx.uow.commit()
    return Reply(
        Message(
            (
                Section(
                    (
                        ctx._(
                            N_(
                                "Der Jahrgang „{name}“ ist abgeschlossen. Personenbezogene Daten "
                                "werden nach {days} Tagen gelöscht."
                            ),
                            name=ctx.cohort.name,
                            days=ctx.settings.retention_days,
                        ),
                    )
                ),
                Bullets(_closing_lines(ctx, done)),
            ),
            fallback=ctx.cohort.name,
        )
    )


def _close_command(ctx: CommandContext) -> str:
    """What to type, in the caller's language (the English alias works as well)."""
    return "cohort close yes" if ctx.language == "en" else "jahrgang abschliessen ja"


def _numbers(values: tuple[int, ...]) -> str:
    return ", ".join(f"#{n}" for n in values)


def _closing_lines(ctx: CommandContext, what: cohort_end.ClosingPlan) -> tuple[str, ...]:
    lines = []
    if what.open_polls:
        lines.append(
            ctx._(
                N_("offene Umfragen werden geschlossen, Ergebnisse gepostet: {numbers}"),
                numbers=_numbers(what.open_polls),
            )
        )
    if what.open_rounds:
        lines.append(
            ctx._(
                N_("offene Feedback-Runden werden geschlossen und weitergegeben: {numbers}"),
                numbers=_numbers(what.open_rounds),
            )
        )
    if what.future_meetings:
        lines.append(
            ctx._(
                N_("künftige Treffen werden abgesagt: {numbers}"),
                numbers=_numbers(what.future_meetings),
            )
        )
    lines.append(
        ctx._(
            N_("geplante Erinnerungen und Nachfragen werden gestrichen: {count}"),
            count=what.pending_reminders,
        )
    )
    lines.append(
        ctx._(
            N_("der Kanal des Jahrgangs wird informiert ({count})"),
            count=what.channels,
        )
    )
    lines.append(
        ctx._(
            N_(
                "danach ist der Jahrgang schreibgeschützt: lesen, Exporte, „meine-daten“ und "
                "„vergessen“ bleiben möglich"
            )
        )
    )
    return tuple(lines)
