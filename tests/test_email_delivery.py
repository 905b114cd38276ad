"""E-mail in the one delivery path, end to end: the bot as ``app.build_bot`` wires it, an SMTP
server (aiosmtpd) that receives every mail, and the mails read back with the ``email`` package
and ``icalendar``.

- a person added by an organiser with only an address gets the registration confirmation
  (with the Art. 13 notice), then the meeting's invitation, its change (same UID, SEQUENCE + 1)
  and its CANCEL; the office contact of a chat participant gets the copies;
- ``benachrichtigung beides`` gives a chat row and a mail row;
- a server answering 421/451 for a while: every mail arrives exactly once;
- a 550: the row fails at once (no retry) and the organisers' digest names the address;
- ``ankuendigen … email=ja`` mails every confirmed participant; a poll reaches the people
  outside the chat, with the command to type instead of buttons;
- the console prints the mails (``[mail to …]``) when no SMTP server is set up.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar, Component
from sqlalchemy import select

from app import Bot, build_bot, build_bot_with_web
from bot.clock import SimulatedClock
from bot.mail_address import mailbox
from bot.services.calendar import meeting_uid
from handlers.console_app import start_console
from handlers.email import message_id
from storage.models import Meeting, OutboxMessage
from storage.models_reminders import DigestEntry
from tests.helpers import Driver, make_settings, signup
from tests.support.smtp import SmtpServerDouble, smtp_server

BEN = "ben@beispielstadt.de"
SENDER = "Stadtlabor <stadtlabor@example.org>"
OFFICE = "buero@annastadt.de"
ADD_BEN = (
    'teilnehmende hinzufuegen name="Ben Beispiel" kommune=Beispielstadt '
    f"funktion=Beigeordneter email={BEN}"
)
MEETING = 'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr"'


@pytest.fixture
def smtp() -> Iterator[SmtpServerDouble]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbot(db_url: str, clock: SimulatedClock, smtp: SmtpServerDouble) -> Iterator[Bot]:
    settings = make_settings(
        db_url,
        organizers="console:orga",
        smtp_url=smtp.url,
        mail_from=SENDER,
        mail_reply_to="Programmteam <team@example.org>",
    )
    built = build_bot(settings, clock)
    yield built
    built.close()


def _flush_mail(bot: Bot, rounds: int = 1) -> None:
    """Send the due mail rows (``bot.outbox`` is the process's sender: the email messenger
    is attached to it by build_bot); each further round after the back-off has passed."""
    for _ in range(rounds):
        bot.outbox.flush()
        bot.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]


def _to(mails: list[EmailMessage], address: str) -> list[EmailMessage]:
    return [m for m in mails if address in str(m["To"])]


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def _ics(mail: EmailMessage) -> tuple[str, str, int, str]:
    """(METHOD, UID, SEQUENCE, ATTENDEE) of the mail's text/calendar part."""
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    cal = Calendar.from_ical(payload)
    [event] = cal.walk("VEVENT")
    assert isinstance(event, Component)
    attendee = str(event["ATTENDEE"]).removeprefix("mailto:")
    return str(cal["METHOD"]), str(event["UID"]), int(str(event["SEQUENCE"])), attendee


def _rows(bot: Bot, platform: str) -> list[OutboxMessage]:
    with bot.uow_factory() as uow:
        rows = list(
            uow.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.platform == platform)
                .order_by(OutboxMessage.id)
            )
        )
        uow.session.expunge_all()
    return rows


def test_a_person_without_chat_gets_confirmation_invitation_change_and_cancel(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna", bueroleitung=OFFICE))  # chat only; her office gets copies
    assert "angemeldet" in d.say("orga", ADD_BEN)
    _flush_mail(mailbot)
    [welcome] = _to(smtp.mails(), BEN)
    assert "Anmeldung für „Stadtlabor 2026/27“" in str(welcome["Subject"])
    text = _text(welcome)
    assert "Ihr Platz ist bestätigt (Platz 2)" in text
    assert "Datenschutzhinweis (Art. 13 DSGVO)" in text
    assert welcome["Reply-To"] == "Programmteam <team@example.org>"

    d.say("orga", MEETING)
    _flush_mail(mailbot)
    d.say("orga", 'treffen 1 aendern von="3.4.2027 10 Uhr"')
    _flush_mail(mailbot)
    d.say("orga", "treffen 1 loeschen ja")
    _flush_mail(mailbot)

    with mailbot.uow_factory() as uow:
        uid = meeting_uid(uow.session.scalars(select(Meeting)).one().id)
    ben = [_ics(m) for m in _to(smtp.mails(), BEN)[1:]]
    office = [_ics(m) for m in _to(smtp.mails(), OFFICE)]
    assert ben == [("REQUEST", uid, 0, BEN), ("REQUEST", uid, 1, BEN), ("CANCEL", uid, 2, BEN)]
    assert office == [
        ("REQUEST", uid, 0, OFFICE),
        ("REQUEST", uid, 1, OFFICE),
        ("CANCEL", uid, 2, OFFICE),
    ]
    subjects = [str(m["Subject"]) for m in _to(smtp.mails(), BEN)[1:]]
    assert subjects == [
        "Stadtlabor: Einladung: Auftakt",
        "Stadtlabor: Geändert: Auftakt",
        "Stadtlabor: Abgesagt: Auftakt",
    ]
    copy = _to(smtp.mails(), OFFICE)[0]
    assert "Büroleitung von Anna Muster" in _text(copy)  # the footer says whose office
    assert not _to(smtp.mails(), "anna@example.org")  # Anna reads the chat: no mail
    assert {r.status for r in _rows(mailbot, "email")} == {"sent"}


def test_a_registration_confirmed_later_is_invited(mailbot: Bot, smtp: SmtpServerDouble) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("orga", MEETING)
    d.say("orga", ADD_BEN)
    _flush_mail(mailbot)
    methods = [_ics(m)[0] for m in _to(smtp.mails(), BEN) if "Einladung" in str(m["Subject"])]
    assert methods == ["REQUEST"]


def test_both_channels_give_a_chat_row_and_a_mail_row(mailbot: Bot, smtp: SmtpServerDouble) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("anna", "kalender")
    _flush_mail(mailbot)
    assert not _to(smtp.mails(), "anna@example.org")  # default for a chat user: the chat
    assert [s.filename for s in d.messenger.transcript if s.kind == "file"] == ["stadtlabor.ics"]
    d.say("anna", "benachrichtigung beides")
    d.say("anna", "kalender")
    _flush_mail(mailbot)
    files = [s.filename for s in d.messenger.transcript if s.kind == "file"]
    assert files == ["stadtlabor.ics", "stadtlabor.ics"]
    [mail] = _to(smtp.mails(), "anna@example.org")
    assert [a.get_filename() for a in mail.iter_attachments()] == ["stadtlabor.ics"]
    keys = [r.idempotency_key for r in _rows(mailbot, "email")]
    assert len(keys) == 1 and keys[0].endswith(":email")


def test_a_server_that_answers_421_and_451_for_a_while_gets_every_mail_once(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=10')
    smtp.fail_next(2, 421, "Service not available, closing channel")
    smtp.fail_next(3, 451, "Try again later")
    people = [f"p{i}@stadt{i}.de" for i in range(4)]
    for i, address in enumerate(people):
        d.say(
            "orga",
            f'teilnehmende hinzufuegen name="Person {i}" kommune=Stadt{i} '
            f"funktion=Beigeordneter email={address}",
        )
    _flush_mail(mailbot, rounds=8)
    assert smtp.answered_failures == 5
    received = [str(m["To"]) for m in smtp.mails()]
    assert sorted(received) == sorted(f"Person {i} <{a}>" for i, a in enumerate(people))
    rows = _rows(mailbot, "email")
    assert [r.status for r in rows] == ["sent"] * 4
    assert sum(r.attempts for r in rows) == 5  # each refusal counted once, then sent
    assert len({m["Message-ID"] for m in smtp.mails()}) == 4


def test_a_550_fails_the_row_at_once_and_the_digest_names_the_address(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    smtp.refuse(BEN, 550, "No such mailbox")
    d.say("orga", ADD_BEN)
    _flush_mail(mailbot)
    [row] = _rows(mailbot, "email")
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in (row.error or "")
    _flush_mail(mailbot, rounds=3)
    assert _rows(mailbot, "email")[0].attempts == 1  # never retried
    with mailbot.uow_factory() as uow:
        entries = list(uow.session.scalars(select(DigestEntry)))
        assert [(e.source, e.ref_id) for e in entries] == [("outbox-failed", row.id)]
    mailbot.due.run_due(mailbot.clock.now())
    d.flush()
    digest = [s.text for s in d.messenger.transcript if s.kind == "dm" and "orga" in s.target]
    assert len(digest) == 1
    assert BEN in digest[-1] and "dauerhaft abgelehnt" in digest[-1]
    assert smtp.mails() == []


def test_an_announcement_with_email_ja_reaches_every_confirmed_participant(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("orga", ADD_BEN)
    _flush_mail(mailbot)
    before = len(smtp.mails())
    assert "ja oder nein" in d.say("orga", 'ankuendigen "Hallo" email=vielleicht sofort').replace(
        "„", ""
    ).replace("“", "")
    answer = d.say("orga", 'ankuendigen "Die Anmeldung ist geöffnet." email=ja sofort')
    assert "Per E-Mail an 2 bestätigte Teilnehmende." in answer
    _flush_mail(mailbot)
    new = smtp.mails()[before:]
    assert sorted(str(m["To"]).rsplit("<", 1)[-1] for m in new) == [
        "anna@example.org>",
        f"{BEN}>",
    ]
    assert all("Die Anmeldung ist geöffnet." in _text(m) for m in new)
    d.say("orga", 'ankuendigen "Nur im Chat." sofort')
    _flush_mail(mailbot)
    assert len(smtp.mails()) == before + 2  # without email=ja: no mail


def test_a_poll_reaches_people_outside_the_chat_with_the_command_to_type(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("orga", ADD_BEN)
    d.say("orga", 'umfrage "Welcher Termin?" "Montag" "Dienstag" sofort')
    _flush_mail(mailbot)
    polls = [m for m in _to(smtp.mails(), BEN) if "Welcher Termin?" in _text(m)]
    assert len(polls) == 1
    assert "schreiben Sie „abstimmen" in _text(polls[0])
    assert not _to(smtp.mails(), "anna@example.org")


def test_the_console_prints_mails_when_no_smtp_server_is_set_up(db_url: str) -> None:
    out = io.StringIO()
    settings = make_settings(db_url, organizers="console:orga")
    lines = [
        '@orga jahrgang anlegen "Stadtlabor 2026/27" plaetze=5',
        f"@orga {ADD_BEN}",
        f"@orga {MEETING}",
    ]
    assert start_console(settings, build_bot_with_web, lines, out=out) == 0
    printed = out.getvalue()
    assert f"[mail to Ben Beispiel <{BEN}>] Stadtlabor: Anmeldung für" in printed
    assert "Datenschutzhinweis (Art. 13 DSGVO)" in printed
    assert f"[mail to Ben Beispiel <{BEN}>] Stadtlabor: Einladung: Auftakt" in printed
    assert "[attachment: einladung.ics]" in printed


def test_an_invitation_mail_has_the_message_id_of_its_outbox_key(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("orga", ADD_BEN)
    d.say("orga", MEETING)
    _flush_mail(mailbot)
    [row] = [r for r in _rows(mailbot, "email") if r.idempotency_key.startswith("invite:")]
    [mail] = [m for m in _to(smtp.mails(), BEN) if "Einladung" in str(m["Subject"])]
    assert mail["Message-ID"] == message_id(row.idempotency_key, mailbox(SENDER))
