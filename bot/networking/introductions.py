"""``vorstellen``: the bot introduces two people by DM; the other person may decline.

Both get the intro through the outbox (``bot.notify.tell``). A shared group DM or a new private
room with both is a later step (see docs/networking.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.actions import CommandAction
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking import profiles
from bot.networking.ranking import match_of
from bot.networking.topics import key
from bot.notify import tell
from bot.services.registration import person_ref
from bot.views import Button
from storage.models import Cohort, Person
from storage.models_networking import Introduction
from storage.uow import UnitOfWork

DECLINE = "vorstellen ablehnen"


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
    if other.id == requester.id:
        raise UserFacingError(N_("Sich selbst kann ich Ihnen nicht vorstellen."))
    if not profiles.visible_to(uow, cohort.id, other.id):
        raise UserFacingError(
            N_("{name} nimmt nicht am Jahrgang „{cohort}“ teil; ich kann Sie nur dort vorstellen."),
            name=other.display_name or "?",
            cohort=cohort.name,
        )
    earlier = uow.session.scalar(
        select(Introduction).where(
            Introduction.requester_person_id == requester.id,
            Introduction.other_person_id == other.id,
        )
    )
    if earlier is not None:
        raise UserFacingError(
            N_("Um diese Vorstellung haben Sie bereits gebeten ({name})."),
            name=other.display_name or "?",
        )
    subject = (topic or "").strip()[:200] or shared_topic(uow, requester, other)
    intro = Introduction(
        cohort_id=cohort.id,
        requester_person_id=requester.id,
        other_person_id=other.id,
        topic=subject,
        created_at=now,
    )
    uow.session.add(intro)
    uow.session.flush()
    to_other = (
        N_(
            "Darf ich vorstellen: {name} ({municipality}) möchte sich mit Ihnen über „{topic}“ "
            "austauschen. Schreiben Sie {name} einfach direkt an – oder antworten Sie "
            "„vorstellen ablehnen“, wenn es gerade nicht passt."
        )
        if subject
        else N_(
            "Darf ich vorstellen: {name} ({municipality}) möchte sich mit Ihnen austauschen. "
            "Schreiben Sie {name} einfach direkt an – oder antworten Sie „vorstellen "
            "ablehnen“, wenn es gerade nicht passt."
        )
    )
    to_requester = (
        N_(
            "Ich habe Sie {name} ({municipality}) vorgestellt, Thema „{topic}“. Schreiben Sie "
            "{name} gern direkt an."
        )
        if subject
        else N_(
            "Ich habe Sie {name} ({municipality}) vorgestellt. Schreiben Sie {name} gern direkt an."
        )
    )
    tell(
        uow,
        other,
        to_other,
        now=now,
        default_language=default_language,
        key=f"intro:{intro.id}:{other.id}",
        # The button names the requester: with two open introductions it declines this one.
        buttons=(
            Button(
                N_("Lieber nicht"),
                CommandAction(DECLINE, (person_ref(uow, requester),), other.id),
            ),
        ),
        name=requester.display_name or "?",
        municipality=requester.municipality or "—",
        topic=subject,
    )
    tell(
        uow,
        requester,
        to_requester,
        now=now,
        default_language=default_language,
        key=f"intro:{intro.id}:{requester.id}",
        name=other.display_name or "?",
        municipality=other.municipality or "—",
        topic=subject,
    )
    return intro


def decline(
    uow: UnitOfWork,
    person: Person,
    *,
    requester: Person | None = None,
    now: datetime,
    default_language: str,
) -> Person:
    """Decline the introduction by ``requester`` (default: the latest) to ``person``; the
    requester hears only that."""
    query = select(Introduction).where(
        Introduction.other_person_id == person.id, Introduction.declined_at.is_(None)
    )
    if requester is not None:
        query = query.where(Introduction.requester_person_id == requester.id)
    intro = uow.session.scalar(
        query.order_by(Introduction.created_at.desc(), Introduction.id.desc()).limit(1)
    )
    if intro is None:
        raise UserFacingError(N_("Es gibt keine offene Vorstellung, die Sie ablehnen könnten."))
    intro.declined_at = now
    requester = uow.persons.get(intro.requester_person_id)
    assert requester is not None
    tell(
        uow,
        requester,
        N_(
            "{name} kann sich gerade leider nicht austauschen. Vielleicht passt jemand anderes: "
            "„wer kennt sich aus mit …“."
        ),
        now=now,
        default_language=default_language,
        key=f"intro-declined:{intro.id}",
        name=person.display_name or "?",
    )
    uow.session.flush()
    return requester
