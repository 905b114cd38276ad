"""Meeting invitations as outbox rows (docs/email.md, "Invitations that update").

:func:`send_for_meeting` runs in the transaction that creates, changes or deletes a meeting:
it asks :func:`bot.services.itip.plan` which mails the change needs (REQUEST with the new
SEQUENCE, CANCEL), enqueues each as an outbox ``file`` row to ``email:<address>``
(``einladung.ics``, key ``Pending.key``: the Message-ID of a resend is the same) and records it
with :func:`bot.services.itip.record`. :func:`send_for_cohort` does the same for every coming
meeting of a cohort when who should have them changed (a registration confirmed or ended, a
``benachrichtigung`` choice, an office contact): a new participant is invited, a withdrawn one
or one who switched to the chat gets the CANCEL.
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address

from bot.i18n import N_, translator
from bot.mail_address import LOCAL_SENDER, mailbox
from bot.outbox import enqueue
from bot.scheduling.due import DueContext
from bot.services import meetings as meetings_service
from bot.services.itip import (
    MeetingInvite,
    Pending,
    invitation,
    invite_of,
    invited_addresses,
    plan,
    record,
)
from bot.settings import Settings
from bot.views import Header, Message, Note, Section
from storage.models import Meeting
from storage.uow import UnitOfWork

FILENAME = "einladung.ics"


def organizer(settings: Settings) -> Address:
    """The ORGANIZER of every invitation: the sender of the mails."""
    return settings.mail_sender or mailbox(LOCAL_SENDER)


def send_for_meeting(
    uow: UnitOfWork, meeting: Meeting, *, settings: Settings, now: datetime
) -> int:
    """Enqueue the invitation mails a change of ``meeting`` needs; returns how many."""
    todo = plan(uow, meeting)
    invited = invited_addresses(uow, meeting.id)  # before this change: "Geändert" for them
    invites: dict[str, MeetingInvite] = {}  # by language: the agenda is rendered once each
    for pending in todo:
        language, name = _recipient(uow, pending, settings.language)
        if language not in invites:
            invites[language] = invite_of(uow, meeting, tz=settings.tz, language=language)
        data = invitation(
            invites[language],
            sequence=pending.sequence,
            organizer=organizer(settings),
            attendee=pending.address,
            attendee_name=name,
            method=pending.method,
            tz=settings.tz,
            now=now,
        )
        enqueue(
            uow,
            key=pending.key,
            platform="email",
            operation="file",
            target={"identity": f"email:{pending.address}"},
            message=_comment(meeting, pending, language, settings, pending.address in invited),
            now=now,
            file=(FILENAME, data),
        )
        record(uow, pending, now)
    return len(todo)


def send_agenda_update(ctx: DueContext) -> None:
    """The due row of :mod:`bot.services.agenda_invites`: the agenda changed, so the SEQUENCE
    goes up once and every invited address gets a REQUEST with the agenda as it is now.
    Nothing to do when the meeting is gone or over, or a meeting change has raised the
    SEQUENCE since (its invitations carried the agenda already)."""
    target = ctx.reminder.target
    meeting = ctx.uow.session.get(Meeting, int(target["meeting_id"]))
    if meeting is None or meeting.deleted_at is not None or meeting.ends_at <= ctx.now:
        return
    if meeting.sequence != int(target["sequence"]):
        return
    meeting.sequence += 1
    send_for_meeting(ctx.uow, meeting, settings=ctx.settings, now=ctx.now)


def send_for_cohort(uow: UnitOfWork, cohort_id: int, *, settings: Settings, now: datetime) -> int:
    """:func:`send_for_meeting` for every meeting of the cohort that has not ended."""
    return sum(
        send_for_meeting(uow, meeting, settings=settings, now=now)
        for meeting in meetings_service.active(uow, cohort_id)
        if meeting.ends_at > now
    )


def send_for_person(uow: UnitOfWork, person_id: int, *, settings: Settings, now: datetime) -> int:
    """:func:`send_for_cohort` for every cohort the person is (or was) registered in."""
    cohorts = sorted({p.cohort_id for p in uow.participants.of_person(person_id)})
    return sum(send_for_cohort(uow, c, settings=settings, now=now) for c in cohorts)


def _recipient(uow: UnitOfWork, pending: Pending, default_language: str) -> tuple[str, str | None]:
    """The language of the mail (the person's, also for their office) and the attendee's name
    (the person's own; an office copy names nobody)."""
    person = uow.persons.get(pending.person_id) if pending.person_id else None
    if person is None:
        return default_language, None
    name = person.display_name if pending.role == "person" else None
    return person.language or default_language, name


def _comment(
    meeting: Meeting, pending: Pending, language: str, settings: Settings, changed: bool
) -> Message:
    _ = translator(language)
    if pending.method == "CANCEL":
        if meeting.deleted_at is not None:
            head = _(N_("Abgesagt: {title}"))
            note = _(N_("Das Treffen findet nicht statt; der Anhang nimmt es aus Ihrem Kalender."))
        else:
            head = _(N_("Nicht mehr per E-Mail: {title}"))
            note = _(
                N_(
                    "Diese Adresse erhält die Einladungen zu diesem Treffen nicht mehr per E-Mail "
                    "(abgemeldet oder Nachrichten im Chat); der Anhang nimmt es aus dem Kalender."
                )
            )
    elif changed:
        head = _(N_("Geändert: {title}"))
        note = _(N_("Der Anhang aktualisiert den Termin in Ihrem Kalender."))
    else:
        head = _(N_("Einladung: {title}"))
        note = _(
            N_(
                "Der Anhang trägt den Termin in Ihren Kalender ein; spätere Änderungen "
                "aktualisieren ihn."
            )
        )
    span = meetings_service.span_label(meeting, settings.tz, language)
    place = ", ".join(x for x in (meeting.location, meeting.host_city) if x)
    title = head.format(title=meeting.title)
    lines = (span, place) if place else (span,)
    return Message((Header(title), Section(lines), Note(note)), fallback=title)
