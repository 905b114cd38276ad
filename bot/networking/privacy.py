"""The networking data as a personal-data store (see bot.services.privacy.PersonalData)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select

from bot.networking.introductions import state_of
from storage.models_networking import (
    CheckinAnswer,
    Introduction,
    Profile,
    TandemAnswer,
    TandemMember,
    TandemRound,
)
from storage.uow import UnitOfWork


def export_person(uow: UnitOfWork, person_id: int, now: datetime) -> dict[str, Any]:
    """Their profile, the introductions they asked for or received (topic and dates), their
    tandem places and answers, and their Vorhaben check-ins."""
    profile = uow.session.get(Profile, person_id)
    data: dict[str, Any] = {}
    if profile is not None:
        data["profil"] = {
            "groesse": profile.size_class,
            "groesse_quelle": profile.size_source,
            "themen": list(profile.topics),
            "vorhaben": profile.vorhaben_title,
            "ziel": profile.vorhaben_goal,
            "stand": profile.vorhaben_stage,
            "geaendert": profile.updated_at.isoformat(),
        }
    intros = [
        _introduction(i, person_id, now)
        for i in uow.session.scalars(
            select(Introduction).where(_involves(person_id)).order_by(Introduction.id)
        )
    ]
    if intros:
        data["vorstellungen"] = intros
    rounds = [
        {"runde": r.number, "thema": r.theme, "bis": r.due_at.isoformat()}
        for r in uow.session.scalars(
            select(TandemRound)
            .join(TandemMember, TandemMember.round_id == TandemRound.id)
            .where(TandemMember.person_id == person_id)
            .order_by(TandemRound.id)
        )
    ]
    if rounds:
        data["tandems"] = rounds
    answers = [
        {"runde": number, "ausgetauscht": a.met, "erkenntnis": a.insight, "mit_namen": a.named}
        for a, number in uow.session.execute(
            select(TandemAnswer, TandemRound.number)
            .join(TandemRound, TandemRound.id == TandemAnswer.round_id)
            .where(TandemAnswer.person_id == person_id)
            .order_by(TandemRound.id)
        )
    ]
    if answers:
        data["tandem_antworten"] = answers
    checkins = [
        {
            "monat": c.period,
            "fortschritt": c.progress,
            "hindernis": c.obstacle,
            "hilfe": c.help,
            "geteilt": c.shared,
            "am": c.answered_at.isoformat(),
        }
        for c in uow.session.scalars(
            select(CheckinAnswer)
            .where(CheckinAnswer.person_id == person_id)
            .order_by(CheckinAnswer.period, CheckinAnswer.id)
        )
    ]
    if checkins:
        data["checkins"] = checkins
    return data


def erase_person(
    uow: UnitOfWork, person_id: int, pseudonym: str, *, keep_profile: bool = False
) -> None:
    """Drop the profile, every introduction, tandem place, tandem answer and Vorhaben
    check-in of the person (``keep_profile``: all but the profile, for an opted-in alumnus
    at the retention purge)."""
    uow.session.execute(delete(CheckinAnswer).where(CheckinAnswer.person_id == person_id))
    uow.session.execute(delete(TandemAnswer).where(TandemAnswer.person_id == person_id))
    uow.session.execute(delete(TandemMember).where(TandemMember.person_id == person_id))
    uow.session.execute(delete(Introduction).where(_involves(person_id)))
    if not keep_profile:
        uow.session.execute(delete(Profile).where(Profile.person_id == person_id))
    uow.session.flush()


def _introduction(intro: Introduction, person_id: int, now: datetime) -> dict[str, Any]:
    """One introduction as the person may see it. The requester learns no more than the
    bot told them: a declined request shows as "nicht zustande gekommen", like an expired
    one, without the decline's date (that is the other person's)."""
    asked = intro.requester_person_id == person_id
    state = state_of(intro, now)
    if asked and state in ("abgelehnt", "abgelaufen"):
        state = "nicht zustande gekommen"
    entry: dict[str, Any] = {
        "rolle": "angefragt" if asked else "angefragt von jemandem",
        "thema": intro.topic,
        "am": intro.created_at.isoformat(),
        "stand": state,
    }
    if not asked and intro.declined_at is not None:
        entry["abgelehnt"] = intro.declined_at.isoformat()
    if intro.accepted_at is not None:
        entry["angenommen"] = intro.accepted_at.isoformat()
        entry["unterhaltung"] = intro.conversation_platform
    return entry


def _involves(person_id: int) -> Any:
    return or_(
        Introduction.requester_person_id == person_id,
        Introduction.other_person_id == person_id,
    )
