"""Which rooms the bot serves: a cohort's room (bound by an organiser) and real direct chats.

Anyone on an allowed server can create a room, invite the bot and a few participants, and call it
a direct chat. So the bot joins a room only when it is bound to a cohort, when an organiser
invites it (to bind it), or when it is a direct chat holding exactly the inviter and the bot. In
a room that is neither bound nor a direct chat it runs only commands that show no data (help,
language, and binding the room); any other command gets :data:`NOT_HERE`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.commands.registry import CommandRegistry
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import clean, parse_line, strip_prefix
from storage.uow import UnitOfWork

PLATFORM = "matrix"

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
