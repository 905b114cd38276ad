"""End-to-end encryption: an encrypted room and an encrypted DM, and an undecryptable event."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    RoomCreateResponse,
    ShareGroupSessionResponse,
)
from nio.crypto import ENCRYPTION_ENABLED

from handlers.matrix.bot import UNDECRYPTABLE
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import Human, World, body_has, bot_config, make_bot

pytestmark = pytest.mark.skipif(not ENCRYPTION_ENABLED, reason="needs matrix-nio[e2e]")
ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


class CryptoHuman(Human):
    """A human whose client encrypts (its own crypto store) and keeps its keys up to date."""

    async def sync(self, timeout_ms: int = 300) -> None:
        await super().sync(timeout_ms)
        client = self.client
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())


async def crypto_human(
    server: SynapseServer, person: MatrixUser, folder: Path, device: str
) -> CryptoHuman:
    """A human whose client encrypts, logged in and synced once (its crypto store in ``folder``)."""
    folder.mkdir()
    client = AsyncClient(
        server.base_url,
        person[0],
        store_path=str(folder),
        config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
    )
    resp = await client.login(person[2], device_name=device)
    assert isinstance(resp, LoginResponse), resp
    human = CryptoHuman(client)
    await human.sync(0)
    return human


@pytest.fixture
async def crypto_world(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[World]:
    bot_user, person = matrix_user("cryptobot"), matrix_user("berta")
    human = await crypto_human(synapse, person, tmp_path / "human", "berta-phone")
    client = human.client
    config = bot_config(synapse, bot_user, store_path=tmp_path / "bot-store")
    world = World(synapse, make_bot(tmp_path, organizers=f"matrix:{person[0]}"), config, human)
    try:
        yield world
    finally:
        for matrix in list(world.running):
            await matrix.stop()
        await client.close()
        world.bot.engine.dispose()


async def test_command_in_encrypted_room_is_answered_in_encrypted_dm(crypto_world: World) -> None:
    world = crypto_world
    matrix = await world.start_bot()
    assert matrix.encrypted
    store = world.config.store_path  # the bot's private keys: for its own user only
    assert store is not None and stat.S_IMODE(store.stat().st_mode) == 0o700
    files = [f for f in store.iterdir() if f.is_file()]
    assert files and {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    human = world.human
    created = await human.client.room_create(
        name="Verschlüsselt", invite=[matrix.user_id], initial_state=[ENCRYPTION]
    )
    assert isinstance(created, RoomCreateResponse), created
    await human.wait_for(
        lambda e: e.get("state_key") == matrix.user_id and e["content"].get("membership") == "join"
    )
    await human.sync()
    command = await human.say(created.room_id, "!stadtlabor hilfe")

    answer = await human.wait_for(body_has(matrix.user_id, "was Sie tun können"), timeout=30)
    dm = human.client.rooms[answer["room_id"]]
    assert dm.encrypted and answer["room_id"] != created.room_id
    assert matrix.handled == [command]
    # on the server both the command and the answer are ciphertext only
    for room_id, event_id in ((created.room_id, command), (answer["room_id"], answer["event_id"])):
        stored = world.synapse.request(
            "GET",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/event/{quote(event_id)}",
            token=human.client.access_token,
        )
        assert stored["type"] == "m.room.encrypted" and "body" not in stored["content"]

    # the crypto store and device survive a restart: the next command is read and answered
    await world.stop_bot(matrix)
    again = await world.start_bot()
    second = await human.say(created.room_id, "!stadtlabor sprache en")
    english = await human.wait_for(body_has(again.user_id, "From now on"), timeout=30)
    assert again.handled == [second] and english["room_id"] == answer["room_id"]
    assert again.client.device_id == matrix.client.device_id


async def test_undecryptable_message_is_reported_once(crypto_world: World) -> None:
    world = crypto_world
    matrix = await world.start_bot()
    room = await world.shared_room()
    bogus = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AwgAEnB4b2tlbg",
        "sender_key": "kF4bM7sB2mQ1Yx8bYh0t0o1c2d3e4f5g6h7i8j9k0l1",
        "session_id": "nicht-vorhanden",
        "device_id": "BERTAPHONE",
    }
    for _ in range(2):
        await world.human.client.room_send(
            room, "m.room.encrypted", bogus, ignore_unverified_devices=True
        )
    said = await world.human.wait_for(body_has(matrix.user_id, UNDECRYPTABLE[:40]))
    await world.human.sync()
    notes = [
        e
        for e in world.human.from_bot(matrix.user_id)
        if UNDECRYPTABLE[:40] in e["content"].get("body", "")
    ]
    assert said["room_id"] == room and len(notes) == 1


async def test_command_whose_room_key_arrives_late_is_answered(crypto_world: World) -> None:
    """Room keys travel on the to-device stream, apart from the timeline: a command may reach
    the bot before its key. The human's client here sends the key only after the message; the
    bot holds the event, decrypts it when the key arrives, and answers — no "cannot decrypt"."""
    world = crypto_world
    matrix = await world.start_bot()
    human = world.human
    created = await human.client.room_create(
        name="Spät", invite=[matrix.user_id], initial_state=[ENCRYPTION]
    )
    assert isinstance(created, RoomCreateResponse), created
    await human.wait_for(
        lambda e: e.get("state_key") == matrix.user_id and e["content"].get("membership") == "join"
    )
    await human.sync()

    client = human.client
    send = client._send
    held: list[tuple[Any, ...]] = []

    async def holding_keys(
        response_class: Any,
        method: str,
        path: str,
        data: Any = None,
        response_data: Any = None,
        **kwargs: Any,
    ) -> Any:
        if response_class is ShareGroupSessionResponse:
            held.append((response_class, method, path, data, response_data))
            return ShareGroupSessionResponse(*response_data)
        return await send(response_class, method, path, data, response_data=response_data, **kwargs)

    client._send = holding_keys
    try:
        command = await human.say(created.room_id, "!stadtlabor hilfe")
    finally:
        client._send = send
    assert held, "the room key should have been held back"
    # the bot has the event but no key: nothing is answered yet
    await asyncio.sleep(2)
    await human.sync()
    assert not human.from_bot(matrix.user_id) and matrix.handled == []

    for response_class, method, path, data, response_data in held:
        sent = await send(response_class, method, path, data, response_data=response_data)
        assert isinstance(sent, ShareGroupSessionResponse), sent

    answer = await human.wait_for(body_has(matrix.user_id, "was Sie tun können"), timeout=30)
    assert matrix.handled == [command] and answer["room_id"] != created.room_id
    await human.sync()
    assert not [
        e for e in human.from_bot(matrix.user_id) if UNDECRYPTABLE[:40] in e["content"]["body"]
    ]
