"""One message to the organisers listing what was missed or may have been sent twice.

Entries (:class:`storage.models_reminders.DigestEntry`) are written where the problem is seen:
a reminder later than the grace period, an outbox row whose lease ran out on a platform that
does not deduplicate, an outbox row the platform refused for good (an SMTP 5xx: the address is
named). The digest row (kind ``reminders-digest``) reports every unreported entry
once, in each organiser's language.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.i18n import format_when, translator
from bot.notifications import EMAIL
from bot.outbox import dm_person
from bot.outbox.send import FAILED_SOURCE
from bot.scheduling.due import DueContext
from bot.views import Bullets, Header, Message, Section
from storage.models import OutboxMessage, Reminder
from storage.models_reminders import DigestEntry


def _line(ctx: DueContext, entry: DigestEntry, language: str) -> str:
    _ = translator(language)
    if entry.source == "reminder":
        row = ctx.uow.session.get(Reminder, entry.ref_id)
        if row is None:
            return _("Erinnerung Nr. {id} (inzwischen gelöscht)").format(id=entry.ref_id)
        when = format_when(row.due_at.astimezone(ctx.settings.tz), language)
        return _("Erinnerung Nr. {id} ({kind}), fällig {when}: nicht gesendet").format(
            id=row.id, kind=row.kind, when=when
        )
    message = ctx.uow.session.get(OutboxMessage, entry.ref_id)
    platform = message.platform if message else "?"
    if entry.source == FAILED_SOURCE:
        target = message.target if message else {}
        recipient = str(target.get("identity") or target.get("channel_id") or "?")
        return _(
            "Nachricht Nr. {id} an {recipient}: dauerhaft abgelehnt ({error}). Bitte prüfen Sie "
            "die Adresse (z. B. „teilnehmende“) und benachrichtigen Sie die Person auf anderem Weg."
        ).format(
            id=entry.ref_id,
            recipient=recipient.removeprefix("email:"),
            error=(message.error or "?")[:200] if message else "?",
        )
    address = str((message.target if message else {}).get("identity") or "")
    if platform == EMAIL and address.startswith(f"{EMAIL}:"):  # cut by a crash: name the address
        return _(
            "Nachricht Nr. {id} (E-Mail an {recipient}): Zustellung unsicher – vielleicht nicht "
            "oder doppelt angekommen. Bitte fragen Sie bei Bedarf nach."
        ).format(id=entry.ref_id, recipient=address.removeprefix(f"{EMAIL}:"))
    return _(
        "Nachricht Nr. {id} ({platform}): Zustellung unsicher – vielleicht nicht oder doppelt "
        "angekommen"
    ).format(id=entry.ref_id, platform=platform)


def send_digest(ctx: DueContext) -> None:
    entries = list(
        ctx.uow.session.scalars(
            select(DigestEntry).where(DigestEntry.reported_at.is_(None)).order_by(DigestEntry.id)
        )
    )
    if not entries:
        return
    for organiser in ctx.uow.persons.organisers():
        language = organiser.language or ctx.settings.language
        _ = translator(language)
        lines = tuple(_line(ctx, entry, language) for entry in entries)
        title = _("Verpasst oder unsicher ({count})").format(count=len(entries))
        intro = _(
            "Während einer Unterbrechung konnte der Bot Folgendes nicht sicher zustellen. "
            "Bitte prüfen und bei Bedarf von Hand nachholen:"
        )
        message = Message(
            blocks=(Header(title), Section(lines=(intro,)), Bullets(items=lines)),
            fallback=title,
        )
        key = f"digest:{ctx.reminder.id}:{organiser.id}"
        dm_person(ctx.uow, organiser.id, message, key, ctx.now)
    for entry in entries:
        entry.reported_at = ctx.now
