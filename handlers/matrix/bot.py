"""The Matrix bot: sync loop, invites, commands and DMs into the shared dispatcher.

While it runs, its synchronous Messenger is attached to the process's outbox
(``bot.flusher``, see :mod:`bot.outbox.flusher`); it kicks the flusher after each answer.

Events are taken from sync callbacks into one queue and handled in order (a guided DM dialog
must see its answers in sequence). The catch-up sync at start-up is never answered: its
timeline happened before the bot started. The sync token is stored after every sync.

Everything from a user whose server is not in ``MATRIX_ALLOWED_SERVERS`` is ignored: invites,
commands, poll responses and replies, encrypted events. Which rooms are served and where a
private answer may go: :mod:`handlers.matrix.rooms` and :mod:`handlers.matrix.direct`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial

from nio import (
    Event,
    ForwardedRoomKeyEvent,
    InviteMemberEvent,
    MatrixRoom,
    MegolmEvent,
    RoomKeyEvent,
    RoomMessageText,
    UnknownEvent,
)

from bot.context import Conversation, Request
from bot.identity import Identity
from bot.messenger import MessageRef
from bot.runtime import ChatRuntime
from bot.views import Message
from handlers.matrix.config import MatrixConfig
from handlers.matrix.direct import DirectRooms
from handlers.matrix.events import START_TOLERANCE_MS, Incoming, incoming_text
from handlers.matrix.files import MatrixFiles
from handlers.matrix.late_keys import Held, LateKeys
from handlers.matrix.messenger import PLATFORM, AsyncMatrixMessenger, MatrixMessenger
from handlers.matrix.polls import (
    RESPONSE_TYPES,
    PollVote,
    poll_for_events,
    poll_reply,
    poll_response,
    vote_action,
)
from handlers.matrix.rooms import RoomRules
from handlers.matrix.session import log_in, make_client
from handlers.matrix.state import NEXT_BATCH, MatrixState
from handlers.matrix.sync import SyncLoop
from handlers.matrix.transport import Transport

log = logging.getLogger(__name__)
STOP_TIMEOUT = 20.0
Job = Callable[[], Awaitable[None]]

UNDECRYPTABLE = (
    "Ich kann Ihre verschlüsselte Nachricht nicht lesen, weil mir der Schlüssel dafür fehlt. "
    "Bitte senden Sie sie noch einmal. — I cannot decrypt your message (the key is missing); "
    "please send it again."
)


class MatrixBot:
    """``await start()`` logs in, catches up and runs in the background; ``await stop()``."""

    def __init__(
        self,
        bot: ChatRuntime,
        config: MatrixConfig,
        *,
        flush_interval: float | None = None,
        poll_ms: int = 30000,
    ) -> None:
        self.bot = bot
        self.config = config
        self.flush_interval = flush_interval
        self.state = MatrixState(bot.uow_factory)
        self.client = make_client(config)
        self.transport = Transport(self.client)
        self.direct = DirectRooms(self.transport, self.state, encrypt=False)
        self.messenger = AsyncMatrixMessenger(self.transport, self.direct, self.state)
        self.sync = SyncLoop(self.client, self.state, poll_ms)
        self.rooms = RoomRules(bot.uow_factory, bot.dispatcher.registry, bot.settings, config)
        self.rooms.connect(self.client, self.transport, self.messenger)
        self.handled: list[str] = []  # event ids answered, in order (for logs and tests)
        self._queue: asyncio.Queue[Job | None] = asyncio.Queue()
        self._seen: set[str] = set()
        self._invites: set[str] = set()
        self._undecryptable: set[tuple[str, str]] = set()  # (room, session) told already
        self.late = LateKeys(self.client)
        self.outbox_messenger: MatrixMessenger | None = None  # attached while running
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self.started_ms = 0

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    async def start(self) -> None:
        self.started_ms = int(time.time() * 1000)
        await log_in(self.client, self.config, self.state)
        self.direct = DirectRooms(
            self.transport, self.state, encrypt=self.config.encrypt_dms and self.encrypted
        )
        self.messenger.direct = self.direct
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_event_callback(self._on_text, RoomMessageText)
        self.client.add_event_callback(self._on_undecryptable, MegolmEvent)
        self.client.add_event_callback(self._on_poll_response, UnknownEvent)
        self.client.add_to_device_callback(self.late.arrived, (RoomKeyEvent, ForwardedRoomKeyEvent))
        await self.direct.load()
        since = await asyncio.to_thread(self.state.get, NEXT_BATCH)
        await self.sync.catch_up(since or None)
        self.outbox_messenger = MatrixMessenger(self.messenger, asyncio.get_running_loop())
        self._tasks = [
            asyncio.create_task(self.sync.run(), name="matrix-sync"),
            asyncio.create_task(self._work(), name="matrix-worker"),
            asyncio.create_task(
                self.late.run(self._on_decrypted, self._give_up), name="matrix-late-keys"
            ),
        ]
        self.bot.flusher.attach(self.outbox_messenger, interval=self.flush_interval)

    @property
    def encrypted(self) -> bool:
        return self.client.olm is not None

    async def stop(self) -> None:
        """Stop syncing, finish queued work, detach from the outbox (a running flush ends
        first), close the client."""
        if not self._tasks:
            await self.client.close()
            return
        sync_task, worker, late = self._tasks
        late.cancel()
        self._closing = True  # callbacks queue nothing new; queued work still needs sync
        await self._queue.put(None)
        done, _ = await asyncio.wait({worker}, timeout=STOP_TIMEOUT)
        if not done:
            worker.cancel()
        # In a thread: a running flush may need this loop to finish its sends.
        await asyncio.to_thread(self.bot.flusher.detach, PLATFORM)
        for task in (worker, sync_task):
            task.cancel()
        tasks = (worker, sync_task, late)
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, Exception):
                log.error("matrix task ended with %r", result)
        self._tasks = []
        await self.client.close()

    # -- sync callbacks: decide quickly, queue the work ---------------------------------------
    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.user_id or event.membership != "invite":
            return
        if room.room_id in self._invites or self._closing:
            return
        self._invites.add(room.room_id)
        is_direct = bool(event.content.get("is_direct"))
        await self._queue.put(lambda: self._answer_invite(room.room_id, event.sender, is_direct))

    async def _on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if self.sync.catching_up or self._closing or event.event_id in self._seen:
            return
        if not self.config.allows(event.sender):
            return
        incoming = incoming_text(
            room.room_id,
            event.source,
            own_user=self.user_id,
            is_direct=self.direct.looks_direct(room.room_id, event.sender, room.users),
            started_ms=self.started_ms,
        )
        if incoming is None:
            if not self.direct.is_direct(room.room_id):
                vote = poll_reply(event.source, own_user=self.user_id, started_ms=self.started_ms)
                await self._queue_vote(room, event.event_id, event.sender, vote)
            return
        self._seen.add(event.event_id)
        name = room.user_name(event.sender)
        await self._queue.put(lambda: self._answer_text(incoming, name))

    async def _on_poll_response(self, room: MatrixRoom, event: UnknownEvent) -> None:
        if event.type not in RESPONSE_TYPES or self.sync.catching_up or self._closing:
            return
        if not self.config.allows(event.sender):
            return
        vote = poll_response(event.source, own_user=self.user_id, started_ms=self.started_ms)
        await self._queue_vote(room, event.event_id, event.sender, vote)

    async def _queue_vote(
        self, room: MatrixRoom, event_id: str, sender: str, vote: PollVote | None
    ) -> None:
        if vote is None or event_id in self._seen:
            return
        self._seen.add(event_id)
        name = room.user_name(sender)
        await self._queue.put(lambda: self._answer_vote(room.room_id, event_id, sender, vote, name))

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        """No key yet: hold the event (see :mod:`handlers.matrix.late_keys`) and ask for it."""
        if self.sync.catching_up or self._closing or event.sender == self.user_id:
            return
        if not self.config.allows(event.sender):
            return
        if event.server_timestamp < self.started_ms - START_TOLERANCE_MS:
            return
        if self.late.hold(room.room_id, event):
            await self._queue.put(lambda: self._request_key(event))

    async def _give_up(self, held: Held) -> None:
        key = (held.room_id, str(held.event.session_id))
        if key not in self._undecryptable and not self._closing:
            self._undecryptable.add(key)
            await self._queue.put(partial(self._say_undecryptable, held.room_id, held.event))

    async def _on_decrypted(self, room_id: str, event: Event) -> None:
        room = self.client.rooms.get(room_id)
        if room is None:
            return
        if isinstance(event, RoomMessageText):
            await self._on_text(room, event)
        elif isinstance(event, UnknownEvent):
            await self._on_poll_response(room, event)

    # -- work ---------------------------------------------------------------------------------
    async def _work(self) -> None:
        while (job := await self._queue.get()) is not None:
            try:
                await job()
            except Exception:
                log.exception("matrix job failed")

    async def _answer_invite(self, room_id: str, inviter: str, is_direct: bool) -> None:
        if not await self.rooms.answer_invite(room_id, inviter, is_direct):
            self._invites.discard(room_id)  # declined: a later invite is looked at anew

    async def _answer_text(self, incoming: Incoming, display_name: str | None) -> None:
        admitted = await self.rooms.admit(incoming)  # None: answered with the hint, or chat
        if admitted is not None:
            await self._answer(admitted, display_name)

    async def _answer(self, incoming: Incoming, display_name: str | None) -> None:
        identity = Identity(PLATFORM, incoming.sender)
        request = Request(
            identity=identity,
            conversation=Conversation(
                PLATFORM, incoming.room_id, incoming.is_direct, incoming.thread_root
            ),
            text=incoming.text,
            display_name=display_name,
            handle=incoming.sender,
            attachment=MatrixFiles(self.client, asyncio.get_running_loop()).last_upload(
                incoming.room_id, incoming.sender
            ),  # fetched only by a command that needs a file (import)
        )
        replies = await asyncio.to_thread(self.bot.dispatcher.handle, request)
        self.handled.append(incoming.event_id)
        for reply in replies:
            if reply.message is not None:
                await self._deliver(incoming, identity, reply.message, reply.private)
        self.bot.flusher.kick()

    async def _answer_vote(
        self, room_id: str, event_id: str, sender: str, vote: PollVote, name: str | None
    ) -> None:
        """A native response or a numeric reply to a poll: a typed vote, checked like a click
        (the confirmation is private, so it goes by DM)."""
        target = await asyncio.to_thread(poll_for_events, self.bot.uow_factory, vote.targets)
        action = vote_action(target, vote) if target is not None else None
        if action is None:
            log.info(
                "poll vote %s in %s ignored: no such poll or no valid answer", event_id, room_id
            )
            return
        identity = Identity(PLATFORM, sender)
        request = Request(
            identity, Conversation(PLATFORM, room_id, False, None), "", name, handle=sender
        )
        replies = await asyncio.to_thread(self.bot.dispatcher.handle_action, request, action)
        self.handled.append(event_id)
        incoming = Incoming(room_id, event_id, sender, "", False, None)
        for reply in replies:
            if reply.message is not None:
                await self._deliver(incoming, identity, reply.message, reply.private)
        self.bot.flusher.kick()

    async def _deliver(
        self, incoming: Incoming, identity: Identity, message: Message, private: bool
    ) -> None:
        if incoming.is_direct:
            # Checked again right before sending: the room may have gained a member meanwhile.
            room_id = await self.direct.room_for(incoming.sender)
            thread = None
            if incoming.thread_root and room_id == incoming.room_id:
                thread = MessageRef(
                    PLATFORM, incoming.room_id, incoming.event_id, incoming.thread_root
                )
            await self.messenger.post(room_id, message, thread)
        elif private:  # never into the shared room: Matrix has no ephemeral messages
            await self.messenger.send_dm(identity, message)
        else:
            thread = MessageRef(PLATFORM, incoming.room_id, incoming.event_id, incoming.thread_root)
            await self.messenger.post(incoming.room_id, message, thread)

    async def _request_key(self, event: MegolmEvent) -> None:
        try:
            await self.client.request_room_key(event)
        except Exception:  # a key request is best effort (it may already be pending)
            log.debug("room key request failed", exc_info=True)

    async def _say_undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        thread = None
        if not self.direct.is_direct(room_id):
            thread = MessageRef(PLATFORM, room_id, event.event_id, None)
        await self.messenger.post(room_id, Message.text(UNDECRYPTABLE), thread)
