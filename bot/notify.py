"""Messages to people other than the caller: translated for the recipient, sent via the outbox."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from bot.i18n import translator
from bot.outbox import dm_person
from bot.services.answer_links import AnswerItem, prompt_dm
from bot.views import Actions, Button, Message, Note, Section
from storage.models import Person
from storage.ports import UnitOfWorkPort


def tell(
    uow: UnitOfWorkPort,
    person: Person,
    msgid: str,
    *,
    now: datetime,
    default_language: str,
    key: str | None = None,
    buttons: tuple[Button, ...] = (),
    note: str | None = None,
    answer: AnswerItem | None = None,
    **params: object,
) -> bool:
    """DM ``person`` the message ``msgid`` in their language (idempotent by ``key``).
    ``answer``: the item the message asks about; its one-time answer link is added when the
    DM is sent (:mod:`bot.services.answer_links`)."""
    return _tell(uow, person, msgid, params, now, default_language, key, buttons, note, answer)


def _tell(
    uow: UnitOfWorkPort,
    person: Person,
    msgid: str,
    params: dict[str, object],
    now: datetime,
    default_language: str,
    key: str | None,
    buttons: tuple[Button, ...],
    note: str | None,
    answer: AnswerItem | None = None,
) -> bool:
    language = person.language or default_language
    translate = translator(language)
    text = translate(msgid).format(**params)
    blocks: list[Section | Note | Actions] = [Section(lines=(text,))]
    if note:
        blocks.append(Note(translate(note)))
    if buttons:
        blocks.append(
            Actions(
                buttons=tuple(
                    Button(translate(b.label), b.action, b.style, b.hint) for b in buttons
                )
            )
        )
    message = Message(blocks=tuple(blocks), fallback=text[:150])
    key = key or f"tell:{uuid4().hex}"
    if answer is not None:
        return prompt_dm(uow, person.id, message, key, now, answer, language)
    return dm_person(uow, person.id, message, key, now)


def tell_organisers(
    uow: UnitOfWorkPort,
    msgid: str,
    *,
    now: datetime,
    default_language: str,
    buttons: tuple[Button, ...] = (),
    **params: object,
) -> int:
    key = f"organisers:{uuid4().hex}"
    sent = 0
    for organiser in uow.persons.organisers():
        sent += _tell(
            uow,
            organiser,
            msgid,
            params,
            now,
            default_language,
            f"{key}:{organiser.id}",
            buttons,
            None,
        )
    return sent
