"""The Slack Home tab shows the overview and follows changes (over signed HTTP, at the double)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from app import Bot
from bot.actions import CommandAction, decode
from bot.context import Conversation, Request
from bot.identity import Identity
from handlers.slack.home import HomeTab
from handlers.slack.runner import SlackConfig, SlackRuntime
from tests.helpers import Driver, wait_for
from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble, SlackUser

ANNA = SlackUser(id="U0ANNA", real_name="Anna Schmidt", display_name="anna")
ORGA = SlackUser(id="U0ORGA", real_name="Olga Orga", display_name="olga")
OTTO = SlackUser(id="U0OTTO", real_name="Otto Aussen", display_name="otto")


def texts(view: dict[str, Any] | None) -> str:
    out: list[str] = []
    for block in (view or {}).get("blocks", []):
        for obj in [block.get("text"), *(block.get("elements") or [])]:
            if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                out.append(obj["text"])
            elif isinstance(obj, dict) and isinstance(obj.get("text"), dict):
                out.append(obj["text"]["text"])
    return "\n".join(out)


def as_slack(bot: Bot, user: str, text: str) -> str:
    request = Request(Identity("slack", user), Conversation("slack", f"D{user}", True), text)
    return "\n".join(r.message.plain_text() for r in bot.dispatcher.handle(request) if r.message)


@pytest.fixture
def home(bot: Bot) -> Iterator[tuple[SlackDouble, str]]:
    """Anna (Slack) holds seat 1 of 2, Olga (Slack) organises; a poll and a meeting are open."""
    console = Driver(bot)
    console.say("orga", 'jahrgang anlegen "Stadtlabor 2027" plaetze=2')
    signup = 'anmelden name="Anna Schmidt" kommune=Annastadt funktion=Bürgermeisterin'
    assert "Platz 1 von 2" in as_slack(bot, "U0ANNA", f"{signup} email=a@b.de zustimmung=ja")
    as_slack(bot, "U0ORGA", "sprache de")
    assert "Programmteam" in console.say("orga", "rolle slack:U0ORGA organisation")
    console.say(
        "orga", 'treffen anlegen titel="Auftakt" von="3.12.2026 10 Uhr" bis="4.12.2026 16 Uhr"'
    )
    console.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Mobilität" bis="Freitag 12 Uhr" sofort')
    with SlackDouble(users=[ANNA, ORGA, OTTO]) as slack:
        config = SlackConfig(
            bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
        )
        runtime = SlackRuntime(bot, config, pace=0.05, flush_interval=0.1)
        runtime.listeners.home.delay = runtime.listeners.home.organiser_delay = 0.05
        yield slack, runtime.start_http("127.0.0.1", 0)
        runtime.stop()


def open_home(url: str, user: str) -> None:
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}
    assert sr.post_signed(url, sr.event_callback(event)).status == 200


def test_home_publishes_the_overview_and_follows_votes(
    home: tuple[SlackDouble, str],
) -> None:
    slack, url = home
    open_home(url, "U0ANNA")
    anna = wait_for(lambda: texts(slack.home_view("U0ANNA")))
    assert "Stadtlabor-Bot: Ihr Überblick" in anna and "Platz 1 von 2" in anna
    assert "Umfrage 1: Welches Thema?" in anna and "Auftakt" in anna
    (call,) = slack.calls("views.publish")
    assert call.args["user_id"] == "U0ANNA" and call.args["view"]["type"] == "home"
    open_home(url, "U0ORGA")
    wait_for(lambda: "0 von 1 haben abgestimmt" in texts(slack.home_view("U0ORGA")))
    sr.post_signed(url, sr.slash_command("abstimmen 1 2", user_id="U0ANNA", channel_id="D0ANNA"))
    wait_for(lambda: "Keine offenen Umfragen ohne Ihre Stimme" in texts(slack.home_view("U0ANNA")))
    wait_for(lambda: "1 von 1 haben abgestimmt" in texts(slack.home_view("U0ORGA")))


def test_nudge_button_on_the_home_tab_sends_one_dm(
    home: tuple[SlackDouble, str],
) -> None:
    slack, url = home
    open_home(url, "U0ORGA")
    view = wait_for(lambda: slack.home_view("U0ORGA"))
    elements = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    (button,) = [
        e for e in elements if decode(e["value"]) == CommandAction("nachfassen", ("umfrage", "1"))
    ]
    for _click in range(2):
        click = sr.block_actions(button["action_id"], button["value"], user_id="U0ORGA", view=view)
        assert sr.post_signed(url, click).status == 200
    dm = slack.dm_channel_for("U0ANNA")
    wait_for(lambda: slack.messages(dm))
    time.sleep(0.3)
    nudges = [m for m in slack.messages(dm) if "erinnert Sie" in texts({"blocks": m.blocks})]
    assert len(nudges) == 1, "two clicks, one reminder"


def test_home_of_an_outsider_shows_no_programme(bot: Bot, home: tuple[SlackDouble, str]) -> None:
    """Issue 14 item 9: the Home tab follows the rows of ``treffen`` and ``umfragen``."""
    slack, url = home
    assert "nur für Teilnehmende" in as_slack(bot, "U0OTTO", "treffen")
    open_home(url, "U0OTTO")
    otto = wait_for(lambda: texts(slack.home_view("U0OTTO")))
    assert "Ihr Überblick" in otto and "Nicht angemeldet" in otto
    assert "Auftakt" not in otto and "Welches Thema?" not in otto


class RecordingClient:
    def __init__(self) -> None:
        self.published: list[str] = []

    def views_publish(self, *, user_id: str, view: dict[str, Any]) -> None:
        assert view["type"] == "home" and len(view["blocks"]) <= 100
        self.published.append(user_id)


def test_refreshes_are_debounced_per_user(bot: Bot) -> None:
    client = RecordingClient()
    tab = HomeTab(bot, client, lambda work: work(), delay=0.2)  # type: ignore[arg-type]
    for _request in range(5):
        tab.after_request("U0ANNA")
    tab.after_request("U0BERT")
    wait_for(lambda: len(client.published) >= 2)
    time.sleep(0.4)
    assert sorted(client.published) == ["U0ANNA", "U0BERT"], "one publish per user and window"
    tab.after_request("U0ANNA")
    tab.close()
    time.sleep(0.4)
    assert len(client.published) == 2, "nothing is published after close"
