"""Who is asking, in which cohort, in which role — read for every request.

In a channel the cohort, the caller and their participation come in one query
(:func:`in_channel`); in a DM the caller's own cohort, or the only active one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, select

from bot.context import Request, Role
from storage.models import ChannelBinding, Cohort, Participant, Person, PlatformIdentity
from storage.uow import UnitOfWork

# Built once (the expression costs more Python than running it), run with the request's values.
CALLER_IN_CHANNEL = (
    select(Cohort, Person, Participant)
    .select_from(ChannelBinding)
    .join(Cohort, Cohort.id == ChannelBinding.cohort_id)
    .outerjoin(
        PlatformIdentity,
        and_(
            PlatformIdentity.platform == bindparam("platform"),
            PlatformIdentity.external_id == bindparam("external_id"),
        ),
    )
    .outerjoin(Person, Person.id == PlatformIdentity.person_id)
    .outerjoin(
        Participant,
        and_(
            Participant.cohort_id == Cohort.id,
            Participant.person_id == PlatformIdentity.person_id,
        ),
    )
    .where(ChannelBinding.platform == bindparam("binding_platform"))
    .where(ChannelBinding.channel_id == bindparam("channel_id"))
    .limit(1)
)


@dataclass(frozen=True)
class Channel:
    """The channel's cohort and the caller's participation in it, read with the caller."""

    cohort: Cohort | None
    participant: Participant | None
    person: Person | None = None  # held: the session's identity map keeps weak references


def in_channel(uow: UnitOfWork, request: Request) -> Channel | None:
    """In a channel: its cohort, the caller (into the session) and their participation, in one
    query instead of three. None in a DM (see :func:`cohort_for`) and at first contact."""
    conv, who = request.conversation, request.identity
    if not conv.channel_id or conv.is_direct:
        return None
    row = uow.session.execute(
        CALLER_IN_CHANNEL,
        {
            "platform": who.platform,
            "external_id": who.external_id,
            "binding_platform": conv.platform,
            "channel_id": conv.channel_id,
        },
    ).first()
    if row is None:
        return Channel(None, None)
    if row[1] is None:
        return None  # first contact: read again once the person exists
    return Channel(row[0], row[2], row[1])


def cohort_for(uow: UnitOfWork, request: Request, person: Person) -> Cohort | None:
    """The channel's cohort; in a DM the caller's own, or the only active one; with none
    active, the caller's latest closed one."""
    conv = request.conversation
    if conv.channel_id and not conv.is_direct:
        return uow.cohorts.get_by_channel(conv.platform, conv.channel_id)
    active = {c.id: c for c in uow.cohorts.active()}
    mine = [
        p.cohort_id
        for p in uow.participants.of_person(person.id)
        if p.status not in ("withdrawn", "declined")
    ]
    own = [active[c] for c in mine if c in active]
    if len(own) == 1:
        return own[0]
    if active:
        return next(iter(active.values())) if len(active) == 1 else None
    # No cohort is running: a closed one stays readable in the DM (its reads, exports,
    # meine-daten; its writes are refused as closed): the caller's latest, or for organisers
    # the latest of all.
    ended = [c for c in (uow.session.get(Cohort, i) for i in mine) if c is not None]
    if not ended and person.is_organiser:
        ended = list(uow.session.scalars(select(Cohort).order_by(Cohort.id.desc()).limit(1)))
    return max(ended, key=lambda c: c.id) if ended else None


def role_of(uow: UnitOfWork, person: Person, cohort: Cohort | None) -> Role:
    if person.is_organiser or cohort is None:
        return role(person, cohort, None)
    return role(person, cohort, uow.participants.get(cohort.id, person.id))


def role(person: Person, cohort: Cohort | None, participant: Participant | None) -> Role:
    if person.is_organiser:
        return "organiser"
    if cohort is None or participant is None:
        return "outsider"
    if participant.status == "confirmed":
        return "host" if participant.is_host else "participant"
    if participant.status in ("waitlisted", "pending"):
        return "waitlisted"
    return "outsider"
