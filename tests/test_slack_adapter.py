"""The Slack app over real HTTP: signed requests to the running bot, answers at the Slack double."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from app import Bot, build_bot
from bot import permissions
from bot.clock import SimulatedClock, SystemClock
from bot.commands import build_registry
from bot.commands.registry import CommandSpec
from bot.context import CommandContext, Reply, Request
from bot.dispatcher import Dispatcher
from bot.outbox import enqueue
from bot.views import Form, FormField, Message
from handlers.slack import listeners
from handlers.slack.runner import SlackConfig, SlackRuntime
from storage.models import OutboxMessage
from tests.helpers import block_texts as _texts
from tests.helpers import make_settings, wait_for
from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble, SlackUser

ANNA = SlackUser(id="U0ANNA", real_name="Anna Schmidt", display_name="anna")


@dataclass
class Running:
    url: str
    slack: SlackDouble
    bot: Bot
    runtime: SlackRuntime

    def send(self, request: sr.SignedRequest) -> sr.Response:
        return sr.post_signed(self.url, request)

    def ephemeral_text(self, user: str = "U0ANNA") -> str:
        found = wait_for(lambda: self.slack.ephemerals(user))
        return "\n".join(_texts(e.get("blocks") or []) for e in found)


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    with SlackDouble(users=[ANNA]) as double:
        yield double


def start(bot: Bot, slack: SlackDouble, *, pace: float = 0.05) -> SlackRuntime:
    config = SlackConfig(
        bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
    )
    return SlackRuntime(bot, config, pace=pace, flush_interval=0.1)


@pytest.fixture
def running(bot: Bot, slack: SlackDouble) -> Iterator[Running]:
    runtime = start(bot, slack)
    url = runtime.start_http("127.0.0.1", 0)
    yield Running(url, slack, bot, runtime)
    runtime.stop()


@pytest.fixture
def running_sqlite(sqlite_url: str, clock: SimulatedClock, slack: SlackDouble) -> Iterator[Running]:
    """For behaviour that does not depend on the database (and is slow): SQLite only."""
    bot = build_bot(make_settings(sqlite_url), clock)
    runtime = start(bot, slack)
    url = runtime.start_http("127.0.0.1", 0)
    yield Running(url, slack, bot, runtime)
    runtime.stop()
    bot.engine.dispose()


# -- slash commands -------------------------------------------------------------------------
def test_slash_help_is_an_ephemeral_german_answer(running: Running) -> None:
    resp = running.send(sr.slash_command("hilfe"))
    assert resp.status == 200 and resp.body == b""  # acked at once, the answer follows
    text = running.ephemeral_text()
    assert "Stadtlabor-Bot: was Sie tun können" in text and "hilfe" in text
    (eph,) = running.slack.ephemerals("U0ANNA")
    assert eph["channel"] == "C0GENERAL"
    assert running.slack.messages() == [], "nothing public"


def test_unknown_command_suggests_the_closest(running: Running) -> None:
    running.send(sr.slash_command("hilf"))
    assert "Meinten Sie „hilfe“" in running.ephemeral_text()


def test_user_text_cannot_mention_anyone(running: Running) -> None:
    running.send(sr.slash_command("<!channel> <@U0BERT> &"))
    (eph,) = wait_for(lambda: running.slack.ephemerals("U0ANNA"))
    rendered = _texts(eph["blocks"]) + eph["text"]
    assert "&lt;!channel&gt;" in rendered
    assert "<!channel>" not in rendered and "<@U0BERT>" not in rendered


@pytest.mark.parametrize(("forge", "stale"), [(True, False), (False, True)])
def test_forged_or_stale_signature_is_refused(running: Running, forge: bool, stale: bool) -> None:
    resp = running.send(sr.slash_command("hilfe", forge=forge, stale=stale))
    assert resp.status == 401
    time.sleep(0.2)
    assert running.slack.ephemerals() == [] and running.slack.calls("chat.postMessage") == []


def test_ephemeral_refused_falls_back_to_a_dm(running_sqlite: Running) -> None:
    running = running_sqlite
    running.slack.fail_next("chat.postEphemeral", status=500, count=3)  # retries exhausted
    running.send(sr.slash_command("hilfe"))
    dm = running.slack.dm_channel_for("U0ANNA")
    (msg,) = wait_for(lambda: running.slack.messages(dm))
    assert "Stadtlabor-Bot" in _texts(msg.blocks or [])


# -- buttons, events, home -----------------------------------------------------------------
def test_slash_command_is_committed_before_the_ack(running: Running) -> None:
    """An instance that dies right after Slack heard "ok" must not lose the command: its
    effect is in the database when the HTTP answer arrives, before any delivery ran."""
    running.runtime.listeners.background = lambda work: None  # type: ignore[method-assign]
    resp = running.send(sr.slash_command("sprache en"))
    assert resp.status == 200
    with running.bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("slack", "U0ANNA")
        assert person is not None and person.language == "en"
    assert running.slack.ephemerals() == []  # nothing was delivered by the "dead" instance


def test_a_slow_slash_command_is_acked_in_time_and_answers_later(
    running_sqlite: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack wants the ack within 3 s: a command that runs longer than the budget is acked
    at the budget and still answers when it is done."""
    running = running_sqlite
    monkeypatch.setattr(listeners, "ACK_BUDGET", 0.2)
    handle = running.bot.dispatcher.handle

    def slow(request: Request) -> list[Reply]:
        time.sleep(1.0)
        return handle(request)

    monkeypatch.setattr(running.bot.dispatcher, "handle", slow)
    started = time.monotonic()
    assert running.send(sr.slash_command("hilfe")).status == 200
    assert time.monotonic() - started < 0.9  # acked before the command finished
    assert "sprache de|en" in running.ephemeral_text()


def test_button_click_runs_its_command(running: Running) -> None:
    resp = running.send(sr.command_click("hilfe sprache", user_id="U0ANNA"))
    assert resp.status == 200
    assert "sprache de|en" in running.ephemeral_text()


def test_dm_message_reaches_the_dispatcher(running: Running) -> None:
    dm = running.slack.dm_channel_for("U0ANNA")
    event = {"type": "message", "channel_type": "im", "user": "U0ANNA", "channel": dm}
    running.send(sr.event_callback({**event, "text": "sprache en", "ts": "1.1"}))
    (msg,) = wait_for(lambda: running.slack.messages(dm))
    assert "English" in msg.text


def test_event_retry_is_processed_once(running: Running) -> None:
    dm = running.slack.dm_channel_for("U0ANNA")
    event = {"type": "message", "channel_type": "im", "user": "U0ANNA", "channel": dm}
    event.update(text="hilfe", ts="1.2")
    assert running.send(sr.event_callback(event, event_id="EvONCE")).status == 200
    wait_for(lambda: running.slack.messages(dm))
    assert running.send(sr.event_callback(event, event_id="EvONCE", retry_num=1)).status == 200
    assert running.send(sr.event_callback(event, event_id="EvONCE", retry_num=2)).status == 200
    time.sleep(0.3)
    assert len(running.slack.messages(dm)) == 1
    with running.bot.uow_factory() as uow:
        assert uow.state.get("slack:event:EvONCE") is not None


def test_bot_messages_are_ignored(running: Running) -> None:
    dm = running.slack.dm_channel_for("U0ANNA")
    event = {"type": "message", "channel_type": "im", "user": "U0ANNA", "channel": dm}
    running.send(sr.event_callback({**event, "text": "hilfe", "bot_id": "B0OTHER", "ts": "1.3"}))
    running.send(sr.event_callback({**event, "text": "hilfe", "subtype": "message_changed"}))
    time.sleep(0.3)
    assert running.slack.messages(dm) == []


def test_app_home_shows_the_help(running: Running) -> None:
    event = {"type": "app_home_opened", "user": "U0ANNA", "channel": "D0ANNA", "tab": "home"}
    running.send(sr.event_callback(event))
    home = wait_for(lambda: running.slack.home_view("U0ANNA"))
    assert home["type"] == "home" and "Stadtlabor-Bot" in _texts(home["blocks"])


# -- outbox -----------------------------------------------------------------------------------
def _enqueue_posts(bot: Bot, texts: list[str], channel: str = "C0GENERAL") -> None:
    with bot.uow_factory() as uow:
        for text in texts:
            enqueue(
                uow,
                key=f"test:{text}",
                platform="slack",
                operation="post",
                target={"channel_id": channel},
                message=Message.text(text),
                now=bot.clock.now(),
            )
        uow.commit()


def test_outbox_retries_429_honouring_retry_after(db_url: str, slack: SlackDouble) -> None:
    """The 429 goes back to the outbox (the WebClient does not retry it): the row waits in
    the database until the Retry-After has passed, on the bot's clock (real time here)."""
    bot = build_bot(make_settings(db_url), SystemClock())
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    runtime = start(bot, slack)
    runtime.start_http("127.0.0.1", 0)
    try:
        _enqueue_posts(bot, ["Erinnerung: Treffen morgen"])
        (msg,) = wait_for(lambda: slack.messages("C0GENERAL"), timeout=20)
        time.sleep(0.3)
        assert len(slack.messages("C0GENERAL")) == 1
        with bot.uow_factory() as uow:
            (row,) = uow.session.query(OutboxMessage).all()
            assert row.status == "sent" and "ratelimited" in (row.error or "")
    finally:
        runtime.stop()
        bot.engine.dispose()
    assert msg.text == "Erinnerung: Treffen morgen"
    calls = slack.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 1.0, "waited for Retry-After"


def test_outbox_is_paced_per_channel(db_url: str, slack: SlackDouble) -> None:
    # Pacing runs on the bot's clock: this bot lives in real time, not in the frozen test time.
    bot = build_bot(make_settings(db_url), SystemClock())
    slack.enforce_rate_limits(per_channel_per_sec=1.0, burst=1)
    runtime = start(bot, slack, pace=1.1)
    runtime.start_http("127.0.0.1", 0)
    try:
        _enqueue_posts(bot, ["eins", "zwei", "drei"])
        _enqueue_posts(bot, ["anderer Kanal"], channel="C0OTHER")
        wait_for(lambda: len(slack.messages("C0GENERAL")) == 3, timeout=20)
    finally:
        runtime.stop()
        bot.engine.dispose()
    assert [c.status for c in slack.calls("chat.postMessage")] == [200] * 4, "never a 429"
    assert [m.text for m in slack.messages("C0GENERAL")] == ["eins", "zwei", "drei"]


# -- forms as modals ------------------------------------------------------------------------
ROLE_OPTIONS = ("Bürgermeister/in", "Stadtplaner/in")


def _feedback_form(ctx: CommandContext) -> Reply:
    fields = (
        FormField("name", "Ihr Name", max_length=40),
        FormField("email", "E-Mail", kind="email"),
        FormField("rolle", "Rolle", kind="select", options=ROLE_OPTIONS),
        FormField("notiz", "Anmerkung", kind="longtext", required=False),
    )
    form = Form("testformular", "Testformular", fields, "Absenden", context={"treffen": "7"})
    return Reply(form=form)


def _feedback_submitted(ctx: CommandContext, values: dict[str, str]) -> Reply:
    summary = f"Danke {values['name']} ({values['rolle']}, Treffen {ctx.options['treffen']})"
    return Reply(Message.text(summary))


@pytest.fixture
def with_form(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(permissions.PERMISSIONS, "testformular", permissions.EVERYONE)
    registry = build_registry()
    registry.add(CommandSpec(("testformular",), _feedback_form, "Test", "testformular", "x"))
    registry.add_form("testformular", "testformular", _feedback_submitted)
    bot.dispatcher = Dispatcher(bot.uow_factory, registry, bot.settings, bot.clock)


def _submit(running: Running, view: dict[str, Any], values: dict[str, Any]) -> sr.Response:
    state = {name: {"value": v} for name, v in values.items()}
    return running.send(
        sr.view_submission(
            "stadtlabor_form",
            state,
            view_id=view["id"],
            private_metadata=view.get("private_metadata", ""),
        )
    )


@pytest.mark.usefixtures("with_form")
def test_form_opens_a_modal_and_its_submission_runs_the_form_handler(running: Running) -> None:
    running.send(sr.slash_command("testformular", trigger_id="T-1"))
    (call,) = wait_for(lambda: running.slack.calls("views.open"))
    assert call.ok and call.args["trigger_id"] == "T-1"
    (view,) = running.slack.views()
    assert view["title"]["text"] == "Testformular" and view["callback_id"] == "stadtlabor_form"
    kinds = [b["element"]["type"] for b in view["blocks"] if b["type"] == "input"]
    assert kinds == ["plain_text_input", "email_text_input", "static_select", "plain_text_input"]

    bad = _submit(running, view, {"name": "", "email": "kein-at", "rolle": ""})
    assert bad.status == 200 and bad.json()["response_action"] == "errors"
    assert set(bad.json()["errors"]) == {"name", "email", "rolle"}

    good = {
        "name": "Anna <!here>",
        "email": "anna@musterstadt.de",
        "rolle": {"type": "static_select", "selected_option": {"value": "2"}},
    }
    answer = _submit(running, view, good).json()
    assert answer["response_action"] == "update"
    shown = _texts(answer["view"]["blocks"])
    assert "Danke Anna &lt;!here&gt; (Stadtplaner/in, Treffen 7)" in shown


@pytest.mark.usefixtures("with_form")
def test_a_submission_whose_form_is_unknown_is_not_taken_unchecked(running: Running) -> None:
    """The bot stores a form before it opens the modal; a submission naming no stored form
    (forged, or from a modal older than the bot's data) is refused, not run unchecked."""
    metadata = '{"form_id": "testformular", "channel": "C0GENERAL"}'
    state = {"name": {"value": ""}, "email": {"value": "kein-at"}}
    answer = running.send(
        sr.view_submission("stadtlabor_form", state, view_id="V0GONE", private_metadata=metadata)
    ).json()
    assert answer["response_action"] == "update"
    assert "Dieses Formular ist nicht mehr gültig" in _texts(answer["view"]["blocks"])
    assert running.slack.ephemerals() == [] and running.slack.calls("chat.postMessage") == []


@pytest.mark.usefixtures("with_form")
def test_form_without_trigger_falls_back_to_a_dm_dialog(running: Running) -> None:
    dm = running.slack.dm_channel_for("U0ANNA")
    event = {"type": "message", "channel_type": "im", "user": "U0ANNA", "channel": dm}
    running.send(sr.event_callback({**event, "text": "testformular", "ts": "1.4"}))
    (question,) = wait_for(lambda: running.slack.messages(dm))
    assert "Ihr Name" in question.text or "Ihr Name" in _texts(question.blocks or [])
    assert running.slack.calls("views.open") == []


def _announce(ctx: CommandContext) -> Reply:
    return Reply(Message.text(f"Ankündigung: {' '.join(ctx.args)}"), private=False)


@pytest.fixture
def with_public_command(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(permissions.PERMISSIONS, "testansage", permissions.EVERYONE)
    registry = build_registry()
    registry.add(CommandSpec(("testansage",), _announce, "Test", "testansage", "x"))
    bot.dispatcher = Dispatcher(bot.uow_factory, registry, bot.settings, bot.clock)


@pytest.mark.usefixtures("with_public_command")
def test_public_answers_go_to_the_channel_and_mentions_work(running: Running) -> None:
    running.send(sr.slash_command("testansage Treffen <!everyone>"))
    (msg,) = wait_for(lambda: running.slack.messages("C0GENERAL"))
    assert msg.text == "Ankündigung: Treffen &lt;!everyone&gt;"
    event = {
        "type": "app_mention",
        "user": "U0ANNA",
        "channel": "C0GENERAL",
        "text": "<@UBOT> testansage im Thread",
        "ts": "1700000000.000500",
        "thread_ts": "1700000000.000400",
    }
    running.send(sr.event_callback(event))
    wait_for(lambda: len(running.slack.messages("C0GENERAL")) == 2)
    reply = running.slack.messages("C0GENERAL")[1]
    assert reply.text == "Ankündigung: im Thread" and reply.thread_ts == "1700000000.000400"
    assert running.slack.ephemerals() == []
