"""``tandems starten``: pair the cohort's confirmed participants and introduce each tandem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.errors import UserFacingError
from bot.i18n import N_, translator
from bot.networking import profiles, tandem_followup
from bot.networking.matching import Member, Pair, pair_up, pairs_of
from bot.networking.topics import CURATED, canonical, fold_key, key, words_for
from bot.notify import tell
from storage.models import Cohort, Person
from storage.models_networking import Profile, TandemMember, TandemRound
from storage.uow import UnitOfWork

PROMPTS = (
    N_("Woran arbeitet Ihre Kommune gerade – und wo hakt es?"),
    N_("Was hat bei Ihnen funktioniert, das die andere Kommune ausprobieren könnte?"),
    N_("Was nehmen Sie sich bis zum nächsten Treffen vor?"),
)


WITH_TOPIC = N_(
    "Ihr Tandem bis {due}: {partners}. Gemeinsames Thema: {topic}. Drei Fragen für Ihr "
    "Gespräch: 1. {first} 2. {second} 3. {third} Verabreden Sie sich einfach direkt – ein "
    "Telefonat von 30 Minuten genügt."
)
WITHOUT_TOPIC = N_(
    "Ihr Tandem bis {due}: {partners}. Drei Fragen für Ihr Gespräch: 1. {first} 2. {second} "
    "3. {third} Verabreden Sie sich einfach direkt – ein Telefonat von 30 Minuten genügt."
)


@dataclass(frozen=True)
class Started:
    round: TandemRound
    groups: list[list[Person]]
    topics: list[str | None]  # per group: what they share, if anything
    unplaced: list[Person]


def vorhaben_topics(profile: Profile | None) -> frozenset[str]:
    """Curated topics named in the Vorhaben (by the topic or a synonym of five letters+)."""
    if profile is None:
        return frozenset()
    text = fold_key(" ".join(t for t in (profile.vorhaben_title, profile.vorhaben_goal) if t))
    return frozenset(
        key(topic)
        for topic in CURATED
        if any(len(key(w)) >= 5 and key(w) in text for w in words_for(topic))
    )


def _member(person_id: int, is_host: bool, profile: Profile | None) -> Member:
    if profile is None:
        return Member(person_id, is_host=is_host)
    return Member(
        person_id,
        frozenset(key(str(t)) for t in profile.topics),
        vorhaben_topics(profile),
        profile.size_class,
        is_host,
    )


def history(uow: UnitOfWork, cohort_id: int) -> set[Pair]:
    rows = uow.session.execute(
        select(TandemMember.round_id, TandemMember.group_no, TandemMember.person_id)
        .join(TandemRound, TandemRound.id == TandemMember.round_id)
        .where(TandemRound.cohort_id == cohort_id)
    )
    groups: dict[tuple[int, int], list[int]] = {}
    for round_id, group_no, person_id in rows:
        groups.setdefault((round_id, group_no), []).append(person_id)
    return pairs_of([tuple(g) for g in groups.values()])


def _shared(group: list[Person], by_id: dict[int, Profile | None]) -> str | None:
    """A topic all in the tandem bring, else one someone brings and another works on."""
    names: dict[str, str] = {}
    sets = []
    for person in group:
        profile = by_id.get(person.id)
        tags = [str(t) for t in (profile.topics if profile else [])]
        names.update({key(t): t for t in tags})
        sets.append({key(t) for t in tags})
    common = set.intersection(*sets) if sets else set()
    if common:
        return names[sorted(common)[0]]
    for person in group:
        wanted = vorhaben_topics(by_id.get(person.id))
        for other in group:
            if other.id != person.id and wanted & sets[group.index(other)]:
                return names[sorted(wanted & sets[group.index(other)])[0]]
    return None


def start(
    uow: UnitOfWork,
    *,
    cohort: Cohort,
    theme: str | None,
    due_at: datetime,
    now: datetime,
    default_language: str,
    tz: ZoneInfo,
) -> Started:
    # The cohort row lock serialises rounds (and registrations): two organisers starting at
    # once get rounds 1 and 2, the second avoiding the first's pairs.
    uow.cohorts.lock_for_seats(cohort.id)
    participants = uow.participants.in_cohort(cohort.id, "confirmed")
    if len(participants) < 2:
        raise UserFacingError(
            N_("Für Tandems braucht es mindestens zwei bestätigte Teilnehmende im Jahrgang.")
        )
    persons = {p.person_id: uow.persons.get(p.person_id) for p in participants}
    by_id = {pid: profiles.get(uow, pid) for pid in persons}
    members = [_member(p.person_id, p.is_host, by_id[p.person_id]) for p in participants]
    theme_text = canonical(theme)[0] if theme else None
    result = pair_up(members, history(uow, cohort.id), key(theme_text) if theme_text else None)
    number = (
        uow.session.scalar(
            select(func.max(TandemRound.number)).where(TandemRound.cohort_id == cohort.id)
        )
        or 0
    ) + 1
    tandem_round = TandemRound(
        cohort_id=cohort.id, number=number, theme=theme_text, due_at=due_at, created_at=now
    )
    uow.session.add(tandem_round)
    uow.session.flush()
    groups = [[p for pid in g if (p := persons[pid]) is not None] for g in result.groups]
    shared = [theme_text or _shared(g, by_id) for g in groups]
    for number_in_round, (group, topic) in enumerate(zip(groups, shared, strict=True), 1):
        for person in group:
            uow.session.add(
                TandemMember(
                    round_id=tandem_round.id, group_no=number_in_round, person_id=person.id
                )
            )
        _introduce(uow, tandem_round, group, topic, now=now, language=default_language, tz=tz)
    uow.session.flush()
    tandem_followup.schedule_followup(uow, tandem_round, now)
    unplaced = [p for pid in result.unplaced if (p := persons[pid]) is not None]
    return Started(tandem_round, groups, shared, unplaced)


def _introduce(
    uow: UnitOfWork,
    tandem_round: TandemRound,
    group: list[Person],
    topic: str | None,
    *,
    now: datetime,
    language: str,
    tz: ZoneInfo,
) -> None:
    for person in group:
        partners = ", ".join(
            f"{o.display_name or '?'} ({o.municipality or '–'})" for o in group if o.id != person.id
        )
        tell(
            uow,
            person,
            WITH_TOPIC if topic else WITHOUT_TOPIC,
            now=now,
            default_language=language,
            key=f"tandem:{tandem_round.id}:{person.id}",
            due=tandem_round.due_at.astimezone(tz).strftime("%d.%m.%Y"),
            partners=partners,
            topic=topic,
            first=_translated(person, language, PROMPTS[0]),
            second=_translated(person, language, PROMPTS[1]),
            third=_translated(person, language, PROMPTS[2]),
        )


def _translated(person: Person, default_language: str, msgid: str) -> str:
    return translator(person.language or default_language)(msgid)


def latest(uow: UnitOfWork, cohort_id: int) -> tuple[TandemRound, list[list[Person]]] | None:
    tandem_round = uow.session.scalar(
        select(TandemRound)
        .where(TandemRound.cohort_id == cohort_id)
        .order_by(TandemRound.number.desc())
        .limit(1)
    )
    if tandem_round is None:
        return None
    groups: dict[int, list[Person]] = {}
    for member in uow.session.scalars(
        select(TandemMember)
        .where(TandemMember.round_id == tandem_round.id)
        .order_by(TandemMember.group_no, TandemMember.id)
    ):
        person = uow.persons.get(member.person_id)
        if person is not None:
            groups.setdefault(member.group_no, []).append(person)
    return tandem_round, list(groups.values())
