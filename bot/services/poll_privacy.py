"""DSGVO hooks of the topics and polls feature: what ``meine-daten`` shows, what erasure removes.

For anonymous polls only the fact "abgestimmt" is shown, and only while the poll is open (the
ballot↔voter link is deleted at close, so afterwards nothing about the vote is stored).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from storage.models import Cohort, Poll, PollOption, Vote
from storage.models_polls import PollBallot, Topic
from storage.uow import UnitOfWork


def export_person(uow: UnitOfWork, person_id: int) -> dict[str, Any]:
    s = uow.session
    cohorts = {c.id: c.name for c in s.scalars(select(Cohort))}
    topics = [
        {
            "jahrgang": cohorts.get(t.cohort_id),
            "thema": t.number,
            "titel": t.title,
            "beschreibung": t.description,
            "status": t.status,
            "vorgeschlagen": t.created_at.isoformat(),
        }
        for t in s.scalars(
            select(Topic).where(Topic.proposed_by_person_id == person_id).order_by(Topic.id)
        )
    ]
    created = [
        {"jahrgang": cohorts.get(p.cohort_id), "umfrage": p.number, "frage": p.question}
        for p in s.scalars(
            select(Poll).where(Poll.created_by_person_id == person_id).order_by(Poll.id)
        )
    ]
    votes: list[dict[str, Any]] = []
    for poll in s.scalars(
        select(Poll)
        .join(PollBallot, PollBallot.poll_id == Poll.id)
        .where(PollBallot.person_id == person_id)
        .order_by(Poll.id)
    ):
        entry: dict[str, Any] = {
            "jahrgang": cohorts.get(poll.cohort_id),
            "umfrage": poll.number,
            "frage": poll.question,
        }
        if poll.anonymous:
            entry["stimme"] = "abgestimmt"
        else:
            entry["stimme"] = list(
                s.scalars(
                    select(PollOption.label)
                    .join(Vote, Vote.option_id == PollOption.id)
                    .where(Vote.poll_id == poll.id, Vote.person_id == person_id)
                    .order_by(PollOption.position)
                )
            )
        votes.append(entry)
    return {"themenvorschlaege": topics, "umfragen_angelegt": created, "umfrage_stimmen": votes}


def erase_person(uow: UnitOfWork, person_id: int, pseudonym: str) -> None:
    """Votes stay only as counts; proposals and polls lose their author."""
    s = uow.session
    s.execute(update(Vote).where(Vote.person_id == person_id).values(person_id=None))
    s.execute(
        update(Topic)
        .where(Topic.proposed_by_person_id == person_id)
        .values(proposed_by_person_id=None)
    )
    s.execute(
        update(Poll).where(Poll.created_by_person_id == person_id).values(created_by_person_id=None)
    )
    for ballot in s.scalars(select(PollBallot).where(PollBallot.person_id == person_id)):
        s.delete(ballot)
    s.flush()
