"""One person, several platforms: link a Slack and a Matrix identity with a one-time code."""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import InstrumentedAttribute

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.identity import Identity
from bot.services.audit import record
from storage.models import (
    Dialog,
    FeedbackResponse,
    KeyValue,
    Participant,
    Person,
    PlatformIdentity,
    Poll,
    Reminder,
    Vote,
)
from storage.models_feedback import FeedbackPresenter
from storage.models_meetings import Attendance
from storage.models_polls import PollBallot, PollCounter, Topic
from storage.uow import UnitOfWork

CODE_LIFETIME = timedelta(minutes=15)
ACTIVE = ("confirmed", "waitlisted", "pending")
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_code(uow: UnitOfWork, person: Person, now: datetime) -> str:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    uow.state.put(
        f"link:{code}",
        json.dumps({"person": person.id, "until": (now + CODE_LIFETIME).isoformat()}),
    )
    return code


def redeem(
    uow: UnitOfWork,
    person: Person,
    code: str,
    now: datetime,
    configured: Collection[Identity] = (),
) -> Person:
    """Merge ``person`` (the one typing the code) into the person who asked for the code.

    ``configured``: the organiser identities of STADTLABOR_ORGANIZERS. They are never linked:
    the start-up would make the merged person (the other account too) an organiser again."""
    key = f"link:{code.strip().upper()}"
    raw = uow.state.get(key)
    data = json.loads(raw) if raw else None
    if data is None or datetime.fromisoformat(data["until"]) < now:
        raise UserFacingError(
            N_(
                "Diesen Code kenne ich nicht, oder er ist abgelaufen (15 "
                "Minuten). Schreiben Sie „verknuepfen“ auf der anderen "
                "Plattform für einen neuen Code."
            )
        )
    uow.session.execute(delete(KeyValue).where(KeyValue.key == key))
    target = uow.persons.get(int(data["person"]))
    if target is None or target.erased_at is not None:
        raise UserFacingError(N_("Das Konto zu diesem Code gibt es nicht mehr."))
    if target.id == person.id:
        raise UserFacingError(N_("Diese beiden Konten sind bereits verknüpft."))
    fixed = {(i.platform, i.external_id) for i in configured}
    for side in (person, target):
        if any((i.platform, i.external_id) in fixed for i in uow.persons.identities_of(side.id)):
            raise UserFacingError(
                N_(
                    "Konten aus STADTLABOR_ORGANIZERS werden nicht verknüpft. Tragen Sie "
                    "stattdessen auch die andere Identität dort ein."
                )
            )
    _merge(uow, source=person, target=target, now=now)
    return target


def _merge(uow: UnitOfWork, *, source: Person, target: Person, now: datetime) -> None:
    """One person from two. Symmetric in what it grants: which side asked for the code and which
    typed it does not matter. A merge never raises a role (organiser, host city): the merged
    person keeps what *both* sides had; an organiser can grant more with ``rolle``/``gastgeber``
    (audited). The audit log is not rewritten: ``source`` stays as an empty record that past
    entries still name; the merge itself is one new entry."""
    s = uow.session
    organiser = source.is_organiser and target.is_organiser
    last = len(uow.persons.organisers()) == 1
    if (source.is_organiser or target.is_organiser) and not organiser and last:
        raise UserFacingError(
            N_(
                "Verknüpfte Konten behalten nur die Rechte, die beide haben – das "
                "Programmteam wäre danach leer. Ernennen Sie zuerst mit „rolle“ eine "
                "weitere Person, oder geben Sie beiden Konten die Rolle."
            )
        )
    moved_hosts = _merge_participations(uow, source=source, target=target)
    _merge_ballots(uow, source=source, target=target)
    # one row per person and meeting / round: the target's answer wins
    _move_keyed(uow, Attendance.person_id, Attendance.meeting_id, source.id, target.id)
    _move_keyed(uow, FeedbackPresenter.person_id, FeedbackPresenter.round_id, source.id, target.id)
    for model, column in (
        (Vote, Vote.person_id),
        (Reminder, Reminder.person_id),
        (FeedbackResponse, FeedbackResponse.author_person_id),
        (Poll, Poll.created_by_person_id),
        (Topic, Topic.proposed_by_person_id),
        (Participant, Participant.delegate_person_id),
    ):
        s.execute(update(model).where(column == source.id).values({column.key: target.id}))
    s.execute(delete(Dialog).where(Dialog.person_id == source.id))
    s.execute(
        update(PlatformIdentity)
        .where(PlatformIdentity.person_id == source.id)
        .values(person_id=target.id)
    )
    for attr in ("display_name", "email", "municipality", "function", "language"):
        if getattr(target, attr) is None:
            setattr(target, attr, getattr(source, attr))
        setattr(source, attr, None)  # the data lives on in one place: the merged person
    before = {
        "organisation": [source.is_organiser, target.is_organiser],
        "gastgeber": moved_hosts,
    }
    target.is_organiser, source.is_organiser = organiser, False
    # Past entries keep their actor: the emptied record stays, labelled by its number only.
    # erased_at: nothing personal is left in it, and nobody can act as it again (an open code
    # of the source now meets "gibt es nicht mehr").
    source.pseudonym, source.erased_at = f"#{source.id} → #{target.id}", now
    record(
        uow,
        actor_id=target.id,
        action="verknuepfen",
        now=now,
        subject_id=source.id,
        before=before,
        after={"organisation": organiser, "gastgeber": []},
    )
    s.flush()


def _merge_participations(uow: UnitOfWork, *, source: Person, target: Person) -> list[int]:
    """Move ``source``'s registrations to ``target``: one row per cohort, seats counted once.
    Both registered (confirmed, waitlisted or pending) in one cohort: refused. An active row
    wins over a withdrawn/declined one. The host flag is cleared on every row of either side
    that the merge touches (host city is granted to one account, not to whoever links to it);
    returns the cohorts where it was cleared."""
    s = uow.session
    own = {p.cohort_id: p for p in uow.participants.of_person(target.id)}
    theirs = uow.participants.of_person(source.id)
    for p in theirs:
        other = own.get(p.cohort_id)
        if other is not None and p.status in ACTIVE and other.status in ACTIVE:
            raise UserFacingError(
                N_(
                    "Beide Konten sind für denselben Jahrgang angemeldet. Bitte "
                    "melden Sie eines zuerst mit „abmelden“ ab."
                )
            )
    hosts: list[int] = []
    for p in theirs:
        other = own.get(p.cohort_id)
        if other is not None and p.status not in ACTIVE:
            s.delete(p)  # the target's row (active or not) stays
            continue
        if other is not None:  # only the source's row is active: it replaces the target's
            s.delete(other)
            s.flush()
        p.person_id = target.id
        if p.is_host:
            p.is_host = False
            hosts.append(p.cohort_id)
    for p in own.values():
        if p.is_host:
            p.is_host = False
            hosts.append(p.cohort_id)
    s.flush()
    return sorted(hosts)


def _merge_ballots(uow: UnitOfWork, *, source: Person, target: Person) -> None:
    """One person, one vote. Where both sides voted in a poll: while it is open the source's
    ballot is withdrawn (its votes and one ballot off the count); once closed the published
    result stays and the source's votes stay as counts without a person. The other ballots
    move to the target."""
    s = uow.session
    target_polls = set(
        s.scalars(select(PollBallot.poll_id).where(PollBallot.person_id == target.id))
    )
    for ballot in s.scalars(
        select(PollBallot).where(
            PollBallot.person_id == source.id, PollBallot.poll_id.in_(target_polls)
        )
    ).all():
        poll = s.get(Poll, ballot.poll_id)
        vote_ids = [int(v) for v in ballot.vote_ids or ()]
        if poll is not None and poll.closed_at is None:
            s.execute(delete(Vote).where(Vote.id.in_(vote_ids)))
            s.execute(
                update(PollCounter)
                .where(PollCounter.poll_id == ballot.poll_id)
                .values(version=PollCounter.version + 1, ballots=PollCounter.ballots - 1)
            )
        else:
            s.execute(update(Vote).where(Vote.id.in_(vote_ids)).values(person_id=None))
        s.delete(ballot)
    s.flush()
    s.execute(
        update(PollBallot).where(PollBallot.person_id == source.id).values(person_id=target.id)
    )


def _move_keyed(
    uow: UnitOfWork,
    person: InstrumentedAttribute[int],
    key: InstrumentedAttribute[int],
    source_id: int,
    target_id: int,
) -> None:
    """Re-point ``person`` from source to target in a table unique on (key, person)."""
    s, table = uow.session, person.class_
    taken = select(key).where(person == target_id).scalar_subquery()
    s.execute(delete(table).where(person == source_id, key.in_(taken)))
    s.execute(update(table).where(person == source_id).values({person.key: target_id}))
