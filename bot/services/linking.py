"""One person, several platforms: link a Slack and a Matrix identity with a one-time code."""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.identity import Identity
from bot.services.audit import record
from storage.models import Person
from storage.ports import UnitOfWorkPort

CODE_LIFETIME = timedelta(minutes=15)
ACTIVE = ("confirmed", "waitlisted", "pending")
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_code(uow: UnitOfWorkPort, person: Person, now: datetime) -> str:
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    uow.state.put(
        f"link:{code}",
        json.dumps({"person": person.id, "until": (now + CODE_LIFETIME).isoformat()}),
    )
    return code


def redeem(
    uow: UnitOfWorkPort,
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
    uow.state.delete(key)
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


def _merge(uow: UnitOfWorkPort, *, source: Person, target: Person, now: datetime) -> None:
    """One person from two. Symmetric in what it grants: which side asked for the code and which
    typed it does not matter. A merge never raises a role (organiser, host city): the merged
    person keeps what *both* sides had; an organiser can grant more with ``rolle``/``gastgeber``
    (audited). The audit log is not rewritten: ``source`` stays as an empty record that past
    entries still name; the merge itself is one new entry."""
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
    # one vote per poll; the other rows that name the source (attendance, presenters, votes,
    # reminders, answers, delegations, identities) move to the target
    uow.accounts.merge_ballots(source.id, target.id)
    uow.accounts.reassign(source.id, target.id)
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


def _merge_participations(uow: UnitOfWorkPort, *, source: Person, target: Person) -> list[int]:
    """Move ``source``'s registrations to ``target``: one row per cohort, seats counted once.
    Both registered (confirmed, waitlisted or pending) in one cohort: refused. An active row
    wins over a withdrawn/declined one. The host flag is cleared on every row of either side
    that the merge touches (host city is granted to one account, not to whoever links to it);
    returns the cohorts where it was cleared."""
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
            uow.participants.remove(p)  # the target's row (active or not) stays
            continue
        if other is not None:  # only the source's row is active: it replaces the target's
            uow.participants.remove(other)
        p.person_id = target.id
        if p.is_host:
            p.is_host = False
            hosts.append(p.cohort_id)
    for p in own.values():
        if p.is_host:
            p.is_host = False
            hosts.append(p.cohort_id)
    return sorted(hosts)
