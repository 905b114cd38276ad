"""meine-daten, meine-daten aendern, vergessen — DSGVO self-service."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from bot import confirm
from bot.actions import CommandAction
from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.forms import validate_field
from bot.i18n import N_, format_when
from bot.outbox import dm_person
from bot.router import confirmed
from bot.services import privacy
from bot.services.registration import FUNCTIONS
from bot.views import Actions, Bullets, Button, FormField, Header, Message, Note, Section

CHANGEABLE = {
    "email": FormField("email", "email", kind="email", max_length=254),
    "kommune": FormField("kommune", "kommune", max_length=200),
    "funktion": FormField("funktion", "funktion", max_length=100, options=FUNCTIONS),
    "name": FormField("name", "name", max_length=200),
}
_ATTRIBUTE = {
    "email": "email",
    "kommune": "municipality",
    "funktion": "function",
    "name": "display_name",
}

# the options of "meine-daten aendern"
CORRECT_OPTIONS = (
    Option("email", N_("E-Mail-Adresse"), ("e-mail",)),
    Option("kommune", N_("Kommune"), ("municipality",)),
    Option("funktion", N_("Funktion, z. B. Oberbürgermeisterin"), ("function",)),
    Option("name", N_("Name")),
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("meine-daten",),
            my_data,
            N_("schickt Ihnen alles, was über Sie gespeichert ist (Art. 15 DSGVO)"),
            "meine-daten",
            "meine-daten",
            (("my-data",), ("meine", "daten")),
            "datenschutz",
        )
    )
    add(
        CommandSpec(
            ("meine-daten", "aendern"),
            correct,
            N_("berichtigt Ihre Angaben (Art. 16 DSGVO)"),
            "meine-daten aendern email=… kommune=… funktion=… name=…",
            "meine-daten aendern email=anna.muster@musterstadt.de",
            (("my-data", "change"),),
            "datenschutz",
            options=CORRECT_OPTIONS,
        )
    )
    add(
        CommandSpec(
            ("vergessen",),
            forget,
            N_("meldet Sie ab und löscht Ihre Daten (Art. 17 DSGVO, mit Rückfrage)"),
            "vergessen [ja]",
            "vergessen",
            (("forget-me",),),
            "datenschutz",
        )
    )


def my_data(ctx: CommandContext) -> Reply:
    data = privacy.my_data(ctx.uow, ctx.person)
    person = data["person"]
    lines = [
        f"{ctx._(N_('Name'))}: {person['name'] or '–'}",
        f"{ctx._(N_('E-Mail'))}: {person['email'] or '–'}",
        f"{ctx._(N_('Kommune'))}: {person['kommune'] or '–'}",
        f"{ctx._(N_('Funktion'))}: {person['funktion'] or '–'}",
        f"{ctx._(N_('Kennungen'))}: {', '.join(data['kennungen'])}",
    ]
    items = [_registration_line(ctx, r) for r in data["anmeldungen"]]
    items += [_vote_line(ctx, v) for v in data.get("umfrage_stimmen", [])]
    items += [f"{ctx._(N_('Feedback'))}: {f['runde']}" for f in data["feedback"]]
    items += [_attendance_line(ctx, t) for t in data.get("teilnahme", [])]
    items += [
        f"{ctx._(N_('Erinnerung'))}: {_when(ctx, r['due_at'])} {r['text'] or ''}".rstrip()
        for r in data.get("reminders", [])
        if r.get("status") == "pending"
    ]
    # Every kind of record that "vergessen" removes, from the same list (privacy.STORES).
    stores = [
        f"{ctx._(store.label)}: {count}"
        for store, count in privacy.my_data_by_store(ctx.uow, ctx.person)
    ]
    summary = Message(
        (
            Header(ctx._(N_("Ihre gespeicherten Daten"))),
            Section(tuple(lines)),
            *((Bullets(tuple(items)),) if items else ()),
            Section((ctx._(N_("Gespeichert, und von „vergessen“ gelöscht:")),)),
            Bullets(tuple(stores)),
            Note(
                ctx._(
                    N_(
                        "Die vollständige Kopie steht in der angehängten JSON-Datei. "
                        "„meine-daten aendern“ berichtigt, „vergessen“ löscht."
                    )
                )
            ),
        ),
        fallback=ctx._(N_("Ihre gespeicherten Daten")),
    )
    dm_person(
        ctx.uow,
        ctx.person.id,
        summary,
        f"mydata:{uuid4().hex}",
        ctx.now,
        file=("meine-daten.json", privacy.my_data_json(data)),
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(N_("Ihre Daten kommen als Nachricht mit JSON-Datei in Ihren Direktchat."))
        )
    )


def correct(ctx: CommandContext) -> Reply:
    changes = {k: v for k, v in ctx.options.items() if k in CHANGEABLE}
    if not changes:
        raise UserFacingError(
            N_(
                "Was soll geändert werden? Zum Beispiel: meine-daten aendern "
                "email=anna.muster@musterstadt.de kommune=Musterstadt"
            )
        )
    done = []
    for key, raw in changes.items():
        value = validate_field(CHANGEABLE[key], raw)
        setattr(ctx.person, _ATTRIBUTE[key], value)
        done.append(f"{key}={value}")
    ctx.uow.commit()
    return Reply(Message.text(ctx._(N_("Geändert: {changes}"), changes=", ".join(done))))


def forget(ctx: CommandContext) -> Reply:
    if not confirmed(ctx.args):
        confirm.expect(ctx, "forget-me yes" if ctx.language == "en" else "vergessen ja")
        return Reply(
            Message(
                (
                    Section(
                        (
                            ctx._(
                                N_(
                                    "Wirklich alles löschen? "
                                    "Sie werden von allen Jahrgängen abgemeldet; "
                                    "Ihr Name, Ihre E-Mail und Ihre Kennungen werden gelöscht. "
                                    "Feedback bleibt nur anonym, Stimmen nur als Zahl."
                                )
                            ),
                        )
                    ),
                    Section((ctx._(N_("Gelöscht wird:")),)),
                    Bullets(tuple(ctx._(store.label) for store in privacy.STORES)),
                    Note(ctx._(N_("Zum Bestätigen: vergessen ja"))),
                    Actions(
                        (
                            Button(
                                ctx._(N_("Ja, alles löschen")),
                                CommandAction("vergessen", ("ja",), ctx.person.id),
                                "danger",
                            ),
                        )
                    ),
                ),
                fallback=ctx._(N_("Wirklich alles löschen?")),
            )
        )
    if ctx.person.is_organiser and len(ctx.uow.persons.organisers()) == 1:
        raise UserFacingError(
            N_(
                "Sie sind die einzige Person im Programmteam. Ernennen Sie "
                "zuerst jemand anderen („rolle PERSON organisation“)."
            )
        )
    language = ctx.language
    if privacy.holds_nothing(ctx.uow, ctx.person):  # typed again, or by a stranger
        privacy.drop_empty(ctx.uow, ctx.person, ctx.now)
        ctx.uow.commit()
        return Reply(
            Message.text(ctx._(N_("Über Sie ist nichts gespeichert; der Bot kennt Sie nicht.")))
        )
    privacy.forget(
        ctx.uow,
        ctx.person,
        now=ctx.now,
        default_language=ctx.default_language,
        settings=ctx.settings,
    )
    ctx.uow.commit()
    text = (
        "Done. Your data has been erased; the bot no longer knows you."
        if language == "en"
        else "Erledigt. Ihre Daten sind gelöscht; der Bot kennt Sie nicht mehr."
    )
    return Reply(Message.text(text))


_STATUS = {
    "confirmed": N_("bestätigt"),
    "waitlisted": N_("Warteliste"),
    "pending": N_("wartet auf Bestätigung"),
    "withdrawn": N_("abgemeldet"),
    "declined": N_("abgelehnt"),
    "removed": N_("entfernt"),
}


def _when(ctx: CommandContext, iso: str) -> str:
    """A stored time as every other answer shows it: in the person's time zone, in words."""
    return format_when(datetime.fromisoformat(iso).astimezone(ctx.tz), ctx.language)


def _registration_line(ctx: CommandContext, registration: dict[str, Any]) -> str:
    status = str(registration["status"])
    shown = ctx._(_STATUS[status]) if status in _STATUS else status
    since = _when(ctx, registration["angemeldet"])
    return f"{registration['jahrgang']}: {shown} ({ctx._(N_('angemeldet'))} {since})"


def _vote_line(ctx: CommandContext, vote: dict[str, object]) -> str:
    choice = vote["stimme"]
    shown = ", ".join(map(str, choice)) if isinstance(choice, list) else str(choice)
    if choice == "abgestimmt":  # anonymous: only the fact (the JSON keeps the stored word)
        shown = ctx._(N_("abgestimmt"))
    return f"{ctx._(N_('Umfrage'))} {vote['umfrage']}: {shown}"


def _attendance_line(ctx: CommandContext, answer: dict[str, Any]) -> str:
    days = ", ".join(map(str, answer["tage"]))
    state = ctx._(N_("Tag {days}"), days=days) if days else ctx._(N_("Absage"))
    return f"{ctx._(N_('Treffen'))} {answer['treffen']}: {state}"
