"""The e-mail Messenger against a real SMTP server (aiosmtpd, tests/support/smtp.py): every
mail is parsed back with the standard ``email`` package."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.actions import CommandAction
from bot.delivery_errors import PermanentDeliveryError, TransientDeliveryError
from bot.identity import Identity
from bot.mail_address import mailbox
from bot.outbox.pacing import RateLimited
from bot.smtp import parse_smtp_url
from bot.views import Actions, Bullets, Button, Header, Message, Note, Section
from handlers.email import (
    MAX_BYTES,
    EmailMessenger,
    MailRecipient,
    MailTooLarge,
    from_settings,
    message_id,
)
from handlers.email.pacing import DomainPacer
from tests.helpers import make_settings
from tests.support.smtp import SmtpServerDouble, smtp_server

ANNA = Identity("email", "anna@musterstadt.de")
SENDER = "Stadtlabor <stadtlabor@example.org>"


@pytest.fixture
def smtp() -> Iterator[SmtpServerDouble]:
    with smtp_server() as server:
        yield server


def messenger(server: SmtpServerDouble, **kwargs: object) -> EmailMessenger:
    made = EmailMessenger(
        parse_smtp_url(server.url),
        mailbox(SENDER),
        ssl_context=server.client_context,
        **kwargs,  # type: ignore[arg-type]
    )
    return made


def invitation() -> Message:
    return Message(
        blocks=(
            Header("Treffen 2 in Musterstadt"),
            Section(("Sa, 27.03.2027, 10:00 – So, 28.03.2027, 16:00",), label="Wann"),
            Bullets(("Stadtrundgang", "Werkstatt <Demografie>")),
            Note("Bitte sagen Sie bis Freitag zu."),
            Actions(
                (
                    Button("Zusagen", CommandAction("teilnahme", ("2", "ja"))),
                    Button("Absagen", CommandAction("teilnahme", ("2", "nein"))),
                )
            ),
        ),
        fallback="Einladung zu Treffen 2",
    )


def parts(mail: EmailMessage) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in mail.walk():
        if part.get_content_maintype() == "multipart":
            continue
        found.setdefault(part.get_content_type(), part.get_content())
    return found


def test_a_dm_arrives_with_text_and_html_parts_and_a_german_footer(
    smtp: SmtpServerDouble,
) -> None:
    ref = messenger(smtp, reply_to=mailbox("Programmteam <team@example.org>")).send_dm(
        ANNA, invitation(), key="dm:anna:invite:2"
    )
    [received] = smtp.received
    assert received.recipients == ("anna@musterstadt.de",)
    assert received.sender == "stadtlabor@example.org"
    mail = received.mail
    assert mail["From"] == SENDER
    assert mail["To"] == "anna@musterstadt.de"
    assert mail["Reply-To"] == "Programmteam <team@example.org>"
    assert mail["Subject"] == "Stadtlabor: Treffen 2 in Musterstadt"
    assert mail["Content-Language"] == "de"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_type() == "multipart/alternative"
    body = parts(mail)
    text, html = body["text/plain"], body["text/html"]
    assert "Wann: Sa, 27.03.2027, 10:00 – So, 28.03.2027, 16:00" in text
    assert "• Werkstatt <Demografie>" in text
    assert "Zusagen: schreiben Sie „teilnahme 2 ja“ an den Stadtlabor-Bot" in text
    assert "<li>Werkstatt &lt;Demografie&gt;</li>" in html  # escaped, no markup injected
    assert "<h2>Treffen 2 in Musterstadt</h2>" in html
    for part in (text, html):
        assert "„benachrichtigung chat“" in part
        assert "weil Ihre Adresse dort eingetragen ist" in part
    assert ref.platform == "email" and ref.channel_id == "anna@musterstadt.de"
    assert ref.message_id == mail["Message-ID"]


def test_the_mail_is_in_the_recipients_language_with_their_footer(
    smtp: SmtpServerDouble,
) -> None:
    lookup = {"anna@musterstadt.de": MailRecipient("en", "Anna Muster", "person")}
    messenger(smtp, recipient=lookup.__getitem__).send_dm(ANNA, invitation())
    mail = smtp.mails()[0]
    assert mail["To"] == "Anna Muster <anna@musterstadt.de>"
    assert mail["Content-Language"] == "en"
    text = parts(mail)["text/plain"]
    assert "Zusagen: write “teilnahme 2 ja” to the Stadtlabor bot" in text
    assert "because you take part in the Körber-Stiftung's Stadtlabor" in text
    assert "Write “notifications chat”" in text
    assert "benachrichtigung" not in text


def test_an_office_copy_says_whose_office_it_is(smtp: SmtpServerDouble) -> None:
    office = MailRecipient("de", None, "office", on_behalf_of="Anna Muster")
    messenger(smtp, recipient=lambda _address: office).send_dm(ANNA, invitation())
    text = parts(smtp.mails()[0])["text/plain"]
    assert "Sie erhalten diese Kopie als Büroleitung von Anna Muster" in text


def test_buttons_become_links_when_the_web_app_gives_one(smtp: SmtpServerDouble) -> None:
    def links(user: Identity, button: Button) -> str | None:
        assert user == ANNA
        action = button.action
        if not isinstance(action, CommandAction):
            return None
        answer = "" if action.args[-1] == "ja" else ":no"
        return f"https://stadtlabor.example.org/a/{action.args[0]}{answer}?t=x&y=1"

    messenger(smtp, links=links).send_dm(ANNA, invitation())
    body = parts(smtp.mails()[0])
    assert "Zusagen: https://stadtlabor.example.org/a/2?t=x&y=1" in body["text/plain"]
    assert (
        '<a href="https://stadtlabor.example.org/a/2?t=x&amp;y=1">Zusagen</a>' in body["text/html"]
    )
    assert "schreiben Sie" not in body["text/plain"]


def test_the_message_id_follows_the_outbox_key(smtp: SmtpServerDouble) -> None:
    sender = messenger(smtp)
    first = sender.send_dm(ANNA, invitation(), key="outbox:17")
    again = sender.send_dm(ANNA, invitation(), key="outbox:17")  # the resend after a crash
    other = sender.send_dm(ANNA, invitation(), key="outbox:18")
    unkeyed = sender.send_dm(ANNA, invitation())
    ids = [m["Message-ID"] for m in smtp.mails()]
    assert ids[0] == ids[1] == first.message_id == again.message_id
    assert ids[0] == message_id("outbox:17", mailbox(SENDER))
    assert ids[0].endswith("@example.org>") and len(ids[0]) == len("<@example.org>") + 32
    assert ids[2] == other.message_id != ids[0]
    assert ids[3] == unkeyed.message_id not in ids[:3]


def test_line_breaks_cannot_inject_headers(smtp: SmtpServerDouble) -> None:
    evil = Message(
        blocks=(Header("Treffen\r\nBcc: everyone@example.net\r\n\r\nfake body"),),
        fallback="x",
    )
    named = MailRecipient("de", "Anna\r\nBcc: spy@example.net", "person")
    messenger(smtp, recipient=lambda _a: named).send_dm(ANNA, evil)
    [received] = smtp.received
    headers = received.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert "Bcc" not in received.mail
    assert not any(line.lower().startswith("bcc:") for line in headers.splitlines())
    assert received.recipients == ("anna@musterstadt.de",)
    assert received.mail["Subject"] == "Stadtlabor: Treffen Bcc: everyone@example.net fake body"
    assert received.mail["To"].addresses[0].addr_spec == "anna@musterstadt.de"
    assert len(received.mail["To"].addresses) == 1


def test_a_sender_or_recipient_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="line breaks"):
        mailbox("Stadtlabor\r\nBcc: x@example.org <stadtlabor@example.org>")
    with pytest.raises(ValueError, match="e-mail identity"):
        Identity.parse("email:anna@musterstadt.de\r\nBcc:x@y.de")


def test_a_mail_over_one_megabyte_is_refused_before_sending(smtp: SmtpServerDouble) -> None:
    sender = messenger(smtp)
    with pytest.raises(MailTooLarge, match="more than the limit of 1000000") as info:
        sender.send_file(ANNA, "teilnehmende.csv", b"x" * MAX_BYTES)
    assert isinstance(info.value, PermanentDeliveryError)
    assert info.value.recipient == "anna@musterstadt.de"
    assert smtp.received == []
    sender.send_file(ANNA, "teilnehmende.csv", b"name;kommune\n" * 1000)  # a normal file
    mail = smtp.mails()[0]
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "teilnehmende.csv"
    content = attachment.get_content().replace("\r\n", "\n")
    assert content.startswith("name;kommune\nname;kommune\n")


def test_an_invitation_file_becomes_a_calendar_part_outlook_recognises(
    smtp: SmtpServerDouble,
) -> None:
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//DE\r\nMETHOD:REQUEST\r\n"
        b"BEGIN:VEVENT\r\nUID:x@y\r\nDTSTAMP:20261125T120000Z\r\nDTSTART:20270327T090000Z\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    messenger(smtp).send_file(ANNA, "einladung.ics", ics, Message.text("Einladung"))
    mail = smtp.mails()[0]
    calendars = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    assert calendars[0].get_param("method") == "REQUEST"
    assert b"METHOD:REQUEST" in calendars[0].get_payload(decode=True)
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "einladung.ics"


@pytest.mark.parametrize("code", [421, 451, 452])
def test_a_4xx_is_retryable_and_the_retry_arrives_once(smtp: SmtpServerDouble, code: int) -> None:
    sender = messenger(smtp)
    smtp.fail_next(2, code)
    for _ in range(2):
        with pytest.raises(TransientDeliveryError, match=f"SMTP {code}"):
            sender.send_dm(ANNA, invitation(), key="row:5")
    sender.send_dm(ANNA, invitation(), key="row:5")
    assert smtp.answered_failures == 2
    assert len(smtp.received) == 1


def test_a_5xx_is_permanent_and_names_the_address(smtp: SmtpServerDouble) -> None:
    smtp.refuse("anna@musterstadt.de", 550, "No such mailbox")
    with pytest.raises(PermanentDeliveryError, match="SMTP 550") as info:
        messenger(smtp).send_dm(ANNA, invitation())
    assert info.value.recipient == "anna@musterstadt.de"
    smtp.fail_next(1, 554, "Message rejected")
    with pytest.raises(PermanentDeliveryError, match="SMTP 554"):
        messenger(smtp).send_dm(Identity("email", "bernd@example.org"), invitation())
    assert smtp.received == []


def test_an_unreachable_server_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        sender = EmailMessenger(
            parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=false&timeout=5"), mailbox(SENDER)
        )
        with pytest.raises(TransientDeliveryError, match="unreachable"):
            sender.send_dm(ANNA, invitation())


def test_starttls_with_login() -> None:
    with smtp_server("starttls", user="stadtlabor", password="g3heim@x") as server:
        url = server.url.replace("g3heim@x", "g3heim%40x")
        sender = EmailMessenger(
            parse_smtp_url(url), mailbox(SENDER), ssl_context=server.client_context
        )
        sender.send_dm(ANNA, invitation())
        assert server.logins == ["stadtlabor"]
        assert len(server.received) == 1
        # The same server without trusting its certificate: retryable, never sent in clear.
        untrusted = EmailMessenger(parse_smtp_url(url), mailbox(SENDER))
        with pytest.raises(TransientDeliveryError, match="SSLCertVerificationError"):
            untrusted.send_dm(ANNA, invitation())
        assert len(server.received) == 1


# aiosmtpd does not count implicit TLS as TLS for AUTH; the double allows AUTH there and warns.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtps_from_the_first_byte() -> None:
    with smtp_server("smtps", user="stadtlabor", password="pw") as server:
        sender = EmailMessenger(
            parse_smtp_url(server.url), mailbox(SENDER), ssl_context=server.client_context
        )
        sender.send_dm(ANNA, invitation())
        assert server.logins == ["stadtlabor"]
        assert len(server.received) == 1


def test_a_wrong_password_is_retryable_and_says_what_to_check() -> None:
    with smtp_server("starttls", user="stadtlabor", password="right") as server:
        url = server.url.replace(":right@", ":wrong@")
        sender = EmailMessenger(
            parse_smtp_url(url), mailbox(SENDER), ssl_context=server.client_context
        )
        with pytest.raises(TransientDeliveryError, match="STADTLABOR_SMTP_URL"):
            sender.send_dm(ANNA, invitation())
        assert server.received == []


def test_pacing_per_domain_reschedules_instead_of_sleeping(smtp: SmtpServerDouble) -> None:
    now = [1000.0]
    sender = messenger(smtp, pacer=DomainPacer(2, clock=lambda: now[0]), per_minute=2)
    sender.send_dm(Identity("email", "a@musterstadt.de"), invitation())
    now[0] += 10
    sender.send_dm(Identity("email", "b@MUSTERSTADT.de"), invitation())
    with pytest.raises(RateLimited) as info:
        sender.send_dm(Identity("email", "c@musterstadt.de"), invitation())
    assert info.value.retry_after == pytest.approx(50.0)
    sender.send_dm(Identity("email", "d@example.org"), invitation())  # another domain
    now[0] += 50.5
    sender.send_dm(Identity("email", "c@musterstadt.de"), invitation())
    assert [r.recipients[0] for r in smtp.received] == [
        "a@musterstadt.de",
        "b@musterstadt.de",  # the domain normalised to lower case
        "d@example.org",
        "c@musterstadt.de",
    ]


def test_a_refused_mail_gives_its_pacing_slot_back(smtp: SmtpServerDouble) -> None:
    sender = messenger(smtp, pacer=DomainPacer(1, clock=lambda: 0.0), per_minute=1)
    smtp.fail_next(1, 451)
    with pytest.raises(TransientDeliveryError):
        sender.send_dm(ANNA, invitation())
    sender.send_dm(ANNA, invitation())  # the slot was not used up by the refused mail
    assert len(smtp.received) == 1


def test_channels_edits_and_deletions_are_refused_clearly(smtp: SmtpServerDouble) -> None:
    sender = messenger(smtp)
    with pytest.raises(PermanentDeliveryError, match="e-mail has no channels"):
        sender.post("C123", invitation())
    ref = sender.send_dm(ANNA, invitation())
    with pytest.raises(PermanentDeliveryError, match="cannot be edited"):
        sender.update(ref, invitation())
    with pytest.raises(PermanentDeliveryError, match="cannot be deleted"):
        sender.delete(ref)
    with pytest.raises(PermanentDeliveryError, match="not an e-mail identity"):
        sender.send_dm(Identity("slack", "U0123ABC"), invitation())
    assert len(smtp.received) == 1


def test_one_connection_serves_several_mails(smtp: SmtpServerDouble) -> None:
    sender = messenger(smtp)
    for n in range(5):
        sender.send_dm(ANNA, invitation(), key=f"row:{n}")
    assert len(smtp.received) == 5
    assert sender.connections_opened == 1
    sender.close()


def test_a_connection_the_server_dropped_is_replaced_without_losing_the_mail(
    smtp: SmtpServerDouble,
) -> None:
    sender = messenger(smtp)
    sender.send_dm(ANNA, invitation(), key="row:1")
    smtp.stop()  # the server restarts: the idle connection is dead
    smtp.start()
    sender.send_dm(ANNA, invitation(), key="row:2")
    assert [r.mail["Message-ID"] for r in smtp.received] == [
        message_id("row:1", mailbox(SENDER)),
        message_id("row:2", mailbox(SENDER)),
    ]
    assert sender.connections_opened == 2


def test_from_settings_sends_over_smtp_when_configured(
    smtp: SmtpServerDouble, tmp_path: Path
) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path}/x.db",
        smtp_url=smtp.url,
        mail_from=SENDER,
        mail_reply_to="team@example.org",
        mail_per_minute=1,
        language="en",
    )
    sender = from_settings(settings)
    assert sender is not None and sender.per_minute == 1
    sender.send_dm(ANNA, invitation())
    with pytest.raises(RateLimited):  # one a minute to musterstadt.de, as configured
        sender.send_dm(Identity("email", "bernd@musterstadt.de"), invitation())
    [mail] = smtp.mails()
    assert mail["Reply-To"] == "team@example.org" and mail["Content-Language"] == "en"


def test_without_smtp_the_console_prints_the_mail(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/x.db")
    assert from_settings(settings) is None  # no e-mail channel at all
    out = io.StringIO()
    sender = from_settings(settings, print_to=out)
    assert sender is not None
    sender.send_dm(ANNA, invitation())
    sender.send_file(ANNA, "einladung.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    printed = out.getvalue()
    assert printed.startswith(
        "[mail to anna@musterstadt.de] Stadtlabor: Treffen 2 in Musterstadt\n"
    )
    assert "Zusagen: schreiben Sie „teilnahme 2 ja“ an den Stadtlabor-Bot" in printed
    assert "[attachment: einladung.ics]" in printed
