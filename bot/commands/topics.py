"""thema vorschlagen, themen, themen zusammenfuehren/zurueckziehen, umfrage aus themen."""

from __future__ import annotations

from bot import confirm
from bot.commands import previews
from bot.commands.poll_input import FLAGS, created_reply, number_arg, spec_from
from bot.commands.polls import POLL_OPTIONS
from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import fold
from bot.services import polls
from bot.services import topics as svc
from bot.services.poll_spec import validate
from bot.views import Bullets, Message, Note

DEFAULT_QUESTION = N_("Welche Themen sollen wir beim Besuch in der Gastgeberstadt bearbeiten?")

# the options of "thema vorschlagen"
PROPOSE_OPTIONS = (
    Option("titel", N_("Titel"), ("title",)),
    Option("beschreibung", N_("Beschreibung"), ("description",)),
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("thema", "vorschlagen"),
            propose,
            N_("schlägt ein Thema für den Besuch in der Gastgeberstadt vor"),
            'thema vorschlagen "TITEL" [beschreibung="…"]',
            'thema vorschlagen "Mehrgenerationenwohnen im Quartier" '
            'beschreibung="Erfahrungen mit Wohnprojekten"',
            (("topic", "propose"),),
            "jahrgang",
            needs_cohort=True,
            options=PROPOSE_OPTIONS,
        )
    )
    add(
        CommandSpec(
            ("themen",),
            list_topics,
            N_("zeigt die Themenvorschläge und wer sie gemacht hat"),
            "themen",
            "themen",
            (("topics",),),
            "jahrgang",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("themen", "zusammenfuehren"),
            merge,
            N_("führt doppelte Themenvorschläge zusammen (die erste Nummer bleibt)"),
            "themen zusammenfuehren NUMMER NUMMER …",
            "themen zusammenfuehren 3 7",
            (("topics", "merge"),),
            "organisation",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("themen", "zurueckziehen"),
            withdraw,
            N_("zieht Themenvorschläge zurück, die nicht passen"),
            "themen zurueckziehen NUMMER …",
            "themen zurueckziehen 5",
            (("topics", "withdraw"),),
            "organisation",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("umfrage", "aus", "themen"),
            poll_from_topics,
            N_("macht aus Themenvorschlägen eine Umfrage (Optionen wie bei „umfrage“)"),
            'umfrage aus themen NUMMER NUMMER … [frage="…"] [mehrfach=3] [anonym] [bis="…"]',
            'umfrage aus themen 1 3 4 7 mehrfach=2 bis="Freitag 12 Uhr"',
            (("poll", "from", "topics"),),
            "organisation",
            needs_cohort=True,
            options=POLL_OPTIONS,
        )
    )


def _numbers(ctx: CommandContext, example: str) -> list[int]:
    words = [w for a in ctx.args for w in a.replace(",", " ").split()]
    return [number_arg(w, example) for w in words if fold(w) not in FLAGS]


def propose(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    title = ctx.options.get("titel") or " ".join(ctx.args)
    description = ctx.options.get("beschreibung", ctx.options.get("description"))
    topic = svc.propose(
        ctx.uow,
        cohort=ctx.cohort,
        person=ctx.person,
        title=title,
        description=description,
        now=ctx.now,
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_("Danke! Ihr Vorschlag ist Thema {number}: „{title}“. „themen“ zeigt alle."),
                number=topic.number,
                title=topic.title,
            )
        ),
        private=False,
    )


def list_topics(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    rows = svc.listing(ctx.uow, ctx.cohort.id, ctx._(N_("Gastgeberstadt")))
    if not rows:
        return Reply(
            Message.text(
                ctx._(N_('Noch keine Themenvorschläge. Vorschlagen: thema vorschlagen "TITEL".'))
            )
        )
    items = []
    for row in rows:
        line = ctx._(
            N_("{number}. {title} — vorgeschlagen von {names}"),
            number=row.topic.number,
            title=row.topic.title,
            names=", ".join(row.proposers),
        )
        if row.topic.poll_number is not None:
            line += " · " + ctx._(N_("in Umfrage {n}"), n=row.topic.poll_number)
        if row.topic.description:
            line += f"\n   {row.topic.description}"
        items.append(line)
    hint = ctx._(N_("Programmteam: „umfrage aus themen 1 3 4“ macht daraus eine Umfrage."))
    return Reply(Message((Bullets(tuple(items)), Note(hint)), fallback=items[0][:150]))


def merge(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    numbers = _numbers(ctx, "themen zusammenfuehren 3 7")
    if len(numbers) < 2:
        raise UserFacingError(
            N_("Bitte nennen Sie mindestens zwei Themen, z. B. themen zusammenfuehren 3 7.")
        )
    kept = svc.merge(
        ctx.uow,
        cohort=ctx.cohort,
        keep=numbers[0],
        others=numbers[1:],
        actor_id=ctx.person.id,
        now=ctx.now,
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_("Zusammengeführt in Thema {number} „{title}“: {others}."),
                number=kept.number,
                title=kept.title,
                others=", ".join(str(n) for n in numbers[1:]),
            )
        )
    )


def withdraw(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    numbers = _numbers(ctx, "themen zurueckziehen 5")
    svc.withdraw(
        ctx.uow,
        cohort=ctx.cohort,
        numbers=numbers,
        actor_id=ctx.person.id,
        now=ctx.now,
        default_language=ctx.default_language,
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_("Zurückgezogen: Thema {numbers}. Wer es vorgeschlagen hat, ist informiert."),
                numbers=", ".join(str(n) for n in numbers),
            )
        )
    )


def poll_from_topics(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    numbers = list(dict.fromkeys(_numbers(ctx, "umfrage aus themen 1 3 4")))
    if len(numbers) < 2:
        raise UserFacingError(
            N_("Bitte nennen Sie mindestens zwei Themen, z. B. umfrage aus themen 1 3.")
        )
    chosen = svc.for_poll(ctx.uow, ctx.cohort.id, numbers)
    question = ctx.options.get("frage") or ctx.options.get("question") or ctx._(DEFAULT_QUESTION)
    options = dict(ctx.options)
    options.pop("frage", None)
    options.pop("question", None)
    ctx.options = options
    spec = spec_from(ctx, question, [t.title for t in chosen])
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
    for topic in chosen:
        topic.poll_number = poll.number
    ctx.uow.commit()
    return created_reply(ctx, poll)
