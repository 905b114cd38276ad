"""A new private room of the bot with several people (an introduction's conversation).

The room is created once per outbox key: its id is kept in bot_state before anything is posted,
so a retried delivery posts into the same room (and the post's transaction id, derived from the
same key, lets the homeserver drop a duplicate). Whoever joins later sees nothing sent before
their invitation; the room is encrypted when the bot encrypts its DMs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nio import RoomCreateResponse, RoomPreset

from handlers.matrix.direct import ROOM_APPEAR_TIMEOUT
from handlers.matrix.state import MatrixState
from handlers.matrix.transport import MatrixSendError, Transport

log = logging.getLogger(__name__)


def group_key(key: str) -> str:
    return f"matrix:group:{key}"


async def group_room(
    transport: Transport, state: MatrixState, users: list[str], key: str, *, encrypt: bool
) -> str:
    """The room for ``key``: found in bot_state, else created with ``users`` invited."""
    known = await asyncio.to_thread(state.get, group_key(key))
    if known:
        return known
    initial_state: list[dict[str, Any]] = [
        {
            "type": "m.room.history_visibility",
            "state_key": "",
            "content": {"history_visibility": "invited"},
        }
    ]
    if encrypt:
        initial_state.append(
            {
                "type": "m.room.encryption",
                "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"},
            }
        )

    async def call() -> Any:
        return await transport.client.room_create(
            is_direct=False,
            invite=users,
            preset=RoomPreset.private_chat,
            initial_state=initial_state,
        )

    resp = await transport.retrying(call, f"create a room with {len(users)} people")
    if not isinstance(resp, RoomCreateResponse):
        raise MatrixSendError(f"cannot create a room for {key}: {resp}")
    room_id = str(resp.room_id)
    await asyncio.to_thread(state.put, group_key(key), room_id)
    log.info("created room %s for %s", room_id, key)
    await _wait_until_synced(transport, room_id)
    return room_id


async def _wait_until_synced(transport: Transport, room_id: str) -> None:
    """nio can only send (and encrypt) into rooms its sync has seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ROOM_APPEAR_TIMEOUT
    while room_id not in transport.client.rooms:
        if loop.time() > deadline:
            raise MatrixSendError(f"new room {room_id} did not show up in sync")
        await asyncio.sleep(0.05)
