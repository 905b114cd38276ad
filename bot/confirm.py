"""Preview before publishing: a poll, feedback round or announcement is shown to its author
first and goes to the cohort only after ``ja`` (English ``yes``) or the button.

The pending command is kept in ``bot_state`` under the author's person id (one at a time, the
newest wins, valid for :data:`VALID_FOR`): the exact command text and where it was typed. ``ja``
typed in that conversation or in the DM with the bot runs that text again, now confirmed.
Anything else typed meanwhile runs as usual and leaves the preview pending. Scripts skip the
preview with the flag ``sofort`` (English ``immediately``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.actions import ConfirmAction
from bot.context import CommandContext, Conversation, Reply
from bot.i18n import N_
from bot.router import Token, clean, fold, strip_prefix
from bot.views import Actions, Block, Button, Message, Note, Section
from storage.ports import UnitOfWorkPort

# Command keys whose effect reaches the whole cohort.
PREVIEWED = frozenset({"umfrage", "umfrage aus themen", "feedback starten", "ankuendigen"})
SKIP_WORDS = frozenset({"sofort", "immediately"})
YES_WORDS = frozenset({"ja", "yes"})
VALID_FOR = timedelta(hours=1)
NOTHING_PENDING = N_(
    "Es wartet nichts auf Ihre Bestätigung (eine Vorschau gilt eine Stunde). Bitte geben "
    "Sie den Befehl noch einmal ein."
)


@dataclass(frozen=True)
class Pending:
    text: str
    conversation: Conversation
    created_at: datetime
    # What the author saw: ``ja`` publishes only if the command still reads the same (a
    # relative deadline like "morgen 12 Uhr" confirmed after midnight would not).
    digest: str | None = None


def state_key(person_id: int) -> str:
    return f"confirm:{person_id}"


def take_skip_flag(key: str, tokens: list[Token]) -> tuple[list[str], bool]:
    """The arguments without an unquoted ``sofort``; say whether it was there. In an
    announcement (free text) only a last word counts: "Bitte sofort antworten" stays text."""
    skips = [i for i, t in enumerate(tokens) if not t.quoted and fold(t.text) in SKIP_WORDS]
    if key == "ankuendigen":
        skips = [i for i in skips if i == len(tokens) - 1]
    return [t.text for i, t in enumerate(tokens) if i not in skips], bool(skips)


def is_yes(text: str) -> bool:
    return fold(text.strip().rstrip("!.")) in YES_WORDS


def digest(shown: Message) -> str:
    return hashlib.sha256(repr(shown.blocks).encode()).hexdigest()


def approved(ctx: CommandContext, shown: Message) -> bool:
    """Confirmed (``sofort``, or ``ja`` to a preview showing exactly ``shown``)."""
    return ctx.confirmed and ctx.previewed in (None, digest(shown))


def remember(
    uow: UnitOfWorkPort,
    person_id: int,
    text: str,
    conv: Conversation,
    now: datetime,
    shown: Message | None = None,
) -> None:
    value = json.dumps(
        {
            "text": text,
            "digest": None if shown is None else digest(shown),
            "platform": conv.platform,
            "channel_id": conv.channel_id,
            "is_direct": conv.is_direct,
            "thread_id": conv.thread_id,
            "at": now.isoformat(),
            "until": (now + VALID_FOR).isoformat(),  # housekeeping drops it afterwards
        }
    )
    uow.state.put(state_key(person_id), value)


def expect(ctx: CommandContext, command: str) -> None:
    """A question that ends in "Zum Bestätigen: COMMAND" (``vergessen ja``, …): a bare ``ja``
    right after it runs COMMAND, as it would run a preview's command."""
    remember(ctx.uow, ctx.person.id, command, ctx.request.conversation, ctx.now)
    ctx.uow.commit()


def pending(uow: UnitOfWorkPort, person_id: int, now: datetime) -> Pending | None:
    raw = uow.state.get(state_key(person_id))
    if raw is None:
        return None
    data = json.loads(raw)
    created = datetime.fromisoformat(data["at"])
    if now - created > VALID_FOR:
        forget(uow, person_id)
        return None
    conv = Conversation(
        data["platform"], data["channel_id"], bool(data["is_direct"]), data.get("thread_id")
    )
    return Pending(str(data["text"]), conv, created, data.get("digest"))


def forget(uow: UnitOfWorkPort, person_id: int) -> None:
    uow.state.delete(state_key(person_id))


def matches(p: Pending, conv: Conversation) -> bool:
    """``ja`` counts where the command was typed, or in the DM with the bot."""
    if conv.platform != p.conversation.platform:
        return False
    return conv.is_direct or conv.channel_id == p.conversation.channel_id


def preview(ctx: CommandContext, shown: Message) -> Reply:
    """Keep the command pending and show the author what would be published (privately)."""
    text, _prefixed = strip_prefix(clean(ctx.request.text))
    remember(ctx.uow, ctx.person.id, text, ctx.request.conversation, ctx.now, shown)
    ctx.uow.commit()
    blocks: list[Block] = []
    if ctx.confirmed:  # "ja" to an older preview that no longer reads the same
        changed = N_(
            "Seit der Vorschau hat sich etwas geändert (z. B. ein Datum wie „morgen“); nichts "
            "ist veröffentlicht. Bitte prüfen Sie die neue Vorschau."
        )
        blocks.append(Section((ctx._(changed),)))
    blocks += [Section((ctx._(N_("Vorschau — so sähe es im Kanal aus:")),)), *shown.blocks]
    blocks.append(
        Note(
            ctx._(
                N_(
                    "Noch nichts ist veröffentlicht. Zum Veröffentlichen: „ja“ (hier oder im "
                    "Direktchat mit mir). Zum Verwerfen einfach nichts tun; die Vorschau gilt "
                    "eine Stunde. Ohne Vorschau: „sofort“ an den Befehl anhängen."
                )
            )
        )
    )
    blocks.append(
        Actions(
            (Button(ctx._(N_("Ja, veröffentlichen")), ConfirmAction(ctx.person.id), "primary"),)
        )
    )
    return Reply(Message(tuple(blocks), fallback=shown.fallback), private=True)
