"""alumni [ja|nein]: the alumni circle's commands (the service is bot.networking.alumni)."""

from __future__ import annotations

from bot.commands.registry import CommandRegistry, CommandSpec
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking import alumni
from bot.router import fold
from bot.services import privacy
from bot.views import Message, Note, Section

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
            "alumni [ja|nein]",
            "alumni ja",
            (),
            GROUP,
        )
    )


def alumni_command(ctx: CommandContext) -> Reply:
    words = [fold(a) for a in ctx.args]
    if not words:
        return Reply(_status(ctx), private=True)
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
