"""One direct room per person: found in ``m.direct`` or bot_state, else created (is_direct).

A room is a direct chat only while it holds exactly two members, joined or invited: the bot and
that person. The homeserver is asked before every private send (membership changes at any
time, and the flag ``is_direct`` is set by whoever creates the room); a room that fails the check
is forgotten as a DM and a fresh one is created.

A per-user lock makes concurrent sends share one new room; a rate-limited ``createRoom`` is
refused by the server before anything is created, so retrying it cannot make a second room.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
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
        self._owner: dict[str, str] = {}  # direct room -> the person it is with
        self._locks: dict[str, asyncio.Lock] = {}
        self.created_count = 0

    async def load(self) -> None:
        """Learn the direct rooms from the bot's ``m.direct`` account data."""
        data = await self._transport.account_data("m.direct") or {}
        for user_id, rooms in data.items():
            if isinstance(rooms, list):
                self._rooms.update(str(r) for r in rooms)
                self._owner.update((str(r), user_id) for r in rooms)
                if rooms:
                    self._by_user.setdefault(user_id, str(rooms[-1]))

    @property
    def encrypts(self) -> bool:
        """Rooms the bot creates are encrypted (the bot's E2EE setting)."""
        return self._encrypt

    def is_direct(self, room_id: str) -> bool:
        return room_id in self._rooms

    @property
    def _own(self) -> str:
        return str(self._transport.client.user_id)

    def looks_direct(self, room_id: str, user_id: str, members: Iterable[str]) -> bool:
        """From the last sync: is this ``user_id``'s DM with exactly the two of them in it?
        (A quick first check; :meth:`confirmed` asks the homeserver.)"""
        return self._owner.get(room_id) == user_id and set(members) == {self._own, user_id}

    async def is_pair(self, room_id: str, user_id: str) -> bool:
        """Does the homeserver list exactly the bot and ``user_id`` (joined or invited)?"""
        return await self._transport.members(room_id) == {self._own, user_id}

    async def confirmed(self, room_id: str, user_id: str) -> bool:
        """Is ``room_id`` still ``user_id``'s DM? If not, it is forgotten as one."""
        if self._owner.get(room_id) != user_id:
            return False
        if await self.is_pair(room_id, user_id):
            return True
        await self.forget(room_id)
        return False

    async def adopt(self, user_id: str, room_id: str) -> None:
        """A person invited the bot into a direct room: use it for them from now on."""
        self._by_user[user_id] = room_id
        self._rooms.add(room_id)
        self._owner[room_id] = user_id
        await asyncio.to_thread(self._state.put, dm_key(user_id), room_id)
        await self._write_m_direct(user_id, room_id)

    async def forget(self, room_id: str, user_id: str | None = None) -> None:
        """Stop using ``room_id`` as a DM (someone else joined, or the person left): out of
        memory, the database and ``m.direct``, so a restart does not adopt it again."""
        user_id = self._owner.pop(room_id, None) or user_id
        self._rooms.discard(room_id)
        if user_id is None:
            return
        if self._by_user.get(user_id) == room_id:
            del self._by_user[user_id]
        if await asyncio.to_thread(self._state.get, dm_key(user_id)) == room_id:
            await asyncio.to_thread(self._state.delete, dm_key(user_id))
        data = await self._transport.account_data("m.direct") or {}
        listed = data.get(user_id, [])
        if isinstance(listed, list) and room_id in listed:
            rest = [r for r in listed if r != room_id]
            if rest:
                data[user_id] = rest
            else:
                del data[user_id]
            await self._transport.put_account_data("m.direct", data)
        log.info("room %s is no longer used as a direct chat", room_id)

    async def room_for(self, user_id: str) -> str:
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            room_id = self._by_user.get(user_id) or await asyncio.to_thread(
                self._state.get, dm_key(user_id)
            )
            if room_id and await self.is_pair(room_id, user_id):
                self._by_user[user_id] = room_id
                self._rooms.add(room_id)
                self._owner[room_id] = user_id
                return room_id
            if room_id:
                await self.forget(room_id, user_id)
            room_id = await self._create(user_id)
            await self.adopt(user_id, room_id)
            await self._wait_until_synced(room_id)
            return room_id

    async def _create(self, user_id: str) -> str:
        # Whoever is invited later sees nothing that was sent before (``shared``, the default
        # for private chats, would show them the whole history).
        initial_state: list[dict[str, Any]] = [
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": "invited"},
            }
        ]
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
