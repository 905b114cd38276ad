"""One cohort on Slack and Matrix at once (issue 10): a poll appears in the Slack channel (the
Slack double) and as a native poll in the Matrix room (a real Synapse); a Slack button click and
a Matrix ``m.poll.response`` count in one tally, and both poll messages show it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bot.actions import VoteAction, decode
from bot.identity import Identity
from handlers.matrix import polls as mp
from handlers.slack.runner import SlackConfig, SlackRuntime
from tests.helpers import block_texts as _texts
from tests.support import slack_requests as sr
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.slack_double import PostedMessage, SlackDouble, SlackUser
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import World, bot_config, login_human
from tests.test_matrix_polls import (
    command,
    edit_of,
    make_bot,
    poll_counts,
    reference,
    replying_to,
    signup,
)

ANNA = SlackUser(id="U0ANNA", real_name="Anna Schmidt", display_name="anna")
CHANNEL = "C0GENERAL"
T = TypeVar("T")


async def eventually(check: Callable[[], T | None], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


def poll_post(slack: SlackDouble) -> PostedMessage | None:
    found = [m for m in slack.messages(CHANNEL) if "Umfrage 1:" in _texts(m.blocks or [])]
    return found[0] if found else None


def first_button(message: PostedMessage) -> dict[str, Any]:
    for block in message.blocks or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                return dict(element)
    raise AssertionError("the poll post has no buttons")


async def test_one_poll_counts_a_slack_click_and_a_matrix_response(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> None:
    bot_user, ben_user = matrix_user("mixbot"), matrix_user("ben")
    ben = await login_human(synapse, ben_user)
    bot = make_bot(tmp_path, organizers=f"slack:{ANNA.id},matrix:{ben_user[0]}")
    world = World(synapse, bot, bot_config(synapse, bot_user), ben)
    slack = SlackDouble(users=[ANNA]).start()
    config = SlackConfig(
        bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
    )
    runtime = SlackRuntime(bot, config, pace=0.05, flush_interval=0.1)
    url = runtime.start_http("127.0.0.1", 0)
    try:
        matrix = await world.start_bot()
        room = await world.shared_room()
        anna, b = Identity("slack", ANNA.id), Identity("matrix", ben.user_id)
        assert "angelegt" in await command(bot, b, room, 'jahrgang anlegen "SL" plaetze=5')
        assert "SL" in await command(bot, anna, CHANNEL, 'jahrgang verbinden "SL"')
        assert "angemeldet" in await command(bot, anna, CHANNEL, signup("Anna"))
        assert "angemeldet" in await command(bot, b, room, signup("Ben"))
        await command(bot, anna, CHANNEL, 'umfrage "Wohin zuerst?" "Wohnen" "Mobilität" sofort')

        posted = await eventually(lambda: poll_post(slack))
        start = await ben.wait_for(lambda e: e.get("type") == mp.START)
        companion = await ben.wait_for(replying_to(matrix.user_id, start["event_id"]))

        button = first_button(posted)
        click = sr.block_actions(
            button["action_id"], button["value"], user_id=ANNA.id, message_ts=posted.ts
        )
        assert (await asyncio.to_thread(sr.post_signed, url, click)).status == 200
        selections = {"m.selections": ["2"], "m.relates_to": reference(start["event_id"])}
        await ben.client.room_send(room, "m.poll.response", selections)

        await ben.wait_for(edit_of(matrix.user_id, companion["event_id"], "2 Stimmzettel"))
        updated = await eventually(
            lambda: "2 Stimmzettel" in _texts((poll_post(slack) or posted).blocks or [])
        )
        counts = poll_counts(bot)
    finally:
        for running in list(world.running):
            await running.stop()
        runtime.stop()
        slack.stop()
        await ben.client.close()
        bot.engine.dispose()

    assert isinstance(decode(button["value"]), VoteAction)  # a typed vote, not command text
    assert counts == ({1: 1, 2: 1}, 2)  # the official tally: one vote from each platform
    final = poll_post(slack)
    assert updated and final is not None and final.ts == posted.ts and final.edits >= 1
    assert "2 Stimmzettel" in "".join(
        c.args.get("text", "") + str(c.args.get("blocks", "")) for c in slack.calls("chat.update")
    )
    assert start["content"]["m.poll"]["question"]["m.text"][0]["body"] == (
        "Umfrage 1: Wohin zuerst?"
    )
