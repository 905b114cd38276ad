"""The alumni circle over Slack (signed requests to the bolt app, the Web API double) and
against a real Synapse: the question when a cohort closes, joining by button or reply, and the
alumnus found by another cohort's "wer kennt sich aus"."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app import build_bot
from bot.clock import SimulatedClock
from handlers.slack.runner import SlackConfig, SlackRuntime
from tests.helpers import Driver, make_settings, signup
from tests.support import slack_requests as sr
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.slack_double import SlackDouble
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import World, body_has, bot_config, login_human, make_bot
from tests.test_slack_cohort_flow import ORGA, PEOPLE, Flow, _buttons, _signup, _texts

NEW = "C0NEU"  # the second cohort's channel


@pytest.fixture
def flow(sqlite_url: str, clock: SimulatedClock) -> Iterator[Flow]:
    bot = build_bot(make_settings(sqlite_url, organizers="slack:U0ORGA"), clock)
    with SlackDouble(users=[ORGA, *PEOPLE[:3]]) as slack:
        config = SlackConfig(
            bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
        )
        runtime = SlackRuntime(bot, config, pace=0.05, flush_interval=0.1)
        url = runtime.start_http("127.0.0.1", 0)
        try:
            yield Flow(url, slack, bot, clock)
        finally:
            runtime.stop()
            bot.engine.dispose()


def _answer_in(flow: Flow, user: Any, text: str, channel: str) -> str:
    """A slash command in ``channel``; what it produced (ephemeral or posted there)."""
    before = len(flow.slack.ephemerals(user.id))
    posts = len(flow.slack.calls("chat.postMessage"))

    def produced() -> list[str]:
        found = [
            _texts(e.get("blocks") or []) + "\n" + str(e["text"])
            for e in flow.slack.ephemerals(user.id)[before:]
        ]
        return found + [
            str(c.args.get("text"))
            for c in flow.slack.calls("chat.postMessage")[posts:]
            if c.args.get("channel") == channel
        ]

    flow.send(sr.slash_command(text, user.id, channel, user_name=user.display_name))
    return "\n".join(flow.wait(produced))


def test_alumni_join_by_button_and_found_over_slack(flow: Flow) -> None:
    anna, ben, cara = PEOPLE[:3]
    flow.answer(ORGA, 'jahrgang anlegen "Alumni Slack 1" plaetze=5')
    for n, person in enumerate((anna, ben)):
        flow.answer(person, _signup(person, n))
    flow.answer(anna, 'profil aendern themen="Pflege"')
    flow.answer(ben, 'profil aendern themen="Pflege"')
    assert "abgeschlossen" in flow.answer(ORGA, "jahrgang abschliessen ja")
    asked = flow.wait(
        lambda: [
            m
            for m in flow.slack.messages(flow.slack.dm_channel_for(anna.id))
            if "Alumni-Kreis des Stadtlabors" in _texts(m.blocks or [])
        ]
    )
    (yes,) = [b for b in _buttons(asked[0]) if b["text"]["text"] == "Ja"]
    flow.send(
        sr.block_actions(
            yes["action_id"],
            yes["value"],
            user_id=anna.id,
            channel_id=flow.slack.dm_channel_for(anna.id),
            message_ts=asked[0].ts,
            user_name=anna.display_name,
        )
    )
    flow.wait(lambda: any("Willkommen" in str(e["text"]) for e in flow.slack.ephemerals(anna.id)))
    assert "seit" in flow.answer(anna, "alumni")
    _answer_in(flow, ORGA, 'jahrgang anlegen "Alumni Slack 2" plaetze=5', NEW)
    _answer_in(flow, cara, _signup(cara, 2), NEW)
    found = _answer_in(flow, cara, "wer kennt sich aus mit Pflege", NEW)
    assert "Person 00 (Kommune 00; Alumni, Jahrgang 2026) – Expertise: Pflege" in found, found
    assert "Person 01" not in found  # ben did not opt in
    room = _answer_in(flow, ORGA, "alumni raum <#C0ALUMNI|alumni>", NEW)
    assert "https://slack.com/app_redirect?channel=C0ALUMNI" in room, room
    flow.wait(
        lambda: [
            m
            for m in flow.slack.messages(flow.slack.dm_channel_for(anna.id))
            if "app_redirect?channel=C0ALUMNI" in _texts(m.blocks or [])
        ]
    )


@pytest.fixture
async def world(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[World]:
    bot_user, person = matrix_user("alumnibot"), matrix_user("olivia")
    human = await login_human(synapse, person)
    bot = make_bot(tmp_path, organizers=f"matrix:{person[0]},console:orga")
    world = World(synapse, bot, bot_config(synapse, bot_user), human)
    try:
        yield world
    finally:
        for matrix in list(world.running):
            await matrix.stop()
        await human.client.close()
        world.bot.engine.dispose()


async def test_alumni_over_matrix(world: World) -> None:
    matrix = await world.start_bot()
    human, bot_id = world.human, matrix.user_id
    room = await world.shared_room()
    await human.say(room, '!stadtlabor jahrgang anlegen "Alumni Matrix" plaetze=5')
    await human.wait_for(body_has(bot_id, "angelegt"))
    await human.say(room, "!stadtlabor " + signup("olivia", kommune="Lübeck"))
    await human.wait_for(body_has(bot_id, "angemeldet"))
    await human.say(room, '!stadtlabor profil aendern themen="Quartier"')
    await human.wait_for(body_has(bot_id, "Ihr Profil ist gespeichert"))
    await human.say(room, "!stadtlabor jahrgang abschliessen ja")
    asked = await human.wait_for(body_has(bot_id, "Möchten Sie im Alumni-Kreis"))
    dm = asked["room_id"]
    assert dm != room and "alumni ja" in asked["content"]["body"]
    await human.say(dm, "alumni ja")
    welcome = await human.wait_for(body_has(bot_id, "Willkommen im Alumni-Kreis"))
    year = world.bot.clock.now().year
    assert f"Alumni, Jahrgang {year}" in welcome["content"]["body"]
    await human.say(dm, "alumni")
    await human.wait_for(body_has(bot_id, "im Alumni-Kreis (Jahrgang „Alumni Matrix“)"))
    # a participant of the next cohort (on the console of the same bot) finds her
    with world.bot.uow_factory() as uow:
        cohort = uow.cohorts.get_by_name("Alumni Matrix")
        assert cohort is not None and cohort.ended_at is not None
    console = Driver(world.bot)
    assert "angelegt" in console.say("orga", 'jahrgang anlegen "Alumni Matrix 2"', channel="neu")
    console.say("cara", signup("cara"), channel="neu")
    found = console.say("cara", "wer kennt sich aus mit Quartiersentwicklung", channel="neu")
    assert f"Olivia Muster (Lübeck; Alumni, Jahrgang {year})" in found, found
    await human.say(room, "!stadtlabor alumni raum #alumni:localhost")
    await human.wait_for(body_has(bot_id, "https://matrix.to/#/#alumni:localhost"))
    link = await human.wait_for(body_has(bot_id, "eigenen Raum"))
    assert link["room_id"] == dm
