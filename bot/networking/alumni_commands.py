"""alumni [ja|nein]: the alumni circle's commands (the service is bot.networking.alumni)."""

from __future__ import annotations

from bot.commands.registry import CommandRegistry, CommandSpec
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking import alumni
from bot.router import fold
from bot.services import privacy
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
    removed = alumni.opt_out(ctx.uow, ctx.person)
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
