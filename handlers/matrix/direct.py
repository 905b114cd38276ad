"""One direct room per person: found in ``m.direct`` or bot_state, else created (is_direct).

A per-user lock makes concurrent sends share one new room; a rate-limited ``createRoom`` is
refused by the server before anything is created, so retrying it cannot make a second room.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nio import RoomCreateResponse, RoomPreset

from handlers.matrix.state import MatrixState, dm_key
from handlers.matrix.transport import MatrixSendError, Transport

log = logging.getLogger(__name__)
ROOM_APPEAR_TIMEOUT = 15.0


class DirectRooms:
    def __init__(self, transport: Transport, state: MatrixState, *, encrypt: bool) -> None:
        self._transport = transport
        self._state = state
        self._encrypt = encrypt
        self._by_user: dict[str, str] = {}
        self._rooms: set[str] = set()  # every room known to be direct
        self._created: set[str] = set()  # created in this process (may not be synced yet)
        self._locks: dict[str, asyncio.Lock] = {}
        self.created_count = 0

    async def load(self) -> None:
        """Learn the direct rooms from the bot's ``m.direct`` account data."""
        data = await self._transport.account_data("m.direct") or {}
        for user_id, rooms in data.items():
            if isinstance(rooms, list):
                self._rooms.update(str(r) for r in rooms)
                if rooms:
                    self._by_user.setdefault(user_id, str(rooms[-1]))

    def is_direct(self, room_id: str) -> bool:
        return room_id in self._rooms

    async def adopt(self, user_id: str, room_id: str) -> None:
        """A person invited the bot into a direct room: use it for them from now on."""
        self._by_user[user_id] = room_id
        self._rooms.add(room_id)
        await asyncio.to_thread(self._state.put, dm_key(user_id), room_id)
        await self._write_m_direct(user_id, room_id)

    async def room_for(self, user_id: str) -> str:
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            room_id = self._by_user.get(user_id) or await asyncio.to_thread(
                self._state.get, dm_key(user_id)
            )
            if room_id and self._usable(room_id, user_id):
                self._by_user[user_id] = room_id
                self._rooms.add(room_id)
                return room_id
            room_id = await self._create(user_id)
            await self.adopt(user_id, room_id)
            await self._wait_until_synced(room_id)
            return room_id

    def _usable(self, room_id: str, user_id: str) -> bool:
        room = self._transport.client.rooms.get(room_id)
        if room is None:
            return room_id in self._created
        return user_id in room.users  # joined or invited (nio lists both)

    async def _create(self, user_id: str) -> str:
        initial_state: list[dict[str, Any]] = []
        if self._encrypt:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )

        async def call() -> Any:
            return await self._transport.client.room_create(
                is_direct=True,
                invite=[user_id],
                preset=RoomPreset.trusted_private_chat,
                initial_state=initial_state,
            )

        resp = await self._transport.retrying(call, f"create DM with {user_id}")
        if not isinstance(resp, RoomCreateResponse):
            raise MatrixSendError(f"cannot create a direct room with {user_id}: {resp}")
        self._created.add(resp.room_id)
        self.created_count += 1
        log.info("created direct room %s for %s", resp.room_id, user_id)
        return str(resp.room_id)

    async def _write_m_direct(self, user_id: str, room_id: str) -> None:
        data = await self._transport.account_data("m.direct") or {}
        rooms = [r for r in data.get(user_id, []) if r != room_id]
        data[user_id] = [*rooms, room_id]
        await self._transport.put_account_data("m.direct", data)

    async def _wait_until_synced(self, room_id: str) -> None:
        """nio can only send (and encrypt) into rooms its sync has seen."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ROOM_APPEAR_TIMEOUT
        while room_id not in self._transport.client.rooms:
            if loop.time() > deadline:
                raise MatrixSendError(f"new direct room {room_id} did not show up in sync")
            await asyncio.sleep(0.05)
