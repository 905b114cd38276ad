"""Erasure of the traces a person leaves outside their own rows: texts that name them (audit
log, outbox, messages already posted), platform bookkeeping in ``bot_state`` and
``channel_pacing``.

A text names a person through a *secret*: their name (alone and with their municipality),
e-mail, office contact, platform ids, handles and the ids of their direct chats.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import InstrumentedAttribute

from bot.outbox import enqueue
from storage.models import (
    AgendaItem,
    AuditEntry,
    FeedbackResponse,
    FeedbackRound,
    KeyValue,
    Meeting,
    OutboxMessage,
    Person,
    Poll,
    PollOption,
    Reminder,
)
from storage.models_polls import Topic
from storage.models_reminders import ChannelPacing
from storage.uow import UnitOfWork

MIN_SECRET = 3  # shorter values would match inside ordinary words
ERASED_NOTE = "erased (Art. 17)"
ERASE_KEYS = "erase-"  # outbox rows that correct or delete a message after an erasure


@dataclass
class Erasure:
    """Everything an erasure step needs; ``secrets`` are collected before anything is deleted."""

    person: Person
    pseudonym: str
    now: datetime
    default_language: str
    identities: set[str] = field(default_factory=set)  # "slack:U0123", …
    secrets: list[str] = field(default_factory=list)

    def add_secrets(self, *values: str | None) -> None:
        found = set(self.secrets) | {v for v in values if v and len(v) >= MIN_SECRET}
        # Longest first: "Anna Muster (Bautzen)" goes as a whole, not as "Person-… (Bautzen)".
        self.secrets = sorted(found, key=len, reverse=True)

    def pattern(self) -> re.Pattern[str] | None:
        return secret_pattern(self.secrets) if self.secrets else None


def collect_secrets(uow: UnitOfWork, erasure: Erasure) -> None:
    person = erasure.person
    erasure.add_secrets(person.display_name, person.email)
    if person.display_name and person.municipality:
        # With one participant per municipality the pair is the person, pseudonym or not.
        erasure.add_secrets(f"{person.display_name} ({person.municipality})")
    for participant in uow.participants.of_person(person.id):
        erasure.add_secrets(participant.office_contact)
    for ident in uow.persons.identities_of(person.id):
        full = f"{ident.platform}:{ident.external_id}"
        erasure.identities.add(full)
        erasure.add_secrets(full, ident.external_id, ident.handle)
    # Their direct chats (a Slack D… channel, a Matrix room) point at them as well.
    for row in uow.session.scalars(select(OutboxMessage).where(OutboxMessage.result.is_not(None))):
        if row.operation in ("dm", "file") and row.target.get("identity") in erasure.identities:
            erasure.add_secrets(str((row.result or {}).get("channel_id") or ""))
    for known in erasure.identities:
        if known.startswith("matrix:"):
            erasure.add_secrets(uow.state.get(f"matrix:dm:{known.removeprefix('matrix:')}"))


def secret_pattern(secrets: list[str]) -> re.Pattern[str]:
    """Whole names, e-mails and identities only: erasing "ben" must not touch "geben"."""
    escaped = [re.escape(json.dumps(secret, ensure_ascii=False)[1:-1]) for secret in secrets]
    return re.compile(r"(?<![\w@.-])(?:" + "|".join(escaped) + r")(?![\w@-]|\.\w)")


def redact(value: Any, erasure: Erasure) -> Any:
    pattern = erasure.pattern()
    if value is None or pattern is None:
        return value
    text = json.dumps(value, ensure_ascii=False)
    return json.loads(pattern.sub(erasure.pseudonym, text))


def scrub_audit(uow: UnitOfWork, erasure: Erasure) -> None:
    for entry in uow.session.scalars(select(AuditEntry)):
        entry.before = redact(entry.before, erasure)
        entry.after = redact(entry.after, erasure)


def _texts_others_wrote() -> tuple[InstrumentedAttribute[Any], ...]:
    return (
        Poll.question,
        PollOption.label,
        Reminder.text,
        Topic.title,
        Topic.description,
        Meeting.title,
        Meeting.location,
        Meeting.notes,
        AgendaItem.title,
        AgendaItem.speaker,
        AgendaItem.description,
        FeedbackRound.title,
        FeedbackRound.subject,
        FeedbackResponse.answers,
    )


def scrub_texts(uow: UnitOfWork, erasure: Erasure) -> None:
    """Texts others typed that name the person (a poll question, a channel reminder, an agenda
    item's speaker): posts are rendered again from them, so the name would come back with the
    next vote or reminder. Replaced by the pseudonym where they are stored."""
    pattern = erasure.pattern()
    if pattern is None:
        return
    for column in _texts_others_wrote():
        model = column.class_
        for row in uow.session.scalars(select(model).where(column.is_not(None))):
            value = getattr(row, column.key)
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            if pattern.search(text):
                setattr(row, column.key, redact(value, erasure))
    uow.session.flush()


# -- messages: the outbox and what it already posted --------------------------------------------


def _text_of(row: OutboxMessage) -> str:
    text = json.dumps([row.target, row.payload, row.result], ensure_ascii=False)
    if row.payload.get("content_b64"):  # files (exports) are base64: look inside
        text += base64.b64decode(row.payload["content_b64"]).decode("utf-8", "replace")
    return text


def _ref_of(row: OutboxMessage) -> tuple[str, str, str] | None:
    """The platform message a row created or changed."""
    where = row.target if row.operation in ("update", "delete") else row.result or {}
    if not where.get("channel_id") or not where.get("message_id"):
        return None
    return (row.platform, str(where["channel_id"]), str(where["message_id"]))


def scrub_outbox(uow: UnitOfWork, erasure: Erasure) -> None:
    """Pending messages naming the person are redacted (or dropped, if they are for them);
    every message on a platform whose *current* text names them is edited to show the
    pseudonym — or deleted, if it is a file or was sent to them."""
    pattern = erasure.pattern()
    if pattern is None:
        return
    rows = list(uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    latest: dict[tuple[str, str, str], OutboxMessage] = {}
    for row in rows:  # which row's content each platform message shows now (or soon)
        ref = _ref_of(row)
        if ref is not None or row.status != "sent":
            latest[ref or ("", "", str(row.id))] = row
    named = {row.id for row in rows if pattern.search(_text_of(row))}
    for ref, row in latest.items():
        if row.id in named and row.status == "sent" and ref[1] and row.operation != "delete":
            _correct_on_platform(uow, row, ref, erasure)
    for row in rows:
        if row.id in named:
            _scrub_row(row, erasure)


# A DM is an outbox row to an identity: ``dm``, ``file``, or a ``refresh`` rendered when sent
# (a prompt with its answer link, bot.services.answer_links).
DM_OPERATIONS = ("dm", "file", "refresh")


def _for_them(row: OutboxMessage, erasure: Erasure) -> bool:
    if row.operation == "group":  # an introduction's conversation with them: it goes
        return any(i in erasure.identities for i in row.target.get("identities") or [])
    return row.operation in DM_OPERATIONS and row.target.get("identity") in erasure.identities


def _correct_on_platform(
    uow: UnitOfWork, row: OutboxMessage, ref: tuple[str, str, str], erasure: Erasure
) -> None:
    platform, channel_id, message_id = ref
    # Sent to them (their export, their reminders): theirs, so it goes. A file cannot be edited.
    gone = _for_them(row, erasure) or row.operation == "file" or not row.payload.get("message")
    key = f"{ERASE_KEYS}{'delete' if gone else 'edit'}:{row.id}"
    enqueue(
        uow,
        key=key,
        platform=platform,
        operation="delete" if gone else "update",
        target={"channel_id": channel_id, "message_id": message_id},
        now=erasure.now,
        message=None,
    )
    edit = uow.outbox.get_by_key(key)
    if edit is not None and not gone:
        edit.payload = {"message": redact(row.payload["message"], erasure)}


def _scrub_row(row: OutboxMessage, erasure: Erasure) -> None:
    for_them = _for_them(row, erasure)
    if row.status != "sent" and (for_them or row.operation == "file"):
        row.status, row.error = "cancelled", ERASED_NOTE
    if row.payload.get("content_b64"):
        row.payload = {**row.payload, "content_b64": ""}
    row.result = redact(row.result, erasure)
    row.target = redact(row.target, erasure) or {}
    # What was sent to them privately is theirs: drop it all; the rest keeps its pseudonym.
    row.payload = {} if for_them else redact(row.payload, erasure) or {}


# -- platform bookkeeping ---------------------------------------------------------------------


def scrub_state(uow: UnitOfWork, erasure: Erasure) -> int:
    """Remove ``bot_state`` rows about the person (open Slack forms, Matrix DM rooms, linking
    codes, reminder bookmarks) and their ``channel_pacing`` rows. Returns how many went."""
    pattern = erasure.pattern()
    person_id = erasure.person.id
    gone = 0
    for row in uow.session.scalars(select(KeyValue)):
        mentions = pattern is not None and bool(
            pattern.search(row.key) or pattern.search(row.value)
        )
        own = (f"reminders:last:{person_id}", f"confirm:{person_id}")  # confirm: a preview
        if mentions or _link_of(row) == person_id or row.key in own:
            uow.session.delete(row)
            gone += 1
    if pattern is not None:
        for slot in uow.session.scalars(select(ChannelPacing)):
            if pattern.search(slot.channel):
                uow.session.execute(
                    delete(ChannelPacing).where(
                        ChannelPacing.platform == slot.platform,
                        ChannelPacing.channel == slot.channel,
                    )
                )
                gone += 1
    uow.session.flush()
    return gone


def _link_of(row: KeyValue) -> int | None:
    """The person a linking code (``link:CODE``) belongs to."""
    if not row.key.startswith("link:"):
        return None
    try:
        data = json.loads(row.value)
        return int(data["person"])
    except (ValueError, KeyError, TypeError):
        return None


def state_of(uow: UnitOfWork, erasure: Erasure) -> list[str]:
    """For ``meine-daten``: the keys of the bookkeeping rows :func:`scrub_state` would remove."""
    pattern = erasure.pattern()
    keys = []
    for row in uow.session.scalars(select(KeyValue).order_by(KeyValue.key)):
        mentions = pattern is not None and bool(
            pattern.search(row.key) or pattern.search(row.value)
        )
        if row.key == f"confirm:{erasure.person.id}":  # a pending preview: the command typed
            keys.append(f"vorschau: {json.loads(row.value).get('text', '')}")
        elif mentions or _link_of(row) == erasure.person.id:
            keys.append(":".join(row.key.split(":")[:2]))
    if pattern is not None:
        keys += [
            f"pacing:{s.platform}"
            for s in uow.session.scalars(select(ChannelPacing))
            if pattern.search(s.channel)
        ]
    return keys


def purge_expired_state(uow: UnitOfWork, now: datetime) -> int:
    """Delete ``bot_state`` rows past their ``until`` (open Slack forms after 24 hours, with the
    name and e-mail they were filled with; linking codes after 15 minutes)."""
    gone = 0
    for row in uow.state.expiring():
        try:
            expired = datetime.fromisoformat(json.loads(row.value)["until"]) <= now
        except (ValueError, KeyError, TypeError):
            continue
        if expired:
            uow.session.delete(row)
            gone += 1
    uow.session.flush()
    return gone


def purge_erasure_rows(uow: UnitOfWork) -> int:
    """The outbox rows that corrected posts after an erasure must name the message (and so the
    person's direct chat) until they are delivered; once done they go, with the pacing slot of
    that direct chat."""
    done = list(
        uow.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.idempotency_key.startswith(ERASE_KEYS, autoescape=True),
                OutboxMessage.status.not_in(("pending", "sending")),
            )
        )
    )
    for row in done:
        channel = str(row.target.get("channel_id") or "")
        if uow.cohorts.binding(row.platform, channel) is None:  # not a cohort's channel
            uow.session.execute(
                delete(ChannelPacing).where(
                    ChannelPacing.platform == row.platform, ChannelPacing.channel == channel
                )
            )
        uow.session.delete(row)
    uow.session.flush()
    return len(done)
