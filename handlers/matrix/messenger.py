"""The Messenger port for Matrix: an async implementation and a thread-safe sync facade.

The outbox sender runs in a worker thread and calls the synchronous :class:`MatrixMessenger`,
which hands each call to the client's event loop and waits for the result.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
from collections.abc import Coroutine
from typing import Any, TypeVar

from nio import UploadResponse

from bot.identity import Identity
from bot.messenger import MessageRef
from bot.views import Message
from handlers.matrix import groups, polls, render
from handlers.matrix.direct import DirectRooms
from handlers.matrix.state import MatrixState
from handlers.matrix.transport import (
    DELIVERY,
    OUTBOX,
    DeliveryTxns,
    MatrixSendError,
    Transport,
)

PLATFORM = "matrix"
T = TypeVar("T")


def _user(identity: Identity) -> str:
    if identity.platform != PLATFORM:
        raise ValueError(f"{identity} is not a Matrix identity")
    return identity.external_id


class AsyncMatrixMessenger:
    platform = PLATFORM

    def __init__(
        self, transport: Transport, direct: DirectRooms, state: MatrixState | None = None
    ) -> None:
        self.transport = transport
        self.direct = direct
        self.state = state  # without it, polls are posted as text (nothing to remember them)

    async def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None
    ) -> MessageRef:
        # Native only for the poll post in a shared room: a poll shown on request (an answer,
        # a DM, a thread) stays text, so each poll has one native copy per room.
        native = message.poll is not None and not message.poll.closed and thread is None
        if native and self.state is not None and not self.direct.is_direct(channel_id):
            return await self._post_native_poll(channel_id, message, self.state)
        content = render.content(message)
        root: str | None = None
        if thread is not None:
            root = thread.thread_id or thread.message_id
            content = render.in_thread(content, root, thread.message_id)
        event_id = await self.transport.send(channel_id, "m.room.message", content)
        return MessageRef(PLATFORM, channel_id, event_id, root)

    async def send_dm(self, user: Identity, message: Message) -> MessageRef:
        room_id = await self.direct.room_for(_user(user))
        return await self.post(room_id, message)

    async def open_group(self, users: list[Identity], message: Message, key: str) -> MessageRef:
        """A new private room with ``users`` invited (one per ``key``), then ``message``."""
        if self.state is None:
            raise MatrixSendError("a group room needs the bot's state (bot_state)")
        room_id = await groups.group_room(
            self.transport,
            self.state,
            [_user(u) for u in users],
            key,
            encrypt=self.direct.encrypts,
        )
        return await self.post(room_id, message)

    async def send_private(self, user: Identity, channel_id: str | None, message: Message) -> None:
        # Matrix has no ephemeral messages: a private answer always goes by DM.
        await self.send_dm(user, message)

    async def _post_native_poll(
        self, channel_id: str, message: Message, state: MatrixState
    ) -> MessageRef:
        """``m.poll.start``, then the companion notice with the official tally."""
        assert message.poll is not None
        poll_id = str(message.poll.poll_id)
        posted = polls.posted_key(message.poll.poll_id, channel_id)
        start = await asyncio.to_thread(state.get, posted)  # a retry after a failed companion
        if not start:
            start = await self.transport.send(
                channel_id, polls.START, polls.start_content(message.poll)
            )
            await asyncio.to_thread(state.put_many, {polls.poll_key(start): poll_id, posted: start})
        tally = polls.companion_content(render.content(message), start)
        companion = await self.transport.send(channel_id, "m.room.message", tally)
        await asyncio.to_thread(
            state.put_many,
            {polls.companion_key(start): companion, polls.poll_key(companion): poll_id},
        )
        return MessageRef(PLATFORM, channel_id, start)

    async def update(self, ref: MessageRef, message: Message) -> None:
        companion = None
        if message.poll is not None and self.state is not None:
            companion = await asyncio.to_thread(self.state.get, polls.companion_key(ref.message_id))
        target = companion or ref.message_id  # a native poll: its companion shows the tally
        content = render.edit(render.content(message), target)
        await self.transport.send(ref.channel_id, "m.room.message", content)
        if companion and message.poll is not None and message.poll.closed:
            await self._end_poll(ref, message)

    async def _end_poll(self, ref: MessageRef, message: Message) -> None:
        assert self.state is not None
        key = polls.ended_key(ref.message_id)
        if await asyncio.to_thread(self.state.get, key):
            return
        results, _html = render.to_html(message)
        content = polls.end_content(ref.message_id, results)
        await self.transport.send(ref.channel_id, polls.END, content)
        await asyncio.to_thread(self.state.put, key, "1")

    async def delete(self, ref: MessageRef) -> None:
        await self.transport.redact(ref.channel_id, ref.message_id)

    async def send_file(
        self, user: Identity, filename: str, content: bytes, comment: Message | None = None
    ) -> MessageRef:
        room_id = await self.direct.room_for(_user(user))
        if comment is not None:
            await self.post(room_id, comment)
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        room = self.transport.client.rooms.get(room_id)
        encrypt = bool(room is not None and room.encrypted and self.transport.client.olm)

        async def call() -> Any:
            resp, _keys = await self.transport.client.upload(
                io.BytesIO(content),
                content_type=mimetype,
                filename=filename,
                encrypt=encrypt,
                filesize=len(content),
            )
            return resp if not isinstance(resp, UploadResponse) else (resp, _keys)

        result = await self.transport.retrying(call, f"upload {filename}")
        if not isinstance(result, tuple):
            raise MatrixSendError(f"upload of {filename} failed: {result}")
        uploaded, keys = result
        event: dict[str, Any] = {
            "msgtype": "m.file",
            "body": filename,
            "filename": filename,
            "info": {"mimetype": mimetype, "size": len(content)},
            "m.mentions": {},
        }
        if encrypt and keys is not None:
            event["file"] = {**keys, "url": uploaded.content_uri}
        else:
            event["url"] = uploaded.content_uri
        event_id = await self.transport.send(room_id, "m.room.message", event)
        return MessageRef(PLATFORM, room_id, event_id)


def _keyed(key: str | None, coro: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T]:
    """``coro`` with transaction ids derived from ``key`` (an outbox row's), if any."""
    if key is None:
        return coro

    async def keyed() -> T:
        DELIVERY.set(DeliveryTxns(key))  # the loop task's own context: no reset needed
        return await coro

    return keyed()


async def _for_outbox(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` as an outbox send: a rate limit raises ``RateLimited`` (no wait here)."""
    OUTBOX.set(True)  # the task's own context (run_coroutine_threadsafe): no reset needed
    return await coro


class MatrixMessenger:
    """Synchronous Messenger for worker threads (the outbox sender).

    The outbox passes a row's idempotency key (``key=``) with posts and DMs: a row resent after
    a crash reuses its transaction ids, derived from that key, so the homeserver deduplicates
    it and the outbox may resend instead of reporting the row as "uncertain"."""

    platform = PLATFORM
    deduplicates = True

    def __init__(
        self, inner: AsyncMatrixMessenger, loop: asyncio.AbstractEventLoop, timeout: float = 120.0
    ) -> None:
        self.inner = inner
        self._loop = loop
        self._timeout = timeout

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop_thread_is_current():
            coro.close()
            raise RuntimeError("MatrixMessenger is synchronous: use AsyncMatrixMessenger here")
        return asyncio.run_coroutine_threadsafe(_for_outbox(coro), self._loop).result(self._timeout)

    def _loop_thread_is_current(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def post(
        self,
        channel_id: str,
        message: Message,
        thread: MessageRef | None = None,
        key: str | None = None,
    ) -> MessageRef:
        return self._run(_keyed(key, self.inner.post(channel_id, message, thread)))

    def send_dm(self, user: Identity, message: Message, key: str | None = None) -> MessageRef:
        return self._run(_keyed(key, self.inner.send_dm(user, message)))

    def open_group(self, users: list[Identity], message: Message, key: str) -> MessageRef:
        return self._run(_keyed(key, self.inner.open_group(users, message, key)))

    def send_private(self, user: Identity, channel_id: str | None, message: Message) -> None:
        self._run(self.inner.send_private(user, channel_id, message))

    def update(self, ref: MessageRef, message: Message) -> None:
        self._run(self.inner.update(ref, message))

    def delete(self, ref: MessageRef) -> None:
        self._run(self.inner.delete(ref))

    def send_file(
        self, user: Identity, filename: str, content: bytes, comment: Message | None = None
    ) -> MessageRef:
        return self._run(self.inner.send_file(user, filename, content, comment))
