"""A feedback round's DM fan-out against the rate-limiting Slack double (issue 11, item 4),
small and not timed: nothing lost, nothing doubled, every 429 retried, every outbox row sent.

The bot runs on the real clock (SystemClock): the outbox paces channels and honours
Retry-After on the bot's clock, and the double's token buckets refill on real time, so a
simulated clock would let the bot send faster than the double allows (see
``tests/test_slack_cohort_flow.py`` for the simulated-clock variant and its caveats).
``bench/bench_fanout.py`` runs the same scenario with 500 people and measures it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import cast

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import select

from app import Bot, build_bot
from bot import outbox
from bot.clock import SystemClock
from bot.messenger import MessageRef, Messenger
from bot.views import Message
from handlers.slack.runner import SlackRuntime
from storage.models import OutboxMessage
from tests.helpers import Driver, make_settings, signup, wait_for
from tests.support import slack_double_fanout as fan
from tests.support.slack_double import SlackDouble
from tests.support.smtp import smtp_server

PEOPLE = 40
INJECTED = 6
# Tighter than Slack's: the workspace bucket holds 5 and refills 4 per second, so the 41
# posts (40 prompts and the announcement) need at least (41 - 5) / 4 = 9 s and the sender,
# which is much faster, runs into the limiter as well as into the injected 429s.
LIMITS = fan.Limits(per_channel_per_sec=1.0, burst=3, per_workspace_per_min=240, workspace_burst=5)


@pytest.fixture
def bot(db_url: str) -> Iterator[Bot]:
    bot = build_bot(make_settings(db_url, organizers=f"slack:{fan.ORGA.id}"), SystemClock())
    fan.populate(bot, PEOPLE)
    yield bot
    bot.engine.dispose()


def _fan_out(bot: Bot) -> tuple[fan.FanoutResult, SlackDouble, SlackRuntime]:
    with SlackDouble(users=[fan.ORGA]) as slack:
        slack.enforce_rate_limits(
            per_channel_per_sec=LIMITS.per_channel_per_sec,
            burst=LIMITS.burst,
            per_workspace_per_min=LIMITS.per_workspace_per_min,
            workspace_burst=LIMITS.workspace_burst,
        )
        slack.fail_calls("chat.postMessage", fan.spread(INJECTED, PEOPLE), retry_after=1)
        runtime, url = fan.start_runtime(bot, slack, flush_interval=0.2)
        try:
            result = fan.run(bot, slack, url, PEOPLE, LIMITS, timeout=25.0)
        finally:
            runtime.stop()
    return result, slack, runtime


def _check(result: fan.FanoutResult) -> None:
    assert result.prompt_rows == PEOPLE
    assert (result.delivered, result.lost, result.duplicated) == (PEOPLE, 0, 0)
    assert result.injected_429 == INJECTED
    assert result.rate_limited_429 > 0, "the limiter never refused: limits not tight enough"
    # every refused call was sent again, with the same text to the same channel, and succeeded
    assert result.retried_ok == result.injected_429 + result.rate_limited_429
    # each once: the prompts, the announcement (both outbox) and the command's answer
    assert result.posts_ok == PEOPLE + 2
    assert result.outbox == {"sent": PEOPLE + 1}
    assert result.conversations_open == 0  # DMs go to the user id; the answer names the DM


def _retries_429(client: WebClient) -> int:
    return sum(
        h.max_retry_count
        for h in client.retry_handlers
        if isinstance(h, RateLimitErrorRetryHandler)
    )


def test_fan_out_with_429s_loses_and_doubles_nothing_and_every_429_goes_to_the_outbox(
    bot: Bot,
) -> None:
    """One rate limiter: the outbox's WebClient does not retry a 429 itself; each 429 ends
    the attempt, the row goes back to ``pending`` with the Retry-After in ``not_before`` (and
    the channel is held) and a later flush sends it."""
    result, _slack, runtime = _fan_out(bot)
    _check(result)
    assert _retries_429(runtime.messenger.client) == 0  # the outbox's client
    assert _retries_429(runtime.client) == 1  # direct answers: one bounded retry
    with bot.uow_factory() as uow:
        deferred = [
            (row.status, row.error or "")
            for row in uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.error.is_not(None))
            )
        ]
    # the rows that met a 429 went through the database's Retry-After and were then sent
    assert len(deferred) >= INJECTED
    assert all(status == "sent" and "ratelimited" in error for status, error in deferred)


class _ParallelMessenger:
    """Records posts; may be called from four threads (like SlackMessenger), no pacing."""

    platform = "fake"
    concurrent_sends = 4
    pace_seconds = 0.0

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None
    ) -> MessageRef:
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        time.sleep(0.05)
        with self._lock:
            self.active -= 1
            self.sent.append((channel_id, message.plain_text()))
            return MessageRef("fake", channel_id, str(len(self.sent)))


def test_lanes_keep_each_channels_order_and_run_side_by_side(db_url: str) -> None:
    bot = build_bot(make_settings(db_url), SystemClock())
    try:
        with bot.uow_factory() as uow:
            for i in range(5):
                for channel in ("C1", "C2", "C3"):
                    outbox.enqueue(
                        uow,
                        key=f"lane:{channel}:{i}",
                        platform="fake",
                        operation="post",
                        target={"channel_id": channel},
                        now=bot.clock.now(),
                        message=Message.text(f"{channel} #{i}"),
                    )
            uow.commit()
        fake = _ParallelMessenger()
        assert bot.sender({"fake": cast(Messenger, fake)}).flush() == 15
        for channel in ("C1", "C2", "C3"):
            texts = [text for ch, text in fake.sent if ch == channel]
            assert texts == [f"{channel} #{i}" for i in range(5)]
        assert fake.most_active > 1  # the three channels went out side by side
    finally:
        bot.engine.dispose()


MAIL_PEOPLE = 12
MEETING = 'titel=Auftakt von="27.3.2027 10 Uhr" bis="28.3.2027 16 Uhr"'
OFFICES = 3


def test_an_email_fan_out_with_421_and_451_delivers_every_mail_exactly_once(db_url: str) -> None:
    """E-mail rows in the fan-out: people without a chat account (their registration mails and
    the meeting's invitation) and office copies, sent by the process's flusher thread over
    SMTP while the server answers 421 and 451 for a while: every mail arrives once, every row
    ends ``sent``."""
    with smtp_server() as smtp:
        settings = make_settings(
            db_url,
            organizers="console:orga",
            smtp_url=smtp.url,
            mail_from="Stadtlabor <stadtlabor@example.org>",
            mail_per_minute=6000,
        )
        bot = build_bot(settings, SystemClock())
        try:
            assert bot.mail is not None and "email" in bot.outbox.platforms
            smtp.fail_next(3, 421, "Service not available")
            smtp.fail_next(4, 451, "Try again later")
            bot.flusher.start()  # the flusher sends while the organiser keeps enqueueing
            d = Driver(bot)
            d.say("orga", f'jahrgang anlegen "Fanout" plaetze={MAIL_PEOPLE + OFFICES}')
            for i in range(OFFICES):
                d.say(f"chat{i}", signup(f"chat{i}", bueroleitung=f"buero{i}@amt{i % 2}.de"))
            for i in range(MAIL_PEOPLE):
                d.say(
                    "orga",
                    f'teilnehmende hinzufuegen name="Person {i}" kommune=Stadt{i} '
                    f"funktion=Beigeordneter email=p{i}@stadt{i % 3}.de",
                )
                bot.flusher.kick()
            d.say("orga", f"treffen anlegen {MEETING}")
            bot.flusher.kick()
            expected = 2 * MAIL_PEOPLE + OFFICES  # welcome + invitation; office copies

            def settled() -> bool:
                with bot.uow_factory() as uow:
                    rows = uow.session.scalars(
                        select(OutboxMessage.status).where(OutboxMessage.platform == "email")
                    ).all()
                return len(rows) == expected and set(rows) == {"sent"}

            wait_for(settled, timeout=60, what="every mail row sent")
        finally:
            bot.flusher.stop()
            bot.close()
        mails = smtp.mails()
    assert smtp.answered_failures == 7
    seen = [(str(m["To"]), str(m["Subject"])) for m in mails]
    assert len(seen) == expected and len(set(seen)) == expected  # each once
    assert len({m["Message-ID"] for m in mails}) == expected
    invited = sorted(to for to, subject in seen if subject == "Stadtlabor: Einladung: Auftakt")
    assert len(invited) == MAIL_PEOPLE + OFFICES
