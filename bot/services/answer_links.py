"""One-time answer links in DM prompts: the link is the credential for one person and one item.

A prompt that asks for an answer (a poll's reminder, the attendance question, a feedback
prompt, ``nachfassen``) carries, when the web pages are on, a link ``/antwort/<token>`` that
opens the question without logging in. Secrets as for the login links
(:mod:`bot.services.web_login`): ``secrets.token_urlsafe(32)``, only its sha256 stored.

The link is made when the DM is **sent**, not when it is enqueued: the prompt goes into the
outbox as a ``refresh`` row rendered by :class:`AnswerLinkRenderer`, so the secret is never
written to the database — not even into the outbox's copy of the message — and a prompt that
waits in the outbox past the item's close goes out without a link.

A link answers while its item is open (read from the item on every use) and is kept a while
after the close so that it can say so. Nothing records whether or when a link was used. At
the close of an anonymous item its links lose person and time (:func:`item_closed`), like
the ballot links (docs/polls.md, docs/feedback.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import delete, select, update

from bot.clock import Clock
from bot.i18n import N_, format_when, translator
from bot.identity import Identity
from bot.messenger import MessageRef, Messenger
from bot.notifications import EMAIL, routes
from bot.outbox.enqueue import MAIL_KEY_SUFFIX, Outgoing, add, dm_person
from bot.services.web_login import digest
from bot.settings import Settings
from bot.views import Actions, Message, Note
from storage.models import FeedbackRound, Meeting, Poll
from storage.models_answers import WebAnswerLink
from storage.models_meetings import MeetingState
from storage.ports import UnitOfWorkPort
from storage.uow import UnitOfWork

Kind = Literal["umfrage", "teilnahme", "feedback"]
KINDS: tuple[Kind, ...] = ("umfrage", "teilnahme", "feedback")
ANSWERABLE: tuple[Kind, ...] = KINDS  # the kinds the answer page handles
ANSWER_PATH = "/antwort/"
RENDER = "answer-link"  # the outbox renderer's name (``payload["render"]``)
CLOSED_KEPT = timedelta(days=30)  # a link of a closed item still says "closed" this long


@dataclass(frozen=True)
class AnswerItem:
    """What a prompt asks about: a poll, a meeting's attendance, a feedback round (by id)."""

    kind: Kind
    item_id: int


def answer_item(settings: Settings, kind: Kind, item_id: int) -> AnswerItem | None:
    """The item for a prompt's link, or None when the web pages are not set up here."""
    return AnswerItem(kind, item_id) if settings.web_enabled and kind in ANSWERABLE else None


@dataclass(frozen=True)
class LinkTarget:
    """What a valid link names; ``person_id`` is None once an anonymous item was sealed."""

    kind: Kind
    item_id: int
    person_id: int | None


def _state(
    uow: UnitOfWork, item: AnswerItem, now: datetime, lock: bool = False
) -> tuple[bool, datetime | None]:
    """Whether the item takes answers now, and its deadline (None: none yet)."""
    s = uow.session
    if item.kind == "umfrage":
        query = select(Poll).where(Poll.id == item.item_id)
        poll = s.scalar(query.with_for_update() if lock else query)
        if poll is None:
            return False, None
        is_open = poll.closed_at is None and (poll.closes_at is None or poll.closes_at > now)
        return is_open, poll.closes_at
    if item.kind == "feedback":
        query_round = select(FeedbackRound).where(FeedbackRound.id == item.item_id)
        rnd = s.scalar(query_round.with_for_update() if lock else query_round)
        if rnd is None:
            return False, None
        return rnd.closed_at is None and rnd.closes_at > now, rnd.closes_at
    meeting = s.get(Meeting, item.item_id)
    if meeting is None or meeting.deleted_at is not None:
        return False, None
    state = s.get(MeetingState, meeting.id)
    closed = state is not None and state.attendance_closed_at is not None
    return not closed and meeting.ends_at > now, meeting.ends_at


def issue(uow: UnitOfWork, item: AnswerItem, person_id: int, now: datetime) -> str | None:
    """A new link secret for ``person_id`` and ``item``; None when the item is closed. The
    item's row is locked first, so a close running at the same time cannot seal the item's
    links before this one is written. The caller commits."""
    uow.session.execute(delete(WebAnswerLink).where(WebAnswerLink.expires_at <= now))
    is_open, deadline = _state(uow, item, now, lock=True)
    if not is_open:
        return None
    token = secrets.token_urlsafe(32)
    uow.session.add(
        WebAnswerLink(
            token_hash=digest(token),
            kind=item.kind,
            item_id=item.item_id,
            person_id=person_id,
            created_at=now,
            expires_at=deadline + CLOSED_KEPT if deadline is not None else None,
        )
    )
    uow.session.flush()
    return token


def looks_like_token(token: str) -> bool:
    return 20 <= len(token) <= 100 and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in token
    )


def resolve(uow: UnitOfWork, token: str, now: datetime) -> LinkTarget | None:
    """What the link names, or None (unknown, altered, another kind of link, or expired)."""
    if not looks_like_token(token):
        return None
    row = uow.session.scalar(select(WebAnswerLink).where(WebAnswerLink.token_hash == digest(token)))
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return LinkTarget(cast(Kind, row.kind), row.item_id, row.person_id)


def is_open(uow: UnitOfWork, target: LinkTarget, now: datetime) -> bool:
    return _state(uow, AnswerItem(target.kind, target.item_id), now)[0]


def item_closed(
    uow: UnitOfWorkPort, kind: Kind, item_id: int, now: datetime, *, anonymous: bool
) -> None:
    """The item closed: its links only say so from now on, for :data:`CLOSED_KEPT`. An
    anonymous item's links lose their person and their time (the sealing rule: nothing
    stored says who was asked when). Takes the port, as the feedback services do; the
    in-memory unit of work of the service tests has no session and keeps no links."""
    session = getattr(uow, "session", None)
    if session is None:
        return
    values: dict[str, Any] = {"expires_at": now + CLOSED_KEPT}
    if anonymous:
        values |= {"person_id": None, "created_at": now}
    session.execute(
        update(WebAnswerLink)
        .where(WebAnswerLink.kind == kind, WebAnswerLink.item_id == item_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def csrf_for(token: str) -> str:
    """The form's CSRF value: bound to the link (the page has no session). A form posted
    from elsewhere must know the link itself; ``_same_origin`` refuses other sites first."""
    return digest(f"antwort-formular:{token}")[:40]


def csrf_matches(token: str, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(csrf_for(token), given or "")


# -- sending: the prompt with its link -------------------------------------------------------
def prompt_dm(
    uow: UnitOfWorkPort,
    person_id: int,
    message: Message,
    key: str,
    now: datetime,
    item: AnswerItem | None,
    language: str,
) -> bool:
    """DM a prompt (idempotent by ``key``) wherever the person's messages go
    (:func:`bot.notifications.routes`: chat, e-mail or both; the mail row's key is ``key``
    + ``:email`` as in :func:`bot.outbox.dm_person`). With ``item``, each row gets its own
    link when it is sent; without it (no web pages), a button in a mail names the command."""
    if item is None:
        return dm_person(uow, person_id, message, key, now)
    added = False
    for identity in routes(uow, person_id):
        row_key = f"{key}{MAIL_KEY_SUFFIX}" if identity.platform == EMAIL else key
        added = (
            _prompt_row(uow, identity, row_key, message, now, item, person_id, language) or added
        )
    return added


def mail_prompts(
    uow: UnitOfWorkPort,
    cohort_id: int,
    message: Message,
    key: str,
    now: datetime,
    item: AnswerItem,
    default_language: str,
) -> int:
    """:func:`bot.outbox.mail_participants` for a prompt (a new poll): the mail to each
    confirmed participant whose messages go by e-mail carries their own answer link (key
    ``KEY:email:PERSON``, as there). Returns how many rows were added."""
    added = 0
    for participant in uow.participants.in_cohort(cohort_id, "confirmed"):
        pid = participant.person_id
        found = next((i for i in routes(uow, pid) if i.platform == EMAIL), None)
        person = uow.persons.get(pid)
        if found is None or person is None:
            continue
        language = person.language or default_language
        added += _prompt_row(uow, found, f"{key}:email:{pid}", message, now, item, pid, language)
    return added


def _prompt_row(
    uow: UnitOfWorkPort,
    identity: Identity,
    key: str,
    message: Message,
    now: datetime,
    item: AnswerItem,
    person_id: int,
    language: str,
) -> bool:
    payload = {
        "render": RENDER,
        "message": message.to_dict(),
        "answer": {
            "kind": item.kind,
            "item": item.item_id,
            "person": person_id,
            "language": language,
        },
    }
    target = {"identity": str(identity)}
    return add(uow, Outgoing(key, identity.platform, "refresh", target, payload, message), now)


LINK_TEXT = N_(
    "Ohne Chat antworten: {url} – Ihr persönlicher Link, gültig solange die Frage offen ist. "
    "Bitte geben Sie ihn nicht weiter."
)
LINK_TEXT_UNTIL = N_(
    "Ohne Chat antworten: {url} – Ihr persönlicher Link, gültig solange die Frage offen ist "
    "(längstens bis {when}). Bitte geben Sie ihn nicht weiter."
)


def with_link(message: Message, url: str, language: str, until: str | None) -> Message:
    """The prompt with the link as a note above its buttons."""
    translate = translator(language)
    text = (
        translate(LINK_TEXT_UNTIL).format(url=url, when=until)
        if until
        else translate(LINK_TEXT).format(url=url)
    )
    blocks = list(message.blocks)
    at = next((i for i, b in enumerate(blocks) if isinstance(b, Actions)), len(blocks))
    blocks.insert(at, Note(text))
    return Message(tuple(blocks), message.fallback, message.poll)


class AnswerLinkRenderer:
    """The outbox's renderer for prompts with an answer link: makes the link (in its own
    short transaction, committed before the platform is called) and sends the DM."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], settings: Settings, clock: Clock
    ) -> None:
        self._uow_factory = uow_factory
        self._settings = settings
        self._clock = clock

    def __call__(self, row: Any, messenger: Messenger) -> MessageRef | None:
        message = Message.from_dict(row.payload["message"])
        spec = row.payload["answer"]
        item = AnswerItem(spec["kind"], int(spec["item"]))
        language = str(spec.get("language") or self._settings.language)
        if self._settings.web_enabled:
            now = self._clock.now()
            with self._uow_factory() as uow:
                token = issue(uow, item, int(spec["person"]), now)
                deadline = _state(uow, item, now)[1] if token else None
                uow.commit()
            if token is not None:
                url = self._settings.web_base() + ANSWER_PATH + token
                until = (
                    format_when(deadline.astimezone(self._settings.tz), language)
                    if deadline is not None
                    else None
                )
                message = with_link(message, url, language, until)
        identity = Identity.parse(row.target["identity"])
        keyed: Any = messenger  # a deduplicating Messenger takes the row key as transaction id
        if getattr(messenger, "deduplicates", False):
            return cast(MessageRef, keyed.send_dm(identity, message, key=row.idempotency_key))
        return messenger.send_dm(identity, message)


# -- personal data (bot.services.privacy.STORES, with the web logins) -------------------------
def export_person(uow: UnitOfWork, person_id: int) -> dict[str, Any]:
    rows = uow.session.execute(
        select(WebAnswerLink.kind, WebAnswerLink.created_at).where(
            WebAnswerLink.person_id == person_id
        )
    ).all()
    return {"web_antwortlinks": [{"art": k, "erstellt": c.isoformat()} for k, c in rows]}


def erase_person(uow: UnitOfWork, person_id: int, pseudonym: str = "") -> None:
    uow.session.execute(delete(WebAnswerLink).where(WebAnswerLink.person_id == person_id))
