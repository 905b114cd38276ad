"""The conversation of an accepted introduction: one group DM / private room with both.

When both people are reached by chat on the same platform, one outbox row (operation
``group``, key ``intro-room:ID``) opens the conversation through the platform's
:class:`bot.messenger.GroupMessenger` and posts the intro text; the sender writes where it lives
back to the introduction (``bot.outbox.send``). Otherwise — different platforms, no chat
account, or messages by e-mail — each gets a DM (or mail) with the intro text and how to reach
the other. The intro text is in each recipient's language; a shared conversation of a German-
and an English-speaking person gets both.
"""

from __future__ import annotations

from datetime import datetime

from bot.i18n import N_, translator
from bot.identity import Identity
from bot.notifications import EMAIL, channel_of, chat_identity, email_identity
from bot.notify import tell
from bot.outbox.enqueue import Outgoing, add
from bot.views import Message, Section
from storage.models import Person
from storage.models_networking import Introduction
from storage.uow import UnitOfWork

GROUP = "gruppe"
DIRECT = "direkt"

PROMPTS = (
    N_("Woran arbeiten Sie beide gerade bei diesem Thema?"),
    N_("Was hat bei Ihnen schon funktioniert – und was nicht?"),
    N_("Wobei könnten Sie einander helfen: ein Telefonat, Unterlagen, ein Besuch?"),
)
INTRO = N_(
    "Darf ich vorstellen: {a} ({a_place}) und {b} ({b_place}). {a} möchte sich mit Ihnen über "
    "„{topic}“ austauschen. Drei Fragen für den Anfang: 1. {first} 2. {second} 3. {third}"
)
INTRO_NO_TOPIC = N_(
    "Darf ich vorstellen: {a} ({a_place}) und {b} ({b_place}). {a} möchte sich mit Ihnen "
    "austauschen. Drei Fragen für den Anfang: 1. {first} 2. {second} 3. {third}"
)
CONTACT = N_("So erreichen Sie {name}: {contact}")
TOLD_GROUP = N_(
    "{name} hat Ihre Anfrage angenommen. Ich eröffne eine Unterhaltung mit Ihnen beiden."
)
TOLD_DIRECT = N_("{name} hat Ihre Anfrage angenommen.")


def intro_text(intro: Introduction, requester: Person, other: Person, language: str) -> str:
    translate = translator(language)
    return translate(INTRO if intro.topic else INTRO_NO_TOPIC).format(
        a=requester.display_name or "?",
        a_place=requester.municipality or "—",
        b=other.display_name or "?",
        b_place=other.municipality or "—",
        topic=intro.topic or "",
        first=translate(PROMPTS[0]),
        second=translate(PROMPTS[1]),
        third=translate(PROMPTS[2]),
    )


def _chats(uow: UnitOfWork, person: Person) -> list[Identity]:
    """The person's chat identities, the one seen last first ([] if they chose e-mail)."""
    if channel_of(uow, person) == "email":
        return []
    return [
        Identity(i.platform, i.external_id)
        for i in uow.persons.identities_of(person.id)
        if i.platform != EMAIL
    ]


def shared_platform(
    uow: UnitOfWork, requester: Person, other: Person
) -> tuple[Identity, Identity] | None:
    """Both people's identities on one platform: the requester's latest that the other also
    has (a person on Slack and Matrix meets a Matrix-only person on Matrix)."""
    theirs = {i.platform: i for i in reversed(_chats(uow, other))}  # the latest per platform
    for mine in _chats(uow, requester):
        if mine.platform in theirs:
            return mine, theirs[mine.platform]
    return None


def open_conversation(
    uow: UnitOfWork,
    intro: Introduction,
    requester: Person,
    other: Person,
    *,
    now: datetime,
    default_language: str,
) -> str:
    """Enqueue the conversation (or the two DMs); returns :data:`GROUP` or :data:`DIRECT`."""
    pair = shared_platform(uow, requester, other)
    if pair is not None:
        a, b = pair
        languages = dict.fromkeys(p.language or default_language for p in (other, requester))
        text = "\n\n".join(intro_text(intro, requester, other, lang) for lang in languages)
        message = Message(blocks=(Section(lines=(text,)),), fallback=text[:150])
        key = f"intro-room:{intro.id}"
        out = Outgoing(
            key,
            a.platform,
            "group",
            {"identities": [str(a), str(b)], "introduction_id": intro.id, "group": key},
            {"message": message.to_dict()},
            message,
        )
        add(uow, out, now)
        intro.conversation_platform = a.platform  # the id follows when it is opened
        tell(
            uow,
            requester,
            TOLD_GROUP,
            now=now,
            default_language=default_language,
            key=f"intro-accepted:{intro.id}",
            name=other.display_name or "?",
        )
        return GROUP
    intro.conversation_platform = DIRECT
    for person, partner in ((requester, other), (other, requester)):
        language = person.language or default_language
        text = intro_text(intro, requester, other, language)
        told = translator(language)(TOLD_DIRECT).format(name=other.display_name or "?")
        tell(
            uow,
            person,
            "{told}{intro}\n{contact}",
            now=now,
            default_language=default_language,
            key=f"intro-direct:{intro.id}:{person.id}",
            told=f"{told} " if person.id == requester.id else "",
            intro=text,
            contact=translator(language)(CONTACT).format(
                name=partner.display_name or "?", contact=contact_of(uow, partner)
            ),
        )
    return DIRECT


def contact_of(uow: UnitOfWork, person: Person) -> str:
    """How the other can reach ``person``: their chat account, and their e-mail address if
    messages to them go by e-mail."""
    parts: list[str] = []
    chat = chat_identity(uow, person.id)
    if chat is not None:
        parts.append(_account(chat))
    mail = email_identity(person.email)
    if mail is not None and (chat is None or channel_of(uow, person) in ("email", "beides")):
        parts.append(f"E-Mail {mail.external_id}")
    return ", ".join(parts) or "—"


def _account(identity: Identity) -> str:
    if identity.platform == "slack":
        return f"Slack {identity.external_id}"
    if identity.platform == "matrix":
        return f"Matrix {identity.external_id}"
    return f"{identity.platform} @{identity.external_id}"
