"""Which rooms the bot serves: a cohort's room (bound by an organiser) and real direct chats.

Anyone on an allowed server can create a room, invite the bot and a few participants, and call it
a direct chat. So the bot joins a room only when it is bound to a cohort, when an organiser
invites it (to bind it), or when it is a direct chat holding exactly the inviter and the bot. In
a room that is neither bound nor a direct chat it runs only commands that show no data (help,
language, and binding the room); any other command gets :data:`NOT_HERE`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from nio import AsyncClient

from bot.commands.registry import CommandRegistry
from bot.errors import UserFacingError
from bot.i18n import N_, translator
from bot.messenger import MessageRef
from bot.router import clean, parse_line, strip_prefix
from bot.settings import Settings
from bot.views import Message
from handlers.matrix.config import MatrixConfig
from handlers.matrix.events import Incoming, is_command
from handlers.matrix.messenger import PLATFORM, AsyncMatrixMessenger
from handlers.matrix.transport import Transport
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# Command keys (the permission table's) that show no data: allowed in any room.
OPEN_ANYWHERE = frozenset({"hilfe", "sprache", "jahrgang anlegen", "jahrgang verbinden"})

NOT_HERE = N_(
    "In diesem Raum beantworte ich keine Befehle. Schreiben Sie sie im Direktchat mit mir "
    "oder im Raum Ihres Jahrgangs (ein Organisator verbindet ihn mit „jahrgang verbinden“)."
)


def open_anywhere(registry: CommandRegistry, text: str) -> bool:
    """May this line run in a room no cohort is bound to? Unknown words and malformed lines
    pass: the dispatcher answers them with a suggestion or what to fix, never with data."""
    body, _prefixed = strip_prefix(clean(text))
    if not body:
        return True
    try:
        parsed = parse_line(body)
    except UserFacingError:
        return True
    found = registry.resolve(parsed.tokens)
    return found is None or found[0].key in OPEN_ANYWHERE


@dataclass(frozen=True)
class RoomFacts:
    bound: bool  # an organiser bound the room to a cohort
    organiser: bool  # the user asked about is an organiser
    language: str | None  # the user's language, if known


def room_facts(uow_factory: Callable[[], UnitOfWork], room_id: str, user_id: str) -> RoomFacts:
    """What the database says about a room and a user (read in a worker thread)."""
    with uow_factory() as uow:
        bound = uow.cohorts.binding(PLATFORM, room_id) is not None
        person = uow.persons.get_by_identity(PLATFORM, user_id)
        if person is None:
            return RoomFacts(bound, False, None)
        return RoomFacts(bound, bool(person.is_organiser), person.language)


class RoomRules:
    """Invites and incoming texts, decided by the rules above (the bot's worker calls these)."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        registry: CommandRegistry,
        settings: Settings,
        config: MatrixConfig,
    ) -> None:
        self._uow_factory = uow_factory
        self._registry = registry
        self._settings = settings
        self._config = config

    def connect(
        self, client: AsyncClient, transport: Transport, messenger: AsyncMatrixMessenger
    ) -> None:
        self._client, self._transport, self._messenger = client, transport, messenger

    async def _facts(self, room_id: str, user_id: str) -> RoomFacts:
        return await asyncio.to_thread(room_facts, self._uow_factory, room_id, user_id)

    async def answer_invite(self, room_id: str, inviter: str, is_direct: bool) -> bool:
        """Join a cohort's room, an organiser's room (to be bound) or a real DM; decline the
        rest (False). Whether a DM holds only the inviter and the bot shows only once joined."""
        direct = self._messenger.direct
        if not self._config.allows(inviter):
            log.warning("declining invite to %s: the inviter's server is not allowed", room_id)
            await self._client.room_leave(room_id)  # on an invite: rejects it
            return False
        facts = await self._facts(room_id, inviter)
        if not (facts.bound or facts.organiser or is_direct):
            log.info("declining invite to %s: neither a direct chat nor a cohort's room", room_id)
            await self._client.room_leave(room_id)
            return False

        async def join() -> Any:
            return await self._client.join(room_id)

        await self._transport.retrying(join, f"join {room_id}")
        if is_direct and await direct.is_pair(room_id, inviter):
            await direct.adopt(inviter, room_id)
        elif not (facts.bound or facts.organiser):
            log.info("leaving %s: invited as a direct chat, but others are in it", room_id)
            await self._client.room_leave(room_id)
            return False
        return True

    async def admit(self, incoming: Incoming) -> Incoming | None:
        """The text to dispatch (``is_direct`` confirmed on the homeserver), or None: a line
        in a room that is neither a real DM nor bound gets :data:`NOT_HERE` unless it shows no
        data; an unprefixed line in a former DM is chat among its members."""
        direct = self._messenger.direct
        if incoming.is_direct and not await direct.confirmed(incoming.room_id, incoming.sender):
            if not is_command(incoming.text):
                return None
            incoming = replace(incoming, is_direct=False)
        if incoming.is_direct:
            return incoming
        facts = await self._facts(incoming.room_id, incoming.sender)
        if facts.bound or open_anywhere(self._registry, incoming.text):
            return incoming
        hint = translator(facts.language or self._settings.language)(NOT_HERE)
        thread = MessageRef(PLATFORM, incoming.room_id, incoming.event_id, incoming.thread_root)
        await self._messenger.post(incoming.room_id, Message.text(hint), thread)
        return None
