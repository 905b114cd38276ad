"""End to end against a real Synapse: a human nio client talks to the Matrix bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClient, LoginResponse, RoomCreateResponse, RoomSendResponse, SyncResponse

from app import Bot, build_bot
from bot.clock import SystemClock
from bot.outbox import enqueue
from bot.views import Message
from handlers.matrix.bot import MatrixBot
from handlers.matrix.config import MatrixConfig
from handlers.matrix.state import DEVICE_ID
from storage.models import OutboxMessage
from tests.helpers import make_settings
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.synapse import MatrixUser, SynapseServer

Event = dict[str, Any]  # an event's JSON (nio's ``event.source``) plus "room_id"


@dataclass
class Human:
    """A person with an ordinary client: accepts every invite, remembers every event."""

    client: AsyncClient
    events: list[Event] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def sync(self, timeout_ms: int = 300) -> None:
        resp = await self.client.sync(timeout=timeout_ms)
        assert isinstance(resp, SyncResponse), resp
        for room_id in resp.rooms.invite:
            await self.client.join(room_id)
        for room_id, info in resp.rooms.join.items():
            self.events.extend({**e.source, "room_id": room_id} for e in info.timeline.events)

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 30) -> Event:
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events if predicate(e)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.user_id}: no matching event within {timeout}s")
            await self.sync()

    async def say(self, room_id: str, text: str) -> str:
        content = {"msgtype": "m.text", "body": text}
        resp = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(resp, RoomSendResponse), resp
        return str(resp.event_id)

    def from_bot(self, bot_id: str, room_id: str | None = None) -> list[Event]:
        return [
            e
            for e in self.events
            if e.get("sender") == bot_id
            and e.get("type") == "m.room.message"
            and (room_id is None or e["room_id"] == room_id)
        ]


def body_has(bot_id: str, text: str) -> Callable[[Event], bool]:
    return lambda e: e.get("sender") == bot_id and text in e.get("content", {}).get("body", "")


async def login_human(server: SynapseServer, user: MatrixUser) -> Human:
    client = AsyncClient(server.base_url, user[0])
    resp = await client.login(user[2], device_name="human")
    assert isinstance(resp, LoginResponse), resp
    human = Human(client)
    await human.sync(0)
    return human


@dataclass
class World:
    synapse: SynapseServer
    bot: Bot
    config: MatrixConfig
    human: Human
    running: list[MatrixBot] = field(default_factory=list)

    async def start_bot(self) -> MatrixBot:
        matrix = MatrixBot(self.bot, self.config, flush_interval=0.2, poll_ms=1000)
        await matrix.start()
        self.running.append(matrix)
        return matrix

    async def stop_bot(self, matrix: MatrixBot) -> None:
        self.running.remove(matrix)
        await matrix.stop()

    async def shared_room(self) -> str:
        """The human creates a room and invites the bot; returns once the bot has joined."""
        created = await self.human.client.room_create(name="Jahrgang", invite=[self.config.user_id])
        assert isinstance(created, RoomCreateResponse), created
        await self.human.wait_for(
            lambda e: (
                e["room_id"] == created.room_id
                and e.get("type") == "m.room.member"
                and e.get("state_key") == self.config.user_id
                and e["content"].get("membership") == "join"
            )
        )
        return str(created.room_id)


def make_bot(tmp_path: Path, **settings: object) -> Bot:
    # Real time: the outbox paces each room (~1 message/s) on the bot's clock.
    clock = SystemClock()
    return build_bot(make_settings(f"sqlite:///{tmp_path}/stadtlabor.db", **settings), clock)


def bot_config(server: SynapseServer, user: MatrixUser, **overrides: Any) -> MatrixConfig:
    values: dict[str, Any] = {
        "homeserver": server.base_url,
        "user_id": user[0],
        "password": user[2],
        "allowed_servers": (server.server_name,),
        "store_path": None,
    }
    values.update(overrides)
    return MatrixConfig(**values)


@pytest.fixture
async def world(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[World]:
    bot_user, person = matrix_user("stadtbot"), matrix_user("anna")
    human = await login_human(synapse, person)
    # an organiser: the bot joins the rooms they invite it to (to be bound to a cohort)
    bot = make_bot(tmp_path, organizers=f"matrix:{person[0]}")
    world = World(synapse, bot, bot_config(synapse, bot_user), human)
    try:
        yield world
    finally:
        for matrix in list(world.running):
            await matrix.stop()
        await human.client.close()
        world.bot.engine.dispose()


async def test_commands_answer_privately_in_one_reused_dm_room(world: World) -> None:
    matrix = await world.start_bot()
    human, bot_id = world.human, matrix.user_id
    room = await world.shared_room()

    await human.say(room, "!stadtlabor hilfe")
    helped = await human.wait_for(body_has(bot_id, "Stadtlabor-Bot: was Sie tun können"))
    dm = helped["room_id"]
    assert dm != room
    assert "<h4>Stadtlabor-Bot: was Sie tun können</h4>" in helped["content"]["formatted_body"]
    assert helped["content"]["format"] == "org.matrix.custom.html"

    await human.say(room, "!stadtlabor sprache en")
    english = await human.wait_for(body_has(bot_id, "From now on I will answer you in English"))
    await human.say(room, "!stadtlabor hlfe")
    unknown = await human.wait_for(body_has(bot_id, "Unknown command “hlfe”. Did you mean"))
    await human.say(room, "Hallo zusammen, wer kommt morgen?")  # chat, not a command
    await human.say(room, "!stadtlabor hilfe")
    await human.wait_for(lambda e: len(human.from_bot(bot_id, dm)) >= 4)

    assert english["room_id"] == unknown["room_id"] == dm  # one DM room, reused
    assert matrix.direct.created_count == 1
    assert human.from_bot(bot_id, room) == []  # nothing private went into the shared room
    assert len(matrix.handled) == 4  # the chat line was not a command
    m_direct = await matrix.transport.account_data("m.direct")
    assert m_direct == {human.user_id: [dm]}


async def test_restart_does_not_answer_old_messages(world: World) -> None:
    first = await world.start_bot()
    human, bot_id = world.human, first.user_id
    room = await world.shared_room()
    await human.say(room, "!stadtlabor hilfe")
    await human.wait_for(body_has(bot_id, "was Sie tun können"))
    await world.stop_bot(first)

    await human.say(room, "!stadtlabor sprache en")  # while the bot is down: before start-up
    second = await world.start_bot()
    latest = await human.say(room, "!stadtlabor hilfe")
    await human.wait_for(lambda e: len(human.from_bot(bot_id)) >= 2)
    await asyncio.sleep(0.5)
    await human.sync()

    assert second.handled == [latest]
    texts = [e["content"]["body"] for e in human.from_bot(bot_id)]
    assert len(texts) == 2 and all("was Sie tun können" in t for t in texts)  # still German
    assert second.direct.created_count == 0  # the stored DM room was reused
    with world.bot.uow_factory() as uow:
        assert uow.state.get(DEVICE_ID) == second.client.device_id == first.client.device_id


async def test_bot_ignores_its_own_messages_and_others_notices(world: World) -> None:
    matrix = await world.start_bot()
    room = await world.shared_room()
    own = await matrix.messenger.post(room, Message.text("!stadtlabor hilfe"))
    await world.human.say(room, "!stadtlabor")  # bare prefix: a hint
    await world.human.wait_for(body_has(matrix.user_id, "um die Befehle zu sehen"))
    assert own.message_id not in matrix.handled and len(matrix.handled) == 1


async def test_outbox_dm_row_is_delivered(world: World) -> None:
    matrix = await world.start_bot()
    bot = world.bot
    with bot.uow_factory() as uow:
        enqueue(
            uow,
            key="reminder:1",
            platform="matrix",
            operation="dm",
            target={"identity": f"matrix:{world.human.user_id}"},
            message=Message.text("Erinnerung: Treffen morgen um 10:00 @room"),
            now=bot.clock.now(),
        )
        uow.commit()
    got = await world.human.wait_for(body_has(matrix.user_id, "Erinnerung: Treffen"))
    assert "@\u2060room" in got["content"]["body"] and got["content"]["m.mentions"] == {}
    deadline = time.monotonic() + 5
    while True:
        with bot.uow_factory() as uow:
            row = uow.session.query(OutboxMessage).one()
            status, result = row.status, row.result
        if status == "sent" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert status == "sent" and result == {
        "channel_id": got["room_id"],
        "message_id": got["event_id"],
    }


async def test_invite_from_a_server_not_allowed_is_declined(world: World) -> None:
    world.config = bot_config(
        world.synapse,
        (world.config.user_id, "", world.config.password or ""),
        allowed_servers=("example.org",),
    )
    matrix = await world.start_bot()
    created = await world.human.client.room_create(name="Fremd", invite=[matrix.user_id])
    assert isinstance(created, RoomCreateResponse)
    left = await world.human.wait_for(
        lambda e: e.get("state_key") == matrix.user_id and e["content"].get("membership") == "leave"
    )
    assert left["room_id"] == created.room_id and created.room_id not in matrix.client.rooms
