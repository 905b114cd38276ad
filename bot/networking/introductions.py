"""``vorstellen``: introductions with consent.

``requester`` asks; ``other`` gets a DM with the buttons Annehmen / Ablehnen (or types
``vorstellen annehmen|ablehnen [PERSON]``). On acceptance :mod:`bot.networking.intro_room` opens
a conversation with both; on a decline the requester hears one neutral sentence. A request
expires after :data:`EXPIRES` (checked when it is read; a due row tells the requester); the
same person cannot ask again while a request is open, nor within :data:`COOLDOWN` of a decline
or an expiry — and is told only that it is "nicht möglich", the same sentence in every case, so
nothing more can be learnt.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.actions import CommandAction
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking import intro_room, profiles
from bot.networking.ranking import match_of
from bot.networking.topics import key
from bot.notify import tell
from bot.scheduling.due import DueContext, cancel, schedule
from bot.services.registration import person_ref
from bot.views import Button
from storage.models import Cohort, Person
from storage.models_networking import Introduction
from storage.uow import UnitOfWork

KIND_EXPIRE = "intro-expire"
ACCEPT = "vorstellen annehmen"
DECLINE = "vorstellen ablehnen"
EXPIRES = timedelta(days=14)
COOLDOWN = timedelta(days=30)

NOT_POSSIBLE = N_(
    "Eine Vorstellung bei {name} ist derzeit nicht möglich. Vielleicht passt jemand anderes: "
    "„wer kennt sich aus mit …“."
)
ASK = N_(
    "{name} ({municipality}) möchte Sie gern kennenlernen und sich mit Ihnen über „{topic}“ "
    "austauschen. Wenn Sie annehmen, eröffne ich eine Unterhaltung mit Ihnen beiden. Die "
    "Anfrage gilt bis {until}."
)
ASK_NO_TOPIC = N_(
    "{name} ({municipality}) möchte Sie gern kennenlernen und sich mit Ihnen austauschen. "
    "Wenn Sie annehmen, eröffne ich eine Unterhaltung mit Ihnen beiden. Die Anfrage gilt bis "
    "{until}."
)


def state_of(intro: Introduction, now: datetime) -> str:
    """``offen``, ``abgelaufen``, ``angenommen`` or ``abgelehnt``."""
    if intro.accepted_at is not None:
        return "angenommen"
    if intro.declined_at is not None:
        return "abgelehnt"
    return "abgelaufen" if now >= intro.created_at + EXPIRES else "offen"


def shared_topic(uow: UnitOfWork, a: Person, b: Person) -> str | None:
    """A topic both bring (tags first), else one of ``a``'s found in ``b``'s Vorhaben."""
    pa, pb = profiles.get(uow, a.id), profiles.get(uow, b.id)
    tags_a = list(pa.topics) if pa else []
    tags_b = {key(t) for t in (pb.topics if pb else [])}
    for tag in tags_a:
        if key(tag) in tags_b:
            return str(tag)
    for tag in tags_a:
        if pb is not None and match_of(str(tag), profiles.candidate_of(b, pb)) is not None:
            return str(tag)
    if pb is not None and pb.vorhaben_title:
        return pb.vorhaben_title
    return None


def _pair(uow: UnitOfWork, requester: Person, other: Person) -> Introduction | None:
    return uow.session.scalar(
        select(Introduction).where(
            Introduction.requester_person_id == requester.id,
            Introduction.other_person_id == other.id,
        )
    )


def _refuse_repeat(uow: UnitOfWork, earlier: Introduction, other: Person, now: datetime) -> None:
    name = other.display_name or "?"
    state = state_of(earlier, now)
    if state == "angenommen":
        raise UserFacingError(N_("{name} und Sie wurden einander bereits vorgestellt."), name=name)
    if state == "offen":
        raise UserFacingError(
            N_(
                "Ihre Anfrage an {name} ist noch offen (bis {until}). Sobald {name} annimmt, "
                "eröffne ich eine Unterhaltung mit Ihnen beiden."
            ),
            name=name,
            until=_day(earlier.created_at + EXPIRES),
        )
    # An unanswered request counts as a decline at its expiry: the requester, told the same
    # sentence in both cases, must not tell them apart by asking again.
    ended = earlier.declined_at if state == "abgelehnt" else earlier.created_at + EXPIRES
    if ended is not None and now < ended + COOLDOWN:
        raise UserFacingError(NOT_POSSIBLE, name=name)


def introduce(
    uow: UnitOfWork,
    *,
    cohort: Cohort,
    requester: Person,
    other: Person,
    topic: str | None,
    now: datetime,
    default_language: str,
) -> Introduction:
    """Ask ``other`` whether they want to be introduced to ``requester``."""
    if other.id == requester.id:
        raise UserFacingError(N_("Sich selbst kann ich Ihnen nicht vorstellen."))
    if not profiles.visible_to(uow, cohort.id, other.id):
        raise UserFacingError(
            N_("{name} nimmt nicht am Jahrgang „{cohort}“ teil; ich kann Sie nur dort vorstellen."),
            name=other.display_name or "?",
            cohort=cohort.name,
        )
    reverse = _pair(uow, other, requester)
    if reverse is not None and state_of(reverse, now) == "offen":
        raise UserFacingError(
            N_("{name} hat Sie bereits um eine Vorstellung gebeten. Nehmen Sie an mit: {command}"),
            name=other.display_name or "?",
            command=CommandAction(ACCEPT, (person_ref(uow, other),)).text(),
        )
    if reverse is not None and state_of(reverse, now) == "angenommen":
        raise UserFacingError(
            N_("{name} und Sie wurden einander bereits vorgestellt."), name=other.display_name
        )
    subject = (topic or "").strip()[:200] or shared_topic(uow, requester, other)
    intro = _pair(uow, requester, other)
    if intro is None:
        intro = Introduction(
            cohort_id=cohort.id,
            requester_person_id=requester.id,
            other_person_id=other.id,
            topic=subject,
            created_at=now,
        )
        uow.session.add(intro)
    else:  # expired, or declined long enough ago: the same row asks again
        _refuse_repeat(uow, intro, other, now)
        intro.cohort_id, intro.topic, intro.created_at = cohort.id, subject, now
        intro.declined_at = intro.accepted_at = None
        intro.conversation_platform = intro.conversation_id = None
    uow.session.flush()
    stamp = int(now.timestamp())
    # At the end of the 14 days the requester hears the same neutral sentence as after a
    # decline (:func:`expire`): the two cannot be told apart.
    schedule(
        uow,
        key=f"{KIND_EXPIRE}:{intro.id}:{stamp}",
        due_at=now + EXPIRES,
        kind=KIND_EXPIRE,
        now=now,
        person_id=requester.id,
        target={"introduction_id": intro.id, "asked": stamp},
    )
    ref = person_ref(uow, requester)
    tell(
        uow,
        other,
        ASK if subject else ASK_NO_TOPIC,
        now=now,
        default_language=default_language,
        key=f"intro-ask:{intro.id}:{stamp}",
        # The buttons name the requester: with two open requests they answer this one.
        buttons=(
            Button(N_("Annehmen"), CommandAction(ACCEPT, (ref,), other.id), "primary"),
            Button(N_("Ablehnen"), CommandAction(DECLINE, (ref,), other.id)),
        ),
        name=requester.display_name or "?",
        municipality=requester.municipality or "—",
        topic=subject,
        until=_day(now + EXPIRES),
    )
    return intro


def _day(moment: datetime) -> str:
    return moment.strftime("%d.%m.%Y")


def _open_for(
    uow: UnitOfWork, person: Person, requester: Person | None, now: datetime
) -> Introduction:
    """The request to ``person`` to answer: by ``requester``, else the latest open one."""
    query = select(Introduction).where(
        Introduction.other_person_id == person.id,
        Introduction.declined_at.is_(None),
        Introduction.accepted_at.is_(None),
    )
    if requester is not None:
        query = query.where(Introduction.requester_person_id == requester.id)
    found = list(
        uow.session.scalars(query.order_by(Introduction.created_at.desc(), Introduction.id.desc()))
    )
    live = [i for i in found if state_of(i, now) == "offen"]
    if live:
        return live[0]
    if found:
        asker = uow.persons.get(found[0].requester_person_id)
        raise UserFacingError(
            N_(
                "Die Anfrage von {name} ist am {day} abgelaufen (Anfragen gelten 14 Tage). "
                "Wenn Sie möchten, bitten Sie selbst um die Vorstellung: {command}"
            ),
            name=(asker.display_name if asker else None) or "?",
            day=_day(found[0].created_at + EXPIRES),
            command=CommandAction("vorstellen", (person_ref(uow, asker),)).text()
            if asker
            else "vorstellen …",
        )
    raise UserFacingError(N_("Es gibt keine offene Anfrage, die Sie beantworten könnten."))


def accept(
    uow: UnitOfWork,
    person: Person,
    *,
    requester: Person | None = None,
    now: datetime,
    default_language: str,
) -> tuple[Person, str]:
    """``person`` accepts; the conversation is opened (an outbox row). Returns the requester
    and how they meet (:data:`bot.networking.intro_room.GROUP` or ``DIRECT``)."""
    intro = _open_for(uow, person, requester, now)
    intro.accepted_at = now
    cancel(uow, f"{KIND_EXPIRE}:{intro.id}:")
    asker = uow.persons.get(intro.requester_person_id)
    assert asker is not None
    how = intro_room.open_conversation(
        uow, intro, asker, person, now=now, default_language=default_language
    )
    uow.session.flush()
    return asker, how


def decline(
    uow: UnitOfWork,
    person: Person,
    *,
    requester: Person | None = None,
    now: datetime,
    default_language: str,
) -> Person:
    """``person`` declines; the requester hears only that it is not possible. The topic goes
    (only the date stays, for the 30 days in which the same request is refused)."""
    intro = _open_for(uow, person, requester, now)
    intro.declined_at, intro.topic = now, None
    cancel(uow, f"{KIND_EXPIRE}:{intro.id}:")
    asker = uow.persons.get(intro.requester_person_id)
    assert asker is not None
    tell(
        uow,
        asker,
        NOT_POSSIBLE,
        now=now,
        default_language=default_language,
        key=f"intro-declined:{intro.id}:{int(now.timestamp())}",
        name=person.display_name or "?",
    )
    uow.session.flush()
    return asker


def expire(due: DueContext) -> None:
    """A request left unanswered for 14 days: the requester is told it is not possible."""
    intro = due.uow.session.get(Introduction, int(due.reminder.target.get("introduction_id", 0)))
    if intro is None or int(intro.created_at.timestamp()) != due.reminder.target.get("asked"):
        return  # erased meanwhile, or asked again (the new request has its own row)
    if state_of(intro, due.now) != "abgelaufen":
        return
    asker, other = (
        due.uow.persons.get(intro.requester_person_id),
        due.uow.persons.get(intro.other_person_id),
    )
    if asker is None or other is None:
        return
    tell(
        due.uow,
        asker,
        NOT_POSSIBLE,
        now=due.now,
        default_language=due.settings.language,
        key=f"intro-expired:{intro.id}:{due.reminder.target['asked']}",
        name=other.display_name or "?",
    )
