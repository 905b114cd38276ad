"""Private answers reach only the person (issue 14, item 4), against a real Synapse.

An outsider's fake DM (``is_direct`` with more people in it), a DM that gains a third member
after the bot adopted it, and a group room no organiser bound to a cohort: none of them gets
personal data; private answers arrive in a room holding exactly the bot and the person.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from nio import RoomCreateResponse

from bot.identity import Identity
from bot.views import Message
from handlers.matrix.bot import MatrixBot
from handlers.matrix.state import dm_key
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import Event, Human, World, body_has, bot_config, login_human, make_bot
from tests.test_matrix_polls import command, signup

HINT = "im Direktchat mit mir"


@dataclass
class Cast:
    world: World
    matrix: MatrixBot
    otto: Human  # organiser
    anna: Human  # participant
    mallory: Human  # outsider (same server: the server rule does not stop her)
    cohort_room: str

    def members(self, room_id: str) -> set[str]:
        """Joined and invited members, as the homeserver sees them (asked as the bot)."""
        answer = self.world.synapse.request(
            "GET",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/members",
            token=self.matrix.client.access_token,
        )
        return {
            e["state_key"]
            for e in answer["chunk"]
            if e["content"].get("membership") in ("join", "invite")
        }


def joined(user_id: str, room_id: str | None = None) -> Callable[[Event], bool]:
    return lambda e: (
        e.get("type") == "m.room.member"
        and e.get("state_key") == user_id
        and e["content"].get("membership") == "join"
        and (room_id is None or e["room_id"] == room_id)
    )


def left(user_id: str, room_id: str) -> Callable[[Event], bool]:
    return lambda e: (
        e.get("type") == "m.room.member"
        and e.get("state_key") == user_id
        and e["content"].get("membership") == "leave"
        and e["room_id"] == room_id
    )


def private_to(bot_id: str, text: str, *not_in: str) -> Callable[[Event], bool]:
    has = body_has(bot_id, text)
    return lambda e: has(e) and e["room_id"] not in not_in


@pytest.fixture
async def cast(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[Cast]:
    bot_user = matrix_user("privbot")
    otto_user, anna_user, mallory_user = (
        matrix_user("otto"),
        matrix_user("anna"),
        matrix_user("mal"),
    )
    otto, anna, mallory = [
        await login_human(synapse, u) for u in (otto_user, anna_user, mallory_user)
    ]
    bot = make_bot(tmp_path, organizers=f"matrix:{otto.user_id}")
    world = World(synapse, bot, bot_config(synapse, bot_user), otto)
    try:
        matrix = await world.start_bot()
        room = await world.shared_room()  # the organiser's room: the bot joins
        await command(
            bot, Identity("matrix", otto.user_id), room, 'jahrgang anlegen "SL" plaetze=5'
        )
        invited = await otto.client.room_invite(room, anna.user_id)
        assert not hasattr(invited, "status_code"), invited
        await anna.wait_for(joined(anna.user_id, room))
        assert "angemeldet" in await command(
            bot, Identity("matrix", anna.user_id), room, signup("Anna")
        )
        yield Cast(world, matrix, otto, anna, mallory, room)
    finally:
        for running in list(world.running):
            await running.stop()
        for human in (otto, anna, mallory):
            await human.client.close()
        bot.engine.dispose()


async def test_outsiders_fake_dm_gets_nothing_private(cast: Cast) -> None:
    matrix, anna, otto, mallory = cast.matrix, cast.anna, cast.otto, cast.mallory
    bot_id = matrix.user_id
    fake = await mallory.client.room_create(
        name="Kurze Frage",
        is_direct=True,
        invite=[bot_id, anna.user_id, otto.user_id],
    )
    assert isinstance(fake, RoomCreateResponse), fake
    await mallory.wait_for(joined(bot_id, fake.room_id))
    await anna.wait_for(joined(anna.user_id, fake.room_id))
    await otto.wait_for(joined(otto.user_id, fake.room_id))
    await anna.say(fake.room_id, "!stadtlabor meine-daten")
    await otto.say(fake.room_id, "!stadtlabor teilnehmende")
    await anna.say(fake.room_id, "meine-daten")
    # the same commands in the cohort's room: the answers go to fresh two-member DMs
    await anna.say(cast.cohort_room, "!stadtlabor meine-daten")
    await otto.say(cast.cohort_room, "!stadtlabor teilnehmende")
    mine = await anna.wait_for(
        private_to(bot_id, "anna@example.org", fake.room_id, cast.cohort_room)
    )
    listed = await otto.wait_for(
        private_to(bot_id, "anna@example.org", fake.room_id, cast.cohort_room)
    )
    await mallory.sync()

    in_fake = mallory.from_bot(bot_id, fake.room_id)
    assert not [e for e in in_fake if "example.org" in e["content"]["body"]]
    assert all(HINT in e["content"]["body"] for e in in_fake)  # at most the hint
    assert cast.members(mine["room_id"]) == {bot_id, anna.user_id}
    assert cast.members(listed["room_id"]) == {bot_id, otto.user_id}
    await mallory.wait_for(left(bot_id, fake.room_id))  # declined: neither a DM nor bound
    assert not matrix.direct.is_direct(fake.room_id)


async def test_dm_that_gains_a_member_is_no_longer_used(cast: Cast) -> None:
    matrix, anna, mallory = cast.matrix, cast.anna, cast.mallory
    bot_id = matrix.user_id
    created = await anna.client.room_create(is_direct=True, invite=[bot_id])
    assert isinstance(created, RoomCreateResponse), created
    dm = created.room_id
    await anna.wait_for(joined(bot_id, dm))
    await anna.say(dm, "meine-daten")
    first = await anna.wait_for(body_has(bot_id, "anna@example.org"))
    assert first["room_id"] == dm  # a real DM: adopted and answered there

    invited = await anna.client.room_invite(dm, mallory.user_id)
    assert not hasattr(invited, "status_code"), invited
    mallory_in = await mallory.wait_for(joined(mallory.user_id, dm))
    # a private send (an outbox DM, a reminder) checks the room first: a fresh DM
    sent = await matrix.messenger.send_dm(
        Identity("matrix", anna.user_id), Message.text("Geheim 42")
    )
    assert sent.channel_id != dm
    assert cast.members(sent.channel_id) == {bot_id, anna.user_id}
    visibility = cast.world.synapse.request(
        "GET",
        f"/_matrix/client/v3/rooms/{quote(sent.channel_id)}/state/m.room.history_visibility/",
        token=matrix.client.access_token,
    )
    assert visibility == {"history_visibility": "invited"}  # a later member sees no history
    # a command typed in the former DM gets only the hint
    await anna.say(dm, "!stadtlabor meine-daten")
    await anna.wait_for(lambda e: body_has(bot_id, HINT)(e) and e["room_id"] == dm)
    await anna.say(dm, "meine-daten")  # no prefix: in a group room that is chat
    await anna.say(sent.channel_id, "meine-daten")
    again = await anna.wait_for(private_to(bot_id, "anna@example.org", dm, first["room_id"]))
    assert again["room_id"] == sent.channel_id
    await mallory.sync()

    # (what the DM showed before she came is Anna's room's history: see docs/matrix.md)
    after_join = [
        e
        for e in mallory.from_bot(bot_id, dm)
        if e["origin_server_ts"] >= mallory_in["origin_server_ts"]
    ]
    assert after_join and all(HINT in e["content"]["body"] for e in after_join)
    assert matrix.direct.created_count == 1 and not matrix.direct.is_direct(dm)
    m_direct = await matrix.transport.account_data("m.direct") or {}
    assert m_direct.get(anna.user_id) == [sent.channel_id]
    with cast.world.bot.uow_factory() as uow:
        assert uow.state.get(dm_key(anna.user_id)) == sent.channel_id


async def test_unbound_group_room_answers_commands_with_a_hint_only(cast: Cast) -> None:
    matrix, otto, anna = cast.matrix, cast.otto, cast.anna
    bot_id = matrix.user_id
    created = await otto.client.room_create(name="Flur", invite=[bot_id, anna.user_id])
    assert isinstance(created, RoomCreateResponse), created
    room = created.room_id
    await otto.wait_for(joined(bot_id, room))  # an organiser's room: joined, to be bound
    await anna.wait_for(joined(anna.user_id, room))
    await anna.say(room, "!stadtlabor meine-daten")
    hint = await anna.wait_for(lambda e: body_has(bot_id, HINT)(e) and e["room_id"] == room)
    await anna.say(room, "!stadtlabor hilfe")  # help is no data: answered, by DM
    helped = await anna.wait_for(body_has(bot_id, "was Sie tun können"))
    await anna.sync()

    assert hint["content"]["m.relates_to"]["rel_type"] == "m.thread"
    assert helped["room_id"] != room
    assert not [e for e in anna.from_bot(bot_id) if "anna@example.org" in e["content"]["body"]]
    assert [e["event_id"] for e in anna.from_bot(bot_id, room)] == [hint["event_id"]]


async def test_uninvited_group_room_of_a_participant_is_declined(cast: Cast) -> None:
    matrix, anna = cast.matrix, cast.anna
    created = await anna.client.room_create(name="Privat", invite=[matrix.user_id])
    assert isinstance(created, RoomCreateResponse), created
    await anna.wait_for(left(matrix.user_id, created.room_id))
    assert created.room_id not in matrix.client.rooms
