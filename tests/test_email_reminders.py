"""Reminders go by the person's route (``benachrichtigung chat|email|beides``) like every other
DM: a personal reminder (``erinnern …``), its copy to an office contact, and the meeting
reminders — through the due handler and through the plans the engine makes ahead
(``bot.scheduling.prepare``). A real SMTP server (aiosmtpd) receives the mails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.scheduling import prepare
from storage.models import OutboxMessage, Reminder
from tests.conftest import START
from tests.helpers import Driver, make_settings, signup
from tests.support.smtp import SmtpServerDouble, smtp_server

ANNA = "anna@example.org"
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


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def _mails(smtp: SmtpServerDouble, address: str, containing: str) -> list[str]:
    texts = [_text(m) for m in smtp.mails() if address in str(m["To"])]
    return [t for t in texts if containing in t]


def _chat(d: Driver, user: str, containing: str) -> list[str]:
    return [
        s.text
        for s in d.messenger.transcript
        if s.kind == "dm" and s.target.endswith(user) and containing in s.text
    ]


def _due(bot: Bot, d: Driver, delta: timedelta) -> None:
    bot.clock.advance(delta)  # type: ignore[attr-defined]
    bot.due.run_due(bot.clock.now())
    bot.outbox.flush()
    d.flush()


@pytest.mark.parametrize(
    ("choice", "by_chat", "by_mail"), [("beides", 1, 1), ("email", 0, 1), ("chat", 1, 0)]
)
def test_a_personal_reminder_goes_by_the_chosen_route(
    mailbot: Bot, smtp: SmtpServerDouble, choice: str, by_chat: int, by_mail: int
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("anna", f"benachrichtigung {choice}", dm=True)
    answer = d.say("anna", "erinnern in 1 Stunde; Bericht schicken", dm=True)
    assert ("E-Mail" in answer) == bool(by_mail) and ("Direktnachricht" in answer) == bool(by_chat)
    _due(mailbot, d, timedelta(hours=1, minutes=1))
    assert len(_chat(d, "anna", "Bericht schicken")) == by_chat
    assert len(_mails(smtp, ANNA, "Bericht schicken")) == by_mail
    with mailbot.uow_factory() as uow:
        keys = list(uow.session.scalars(select(OutboxMessage.idempotency_key)))
    assert sum(k.endswith(":email") and k.startswith("reminder") for k in keys) == by_mail, keys


def test_the_plans_made_ahead_follow_the_route_too(mailbot: Bot, smtp: SmtpServerDouble) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("anna", "benachrichtigung beides", dm=True)
    d.say("anna", "erinnern in 1 Stunde; Bericht schicken", dm=True)
    with mailbot.uow_factory() as uow:
        rows = uow.session.execute(
            select(
                Reminder.id,
                Reminder.due_at,
                Reminder.kind,
                Reminder.person_id,
                Reminder.cohort_id,
                Reminder.text,
                Reminder.recurrence,
                Reminder.target,
            ).where(Reminder.kind == "dm")
        ).all()
        plans = prepare.plan_rows(
            uow.session, mailbot.settings, [prepare.Snapshot.of(r) for r in rows]
        )
    [plan] = plans.values()
    routes = sorted(
        (o.platform, o.target["identity"], o.key.endswith(":email")) for o in plan.outgoing
    )
    assert routes == [("console", "console:anna", False), ("email", f"email:{ANNA}", True)]


def test_meeting_reminders_reach_a_person_without_chat_by_mail(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("orga", ADD_BEN)
    d.say("orga", "treffen erinnerungen an")
    d.say("orga", 'treffen anlegen titel="Auftakt" von="1.3.2027 10:00" bis="2.3.2027 16:00"')
    _due(mailbot, d, datetime(2027, 2, 28, 12, 0, tzinfo=UTC) - START)
    assert _mails(smtp, BEN, "Auftakt") and not _mails(smtp, ANNA, "Treffen 1")
    ask = _mails(smtp, BEN, "Kommen Sie")
    assert len(ask) == 1 and "teilnahme 1" in ask[0]  # no web pages: the command to type
    assert _chat(d, "anna", "Auftakt")  # Anna reads the chat
