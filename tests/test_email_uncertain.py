"""A mail whose send a crash cut (the row leased, the SMTP server took the DATA, nothing
committed) is not sent again: its row becomes ``uncertain`` like a Slack post's, and the
organisers' digest names the address (a real SMTP server, aiosmtpd, receives the mail)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.outbox import send
from bot.outbox.enqueue import Outgoing, add
from bot.outbox.sender import LEASE, resends_cut_sends
from bot.views import Message
from storage.models import OutboxMessage
from storage.models_reminders import DigestEntry
from tests.helpers import Driver, make_settings
from tests.support.smtp import SmtpServerDouble, smtp_server

BEN = "ben@beispielstadt.de"
ADD_BEN = (
    'teilnehmende hinzufuegen name="Ben Beispiel" kommune=Beispielstadt '
    f"funktion=Beigeordneter email={BEN}"
)


@pytest.fixture
def smtp() -> Iterator[SmtpServerDouble]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbot(db_url: str, clock: SimulatedClock, smtp: SmtpServerDouble) -> Iterator[Bot]:
    settings = make_settings(
        db_url, organizers="console:orga", smtp_url=smtp.url, mail_from="stadtlabor@example.org"
    )
    built = build_bot(settings, clock)
    yield built
    built.close()


def _mail_rows(bot: Bot) -> list[OutboxMessage]:
    with bot.uow_factory() as uow:
        rows = list(
            uow.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.platform == "email")
                .order_by(OutboxMessage.id)
            )
        )
        uow.session.expunge_all()
    return rows


def test_a_mail_cut_by_a_crash_becomes_uncertain_and_the_digest_names_the_address(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("orga", ADD_BEN)
    [row] = _mail_rows(mailbot)
    assert mailbot.mail is not None and not resends_cut_sends(mailbot.mail)
    # The crash: the row is leased and the server takes the mail, but the outcome is never
    # written (the process died between the server's 250 and the commit).
    claimed = mailbot.outbox._claim(row.id, mailbot.mail)
    assert claimed is not None
    send.send(claimed, mailbot.mail)
    assert len(smtp.mails()) == 1
    mailbot.clock.advance(LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    mailbot.outbox.flush()  # the next sender finds the expired lease
    mailbot.outbox.flush()
    assert len(smtp.mails()) == 1  # not sent a second time
    [after] = _mail_rows(mailbot)
    assert after.status == "uncertain" and "delivery unknown" in (after.error or "")
    with mailbot.uow_factory() as uow:
        entries = [(e.source, e.ref_id) for e in uow.session.scalars(select(DigestEntry))]
    assert entries == [("outbox", row.id)]
    mailbot.due.run_due(mailbot.clock.now())
    d.flush()
    digest = [s.text for s in d.messenger.transcript if s.kind == "dm" and "orga" in s.target]
    assert len(digest) == 1
    assert f"E-Mail an {BEN}" in digest[0] and "Zustellung unsicher" in digest[0]


def test_an_organisers_digest_in_english_names_the_address(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", "sprache en")
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("orga", ADD_BEN)
    [row] = _mail_rows(mailbot)
    assert mailbot.mail is not None
    assert mailbot.outbox._claim(row.id, mailbot.mail) is not None  # leased, then the crash
    mailbot.clock.advance(LEASE + timedelta(seconds=1))  # type: ignore[attr-defined]
    mailbot.outbox.flush()
    assert smtp.mails() == [] and _mail_rows(mailbot)[0].status == "uncertain"
    mailbot.due.run_due(mailbot.clock.now())
    d.flush()
    digest = [s.text for s in d.messenger.transcript if s.kind == "dm" and "orga" in s.target]
    assert any(f"e-mail to {BEN}): delivery uncertain" in text for text in digest), digest


def test_a_hand_over_claims_one_mail_at_a_time(mailbot: Bot, smtp: SmtpServerDouble) -> None:
    """A crash during a hand-over must leave at most one mail in flight ``uncertain``: several
    mails enqueued in one transaction are claimed one at a time, the rest stay pending."""
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    with mailbot.uow_factory() as uow:
        for i in range(3):
            out = Outgoing.dm(f"t:{i}", ("email", f"p{i}@stadt.de"), Message.text("Hallo"))
            add(uow, out, mailbot.clock.now())
        claimed = mailbot.outbox.claim_enqueued(uow, mailbot.clock.now())
        uow.commit()
    assert len(claimed) == 1
    assert sorted(r.status for r in _mail_rows(mailbot)) == ["pending", "pending", "sending"]
