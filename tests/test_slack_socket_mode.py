"""Socket Mode through ``run_slack`` against the double's WebSocket endpoint; configuration."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app import Bot, build_bot
from bot.clock import SimulatedClock
from handlers.slack.runner import SlackConfig, SlackConfigError, run_slack
from tests.helpers import make_settings, wait_for
from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble


@dataclass
class SocketBot:
    slack: SlackDouble
    thread: threading.Thread
    stop: threading.Event
    exit_codes: list[int]


@pytest.fixture
def sqlite_bot(sqlite_url: str, clock: SimulatedClock) -> Iterator[Bot]:
    """Socket Mode does not depend on the database: SQLite only (closing a Socket Mode
    connection takes slack_sdk's client about three seconds)."""
    built = build_bot(make_settings(sqlite_url), clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def socket_bot(sqlite_bot: Bot) -> Iterator[SocketBot]:
    bot = sqlite_bot
    with SlackDouble() as slack:
        config = SlackConfig(bot_token="xoxb-test", app_token="xapp-test", api_url=slack.base_url)
        stop = threading.Event()
        codes: list[int] = []

        def run() -> None:
            codes.append(run_slack(bot, http=False, config=config, stop=stop))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        slack.socket_mode.wait_for_connection()
        yield SocketBot(slack, thread, stop, codes)
        stop.set()
        thread.join(timeout=10)


def test_slash_command_over_socket_mode(socket_bot: SocketBot) -> None:
    slack = socket_bot.slack
    payload = sr.slash_command("hilfe", user_id="U0ANNA").json_payload()
    envelope = slack.socket_mode.send("slash_commands", payload)
    assert slack.socket_mode.wait_for_ack(envelope)["envelope_id"] == envelope
    (eph,) = wait_for(lambda: slack.ephemerals("U0ANNA"))
    assert eph["channel"] == "C0GENERAL" and "Stadtlabor-Bot" in str(eph["blocks"])


def test_button_and_event_retries_over_socket_mode(socket_bot: SocketBot) -> None:
    slack = socket_bot.slack
    click = sr.command_click("sprache en", user_id="U0BERT").json_payload()
    slack.socket_mode.wait_for_ack(slack.socket_mode.send("interactive", click))
    (eph,) = wait_for(lambda: slack.ephemerals("U0BERT"))
    assert "English" in eph["text"]

    dm = slack.dm_channel_for("U0ANNA")
    event = {"type": "message", "channel_type": "im", "user": "U0ANNA", "channel": dm}
    body = sr.event_callback(
        {**event, "text": "hilfe", "ts": "1.1"}, event_id="EvSM"
    ).json_payload()
    first = slack.socket_mode.send("events_api", body)
    slack.socket_mode.wait_for_ack(first)
    wait_for(lambda: slack.messages(dm))
    again = slack.socket_mode.send("events_api", body, retry_attempt=1, retry_reason="timeout")
    slack.socket_mode.wait_for_ack(again)
    socket_bot.stop.set()
    socket_bot.thread.join(timeout=10)
    assert len(slack.messages(dm)) == 1, "the retry was dropped"
    assert socket_bot.exit_codes == [0] and not socket_bot.thread.is_alive()


def test_config_from_env_and_modes() -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    config = SlackConfig.from_env(env)
    assert config.api_url == "http://127.0.0.1:9/api/" and config.app_token is None
    assert config.mode(http=False) == "http" and config.mode(http=True) == "http"
    with_app = SlackConfig.from_env({**env, "SLACK_APP_TOKEN": "xapp-1"})
    assert with_app.mode(http=False) == "socket" and with_app.mode(http=True) == "http"
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
        SlackConfig.from_env({})
    with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN"):
        SlackConfig.from_env({**env, "SLACK_APP_TOKEN": "xoxb-wrong"})
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).mode(http=True)


def test_run_slack_without_configuration_exits_2(sqlite_bot: Bot) -> None:
    assert run_slack(sqlite_bot, http=True, config=SlackConfig(bot_token="xoxb-1")) == 2


def test_run_slack_with_a_rejected_token_exits_2(sqlite_bot: Bot) -> None:
    with SlackDouble(valid_tokens={"xoxb-good"}) as slack:
        config = SlackConfig(bot_token="xoxb-bad", signing_secret="s", api_url=slack.base_url)
        assert run_slack(sqlite_bot, http=True, config=config) == 2
        assert [c.error for c in slack.calls("auth.test")] == ["invalid_auth"]
