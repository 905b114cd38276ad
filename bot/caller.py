"""Who is asking, in which cohort, in which role — read for every request.

In a channel the cohort, the caller and their participation come in one query
(:func:`in_channel`); in a DM the caller's own cohort, or the only active one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import Request, Role
from storage.models import Cohort, Participant, Person, PlatformIdentity
from storage.ports import UnitOfWorkPort


@dataclass(frozen=True)
class Channel:
    """The channel's cohort and the caller's participation in it, read with the caller."""

    cohort: Cohort | None
    participant: Participant | None
    person: Person | None = None  # held: the session's identity map keeps weak references
    identity: PlatformIdentity | None = None  # the caller's, read in the same query


def in_channel(uow: UnitOfWorkPort, request: Request) -> Channel | None:
    """In a channel: its cohort, the caller (into the session) and their participation, in one
    query instead of three. None in a DM (see :func:`cohort_for`) and at first contact."""
    conv, who = request.conversation, request.identity
    if not conv.channel_id or conv.is_direct:
        return None
    row = uow.cohorts.caller_in_channel(
        who.platform, who.external_id, conv.platform, conv.channel_id
    )
    if row is None:
        return Channel(None, None)
    if row[1] is None:
        return None  # first contact: read again once the person exists
    return Channel(row[0], row[2], row[1], row[3])


def cohort_for(uow: UnitOfWorkPort, request: Request, person: Person) -> Cohort | None:
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
    ended = [c for c in (uow.cohorts.get(i) for i in mine) if c is not None]
    if not ended and person.is_organiser:
        latest = uow.cohorts.latest()
        ended = [latest] if latest is not None else []
    return max(ended, key=lambda c: c.id) if ended else None


def role_of(uow: UnitOfWorkPort, person: Person, cohort: Cohort | None) -> Role:
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
