"""alumni [ja|nein]: the alumni circle's commands (the service is bot.networking.alumni)."""

from __future__ import annotations

from pathlib import Path

from bot.commands.registry import CommandRegistry, CommandSpec
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking import alumni, alumni_import
from bot.router import confirmed, fold
from bot.services import import_file, privacy
from bot.views import Bullets, Message, Note, Section
from storage.models import Meeting

GROUP = "jahrgang"
_YES = frozenset({"ja", "yes"})
_NO = frozenset({"nein", "no"})


def register(registry: CommandRegistry) -> None:
    registry.add(
        CommandSpec(
            ("alumni",),
            alumni_command,
            N_(
                "zeigt, ob Sie im Alumni-Kreis sind; „alumni ja“ tritt bei (nach Ende Ihres "
                "Jahrgangs), „alumni nein“ tritt aus und löscht den Eintrag"
            ),
            "alumni [ja|nein] | alumni treffen ID ja|nein",
            "alumni ja",
            (),
            GROUP,
        )
    )
    registry.add(
        CommandSpec(
            ("alumni", "raum"),
            room_command,
            N_(
                "legt den Alumni-Raum fest (Slack-Kanal oder Matrix-Raum); die Alumni erhalten "
                "den Link per Direktnachricht"
            ),
            "alumni raum [#KANAL|aus]",
            "alumni raum #alumni",
            (("alumni", "room"),),
            GROUP,
        )
    )
    registry.add(
        CommandSpec(
            ("alumni", "import"),
            import_command,
            N_(
                "importiert Kontakte des früheren Netzwerks als Alumni (CSV: name, kommune, "
                "email, themen, einwilligung); erst ein Probelauf, mit „ja“ ausgeführt"
            ),
            "alumni import DATEI.csv [ja]",
            "alumni import netzwerk.csv",
            (),
            GROUP,
        )
    )
    registry.add(
        CommandSpec(
            ("alumni", "entfernen"),
            remove_command,
            N_(
                "löscht einen importierten Alumni-Kontakt auf dessen Wunsch (Art. 17 DSGVO); "
                "ehemalige Teilnehmende nutzen selbst „alumni nein“ oder „vergessen“"
            ),
            "alumni entfernen EMAIL",
            "alumni entfernen gerd@altdorf.de",
            (("alumni", "remove"),),
            GROUP,
        )
    )
    registry.add(
        CommandSpec(
            ("alumni", "mitglieder"),
            members_command,
            N_("listet den Alumni-Kreis (Name, Kommune, Jahrgang)"),
            "alumni mitglieder",
            "alumni mitglieder",
            (("alumni", "members"),),
            GROUP,
        )
    )


def alumni_command(ctx: CommandContext) -> Reply:
    words = [fold(a) for a in ctx.args]
    if not words:
        return Reply(_status(ctx), private=True)
    if words[0] in ("treffen", "meeting"):
        return _answer_meeting(ctx, words[1:])
    if len(words) == 1 and words[0] in _YES:
        return _join(ctx)
    if len(words) == 1 and words[0] in _NO:
        return _leave(ctx)
    raise UserFacingError(
        N_("„alumni“ versteht „ja“ oder „nein“, nicht „{value}“. Zum Beispiel: alumni ja"),
        value=" ".join(ctx.args)[:40],
    )


def _status(ctx: CommandContext) -> Message:
    found = alumni.state(ctx.uow, ctx.person)
    if found.alumnus is not None:
        text = ctx._(
            N_(
                "Sie sind seit {when} im Alumni-Kreis (Jahrgang „{cohort}“). Ihr Profil bleibt "
                "erhalten und ist für andere Jahrgänge über „wer kennt sich aus“ auffindbar. "
                "Austreten: alumni nein"
            ),
            when=found.alumnus.consent_at.astimezone(ctx.tz).strftime("%d.%m.%Y"),
            cohort=found.alumnus.cohort_name or "–",
        )
    elif found.eligible:
        text = ctx._(
            N_(
                "Sie sind nicht im Alumni-Kreis. Beitreten: alumni ja – dann bleibt Ihr Profil "
                "über die Löschfrist Ihres Jahrgangs hinaus erhalten."
            )
        )
    else:
        text = ctx._(
            N_(
                "Sie sind nicht im Alumni-Kreis. Beitreten können Sie, sobald Ihr Jahrgang "
                "abgeschlossen ist."
            )
        )
    return Message.text(text)


def _join(ctx: CommandContext) -> Reply:
    joined = alumni.opt_in(ctx.uow, ctx.person, now=ctx.now, tz=ctx.tz)
    alumni.invite_to_room(ctx.uow, joined, now=ctx.now, default_language=ctx.default_language)
    ctx.uow.commit()
    head = ctx._(
        N_(
            "Willkommen im Alumni-Kreis! Ihr Profil bleibt erhalten; andere Jahrgänge finden Sie "
            "als „Alumni, Jahrgang {year}“ über „wer kennt sich aus“."
        ),
        year=joined.year or "–",
    )
    note = ctx._(
        N_(
            "Jederzeit widerrufbar: „alumni nein“ löscht den Eintrag, „vergessen“ alles. "
            "Ihr Profil ändern Sie mit „profil aendern“."
        )
    )
    return Reply(Message((Section((head,)), Note(note)), fallback=head), private=True)


def _leave(ctx: CommandContext) -> Reply:
    removed = alumni.opt_out(
        ctx.uow, ctx.person, now=ctx.now, default_language=ctx.default_language
    )
    if not removed:
        return Reply(
            Message.text(ctx._(N_("Sie sind nicht im Alumni-Kreis; es ist nichts gespeichert."))),
            private=True,
        )
    if alumni.retention_over(ctx.uow, ctx.person.id):
        # Only the consent kept the data beyond the retention period: it all goes now.
        privacy.forget(ctx.uow, ctx.person, now=ctx.now, default_language=ctx.default_language)
        ctx.uow.commit()
        return Reply(
            Message.text(
                ctx._(
                    N_(
                        "Sie sind aus dem Alumni-Kreis ausgetreten. Da die Löschfrist Ihres "
                        "Jahrgangs abgelaufen ist, sind Ihr Profil und alle übrigen Daten "
                        "jetzt gelöscht."
                    )
                )
            ),
            private=True,
        )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_(
                    "Sie sind aus dem Alumni-Kreis ausgetreten; der Eintrag ist gelöscht. Ihr "
                    "Profil wird mit den übrigen Daten Ihres Jahrgangs gelöscht."
                )
            )
        ),
        private=True,
    )


# -- meetings opened for alumni ----------------------------------------------------------------

_OPEN = frozenset({"oeffnen", "open"})
_CLOSE = frozenset({"schliessen", "close"})
_FOR_ALUMNI = (("fuer", "alumni"), ("for", "alumni"))


def is_alumni_switch(words: list[str]) -> bool:
    """``oeffnen fuer alumni`` / ``schliessen fuer alumni`` (after ``treffen N``)."""
    folded = [fold(w) for w in words]
    return (
        len(folded) == 3 and folded[0] in _OPEN | _CLOSE and (folded[1], folded[2]) in _FOR_ALUMNI
    )


def switch_meeting(ctx: CommandContext, meeting: Meeting) -> Reply:
    """Organisers: open a meeting for the alumni circle (everyone in it is invited by their
    route) or close it again (the invitations are withdrawn)."""
    opening = fold(ctx.args[1]) in _OPEN
    action = alumni.open_meeting if opening else alumni.close_meeting
    count = action(ctx.uow, meeting, now=ctx.now, default_language=ctx.default_language, tz=ctx.tz)
    ctx.uow.commit()
    text = (
        ctx._(
            N_(
                "Treffen {n} „{title}“ ist für Alumni geöffnet; {count} Alumni sind eingeladen. "
                "Ihre Antworten zeigt „teilnahme {n} uebersicht“."
            ),
            n=meeting.number,
            title=meeting.title,
            count=count,
        )
        if opening
        else ctx._(
            N_(
                "Treffen {n} „{title}“ ist nicht mehr für Alumni geöffnet; {count} eingeladene "
                "Alumni sind benachrichtigt."
            ),
            n=meeting.number,
            title=meeting.title,
            count=count,
        )
    )
    return Reply(Message.text(text))


def _answer_meeting(ctx: CommandContext, words: list[str]) -> Reply:
    if len(words) != 2 or not words[0].isdigit() or words[1] not in _YES | _NO:
        raise UserFacingError(
            N_(
                "Bitte antworten Sie mit der Nummer aus der Einladung, z. B. "
                "„alumni treffen 12 ja“ oder „alumni treffen 12 nein“."
            )
        )
    coming = words[1] in _YES
    meeting = alumni.answer_meeting(ctx.uow, ctx.person, int(words[0]), coming, now=ctx.now)
    ctx.uow.commit()
    text = (
        ctx._(N_("Danke, Sie sind für „{title}“ angemeldet."), title=meeting.title)
        if coming
        else ctx._(
            N_("Danke für Ihre Rückmeldung: Sie kommen nicht zu „{title}“."), title=meeting.title
        )
    )
    return Reply(Message.text(text), private=True)


def guests_section(ctx: CommandContext, meeting: Meeting) -> tuple[Section, Bullets] | None:
    """The alumni guests for the organisers' attendance overview, apart from the cohort."""
    found = alumni.guests(ctx.uow, meeting)
    if found is None:
        return None
    none = ctx._(N_("niemand"))
    lines = (
        ctx._(N_("Alumni, die kommen: {names}"), names=", ".join(found.coming) or none),
        ctx._(N_("Alumni-Absagen: {names}"), names=", ".join(found.declined) or none),
        ctx._(N_("Alumni ohne Antwort: {names}"), names=", ".join(found.unanswered) or none),
    )
    return Section((ctx._(N_("Alumni-Gäste (nicht im Jahrgang gezählt)")),)), Bullets(lines)


# -- the alumni room and the list ---------------------------------------------------------------


def room_command(ctx: CommandContext) -> Reply:
    if not ctx.args:
        room = alumni.room_of(ctx.uow)
        text = (
            ctx._(N_("Alumni-Raum: {link}"), link=alumni.room_link(*room))
            if room
            else ctx._(N_("Es ist kein Alumni-Raum festgelegt. Zum Beispiel: alumni raum #alumni"))
        )
        return Reply(Message.text(text))
    if len(ctx.args) == 1 and fold(ctx.args[0]) in ("aus", "off"):
        alumni.set_room(
            ctx.uow,
            ctx.request.conversation.platform,
            None,
            now=ctx.now,
            default_language=ctx.default_language,
        )
        ctx.uow.commit()
        return Reply(Message.text(ctx._(N_("Der Alumni-Raum ist nicht mehr festgelegt."))))
    if len(ctx.args) != 1:
        raise UserFacingError(N_("Bitte genau einen Kanal nennen, z. B. „alumni raum #alumni“."))
    platform = ctx.request.conversation.platform
    channel = alumni.parse_room(ctx.args[0])
    count = alumni.set_room(
        ctx.uow, platform, channel, now=ctx.now, default_language=ctx.default_language
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_(
                    "Der Alumni-Raum ist {link}. {count} Alumni erhalten den Link per "
                    "Direktnachricht; wer austritt, den nennt Ihnen der Bot zum Entfernen."
                ),
                link=alumni.room_link(platform, channel),
                count=count,
            )
        )
    )


def members_command(ctx: CommandContext) -> Reply:
    names = alumni.members(ctx.uow)
    contacts = alumni.contacts_without_consent(ctx.uow)
    head = ctx._(N_("Alumni-Kreis: {count} Personen"), count=len(names))
    blocks: list[Section | Bullets | Note] = [Section((head,))]
    if names:
        blocks.append(Bullets(tuple(names)))
    if contacts:
        blocks.append(
            Note(
                ctx._(
                    N_(
                        "Dazu {count} importierte Kontakte ohne Einwilligung: nur gezählt, "
                        "nicht gespeichert."
                    ),
                    count=contacts,
                )
            )
        )
    return Reply(Message(tuple(blocks), fallback=head), private=True)


# -- import of the former network's contacts ----------------------------------------------------


def import_command(ctx: CommandContext) -> Reply:
    execute = confirmed(ctx.args)
    names = ctx.args[:-1] if execute else ctx.args
    if ctx.request.conversation.platform == "console":
        if len(names) != 1:
            raise UserFacingError(
                N_("Bitte nennen Sie die Datei, z. B. „alumni import netzwerk.csv“.")
            )
        upload = import_file.console_file(names[0], Path.cwd())
    else:
        found = ctx.request.attachment() if ctx.request.attachment is not None else None
        if found is None:
            raise import_file.no_upload()
        upload = found
    report = alumni_import.read(ctx.uow, import_file.csv_text(upload))
    lines = [
        ctx._(
            N_(
                "Mit Einwilligung: {consent} (werden als Alumni auffindbar), ohne Einwilligung: "
                "{without} (nur gezählt, nichts gespeichert), schon vorhanden: {known}, "
                "fehlerhaft: {errors}"
            ),
            consent=len(report.consenting),
            without=report.without_consent,
            known=report.known,
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
                N_("Probelauf – noch nichts geschrieben. Zum Ausführen: alumni import {path} ja"),
                path=names[0] if names else "",
            ).replace("  ", " ")
        )
    else:
        alumni_import.apply(ctx.uow, report, actor_id=ctx.person.id, now=ctx.now)
        ctx.uow.commit()
        lines.append(ctx._(N_("Import ausgeführt.")))
    return Reply(Message.text(*lines), private=True)


def remove_command(ctx: CommandContext) -> Reply:
    if len(ctx.args) != 1:
        raise UserFacingError(
            N_("Bitte nennen Sie die E-Mail-Adresse, z. B. „alumni entfernen gerd@altdorf.de“.")
        )
    removed = alumni_import.remove_contact(
        ctx.uow, ctx.args[0], actor_id=ctx.person.id, now=ctx.now
    )
    if not removed:
        raise UserFacingError(
            N_(
                "Unter dieser Adresse gibt es keinen importierten Alumni-Kontakt. „alumni "
                "mitglieder“ zeigt den Alumni-Kreis."
            )
        )
    ctx.uow.commit()
    return Reply(
        Message.text(ctx._(N_("Der importierte Alumni-Kontakt ist gelöscht."))), private=True
    )
