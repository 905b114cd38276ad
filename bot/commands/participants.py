"""teilnehmende (list, hinzufuegen, entfernen), import/export teilnehmende."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from bot import confirm
from bot.actions import CommandAction
from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import Attachment, CommandContext, Reply
from bot.errors import UserFacingError
from bot.forms import validate_field
from bot.i18n import N_
from bot.outbox import dm_person
from bot.people import resolve_person
from bot.router import confirmed
from bot.services import audit, invitations
from bot.services import import_file as imports
from bot.services import participants as parts
from bot.services import registration as reg
from bot.views import Actions, Bullets, Button, Header, Message, Note, Section

# the options of "teilnehmende hinzufuegen"
ADD_OPTIONS = (
    Option("name", N_("Name der Person")),
    Option("kommune", N_("Kommune"), ("municipality",)),
    Option("funktion", N_("Funktion, z. B. Oberbürgermeisterin"), ("function",)),
    Option("email", N_("E-Mail-Adresse"), ("e-mail",)),
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("teilnehmende",),
            roster,
            N_("listet die Teilnehmenden (Programmteam: mit Warteliste und E-Mail)"),
            "teilnehmende",
            "teilnehmende",
            (("participants",),),
            "jahrgang",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("teilnehmende", "hinzufuegen"),
            add_person,
            N_("meldet jemanden im Auftrag an"),
            "teilnehmende hinzufuegen name=… kommune=… funktion=… email=…",
            'teilnehmende hinzufuegen name="Ben Beispiel" kommune=Beispielstadt '
            "funktion=Beigeordneter email=ben@beispielstadt.de",
            (("participants", "add"),),
            "organisation",
            needs_cohort=True,
            options=ADD_OPTIONS,
        )
    )
    add(
        CommandSpec(
            ("teilnehmende", "entfernen"),
            remove_person,
            N_("entfernt eine Person aus dem Jahrgang (mit Rückfrage)"),
            "teilnehmende entfernen PERSON [ja]",
            "teilnehmende entfernen @ben",
            (("participants", "remove"),),
            "organisation",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("import", "teilnehmende"),
            import_csv,
            N_("importiert eine CSV-Liste (erst Probelauf, dann mit „ja“ ausführen)"),
            "import teilnehmende [DATEI.csv] [ja]",
            "import teilnehmende",
            (("import", "participants"),),
            "organisation",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("export", "teilnehmende"),
            export_csv,
            N_("schickt Ihnen die Teilnehmendenliste als CSV"),
            "export teilnehmende",
            "export teilnehmende",
            (("export", "participants"),),
            "organisation",
            needs_cohort=True,
        )
    )


def roster(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    full = ctx.role == "organiser"
    seated = parts.roster(ctx.uow, ctx.cohort, "confirmed")
    header = ctx._(
        N_("Teilnehmende „{name}“: {n} von {capacity}"),
        name=ctx.cohort.name,
        n=len(seated),
        capacity=ctx.cohort.capacity,
    )

    def line(r: parts.Row) -> str:
        text = f"{r.name} – {r.municipality} – {r.function}"
        if r.is_host:
            text += " – " + ctx._(N_("Gastgeberstadt"))
        return f"{text} – {r.email}" if full else text

    blocks: list[Header | Section | Bullets | Note] = [Header(header)]
    blocks.append(
        Bullets(tuple(line(r) for r in seated))
        if seated
        else Note(ctx._(N_("Noch niemand angemeldet.")))
    )
    if full:
        waiting = parts.roster(ctx.uow, ctx.cohort, "waitlisted", "pending")
        if waiting:
            blocks.append(Section((ctx._(N_("Warteliste")),)))
            blocks.append(
                Bullets(
                    tuple(
                        f"{i}. {line(r)}"
                        + (
                            " – " + ctx._(N_("wartet auf Bestätigung"))
                            if r.status == "pending"
                            else ""
                        )
                        for i, r in enumerate(waiting, 1)
                    )
                )
            )
    return Reply(Message(tuple(blocks), fallback=header))


def add_person(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    values = {}
    for key, field in parts._FIELDS.items():
        raw = ctx.options.get(key)
        values[key] = validate_field(field, raw) or ""
    details = reg.Details(values["name"], values["kommune"], values["funktion"], values["email"])
    person, status, position = parts.add_on_behalf(
        ctx.uow,
        actor_id=ctx.person.id,
        cohort=ctx.cohort,
        details=details,
        now=ctx.now,
        language=ctx.language,
        default_language=ctx.default_language,
        tz=ctx.tz,
        settings=ctx.settings,
    )
    invitations.send_for_cohort(ctx.uow, ctx.cohort.id, settings=ctx.settings, now=ctx.now)
    ctx.uow.commit()
    state = {
        "confirmed": N_("bestätigt (Platz {n})"),
        "waitlisted": N_("Warteliste (Position {n})"),
        "pending": N_("wartet auf Bestätigung"),
    }[status]
    return Reply(
        Message.text(
            ctx._(
                N_("{name} ist angemeldet: {state}."),
                name=person.display_name,
                state=ctx._(state, n=position),
            )
        )
    )


def remove_person(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    is_confirmed = confirmed(ctx.args)
    words = ctx.args[:-1] if is_confirmed else ctx.args
    if not words:
        raise UserFacingError(
            N_("Bitte nennen Sie die Person, z. B. „teilnehmende entfernen @ben“.")
        )
    person = resolve_person(ctx.uow, " ".join(words), ctx.request.conversation.platform)
    participant = ctx.uow.participants.get(ctx.cohort.id, person.id)
    if participant is None or participant.status not in reg.ACTIVE:
        raise UserFacingError(
            N_("{name} ist in diesem Jahrgang nicht angemeldet."), name=person.display_name or "?"
        )
    name = person.display_name or "?"
    if not is_confirmed:
        ref = reg.person_ref(ctx.uow, person)
        command = (
            f"participants remove {ref} yes"
            if ctx.language == "en"
            else f"teilnehmende entfernen {ref} ja"
        )
        confirm.expect(ctx, command)
        return Reply(
            Message(
                (
                    Section(
                        (
                            ctx._(
                                N_(
                                    "Wirklich {name} aus „{cohort}“ entfernen? "
                                    "Der Platz geht an die "
                                    "Warteliste."
                                ),
                                name=name,
                                cohort=ctx.cohort.name,
                            ),
                        )
                    ),
                    Note(ctx._(N_("Zum Bestätigen: {command}"), command=command)),
                    Actions(
                        (
                            Button(
                                ctx._(N_("Ja, entfernen")),
                                CommandAction("teilnehmende entfernen", (ref, "ja"), ctx.person.id),
                                "danger",
                                command,
                            ),
                        )
                    ),
                ),
                fallback=name,
            )
        )
    before, moved_up = parts.remove(
        ctx.uow,
        actor_id=ctx.person.id,
        cohort=ctx.cohort,
        person=person,
        now=ctx.now,
        default_language=ctx.default_language,
    )
    invitations.send_for_cohort(ctx.uow, ctx.cohort.id, settings=ctx.settings, now=ctx.now)
    ctx.uow.commit()
    lines = [ctx._(N_("{name} wurde entfernt und per Direktnachricht informiert."), name=name)]
    if moved_up is not None:
        lines.append(
            ctx._(
                N_(
                    "Von der Warteliste nachgerückt: {name} ({municipality}); "
                    "die Person ist informiert."
                ),
                name=moved_up.display_name or "?",
                municipality=moved_up.municipality or "?",
            )
        )
    elif before == "confirmed" and ctx.cohort.moderated:
        lines.append(
            ctx._(
                N_("Der frei gewordene Platz wartet auf Ihre Bestätigung (siehe Direktnachricht).")
            )
        )
    elif before == "confirmed":
        lines.append(ctx._(N_("Niemand ist nachgerückt: die Warteliste ist leer.")))
    return Reply(Message.text(*lines))


def import_csv(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    execute = confirmed(ctx.args)
    names = ctx.args[:-1] if execute else ctx.args
    content = imports.csv_text(_import_file(ctx, names))
    report = parts.read_import(ctx.uow, ctx.cohort, content)
    lines = [
        ctx._(
            N_("Neu: {new}, geändert: {changed}, unverändert: {same}, fehlerhaft: {errors}"),
            new=len(report.new),
            changed=len(report.updated),
            same=report.unchanged,
            errors=len(report.errors),
        )
    ]
    lines += [
        ctx._(N_("Zeile {line}: {error}"), line=n, error=e.render(ctx.translate))
        for n, e in report.errors[:50]
    ]
    if report.errors:
        lines.append(ctx._(N_("Es wurde nichts importiert. Bitte korrigieren Sie die Zeilen.")))
    elif not execute:
        lines.append(
            ctx._(
                N_(
                    "Probelauf – noch nichts geschrieben. Zum Ausführen: import "
                    "teilnehmende {path} ja"
                ),
                path=names[0] if _on_console(ctx) else "",
            ).replace("  ", " ")
        )
    else:
        parts.apply_import(
            ctx.uow,
            actor_id=ctx.person.id,
            cohort=ctx.cohort,
            report=report,
            now=ctx.now,
            language=ctx.language,
            default_language=ctx.default_language,
            tz=ctx.tz,
            settings=ctx.settings,
        )
        invitations.send_for_cohort(ctx.uow, ctx.cohort.id, settings=ctx.settings, now=ctx.now)
        ctx.uow.commit()
        lines.append(ctx._(N_("Import ausgeführt.")))
    return Reply(Message.text(*lines))


def _on_console(ctx: CommandContext) -> bool:
    return ctx.request.conversation.platform == "console"


def _import_file(ctx: CommandContext, names: list[str]) -> Attachment:
    """The console names a file in its working directory; chat uses the caller's upload and
    never opens a path typed in chat."""
    if _on_console(ctx):
        if not names:
            raise UserFacingError(
                N_("Bitte nennen Sie die Datei, z. B. „import teilnehmende liste.csv“.")
            )
        return imports.console_file(names[0], Path.cwd())
    upload = ctx.request.attachment() if ctx.request.attachment is not None else None
    if upload is None:
        raise imports.no_upload()
    return upload


def export_csv(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    data = parts.export_csv(parts.roster(ctx.uow, ctx.cohort, *reg.ACTIVE))
    filename = f"teilnehmende-{ctx.cohort.id}.csv"
    dm_person(
        ctx.uow,
        ctx.person.id,
        Message.text(ctx._(N_("Teilnehmendenliste „{name}“"), name=ctx.cohort.name)),
        f"export:{ctx.cohort.id}:{uuid4().hex}",
        ctx.now,
        file=(filename, data),
    )
    audit.exported(
        ctx.uow, actor_id=ctx.person.id, cohort_id=ctx.cohort.id, filename=filename, now=ctx.now
    )
    ctx.uow.commit()
    return Reply(Message.text(ctx._(N_("Die Liste kommt als Datei in Ihren Direktchat."))))
