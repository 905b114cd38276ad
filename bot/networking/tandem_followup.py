"""After ``tandems starten``: the nudge halfway, "Haben Sie sich ausgetauscht?" at the deadline,
the members' answers and the organisers' rate.

Both messages are due rows (``bot.scheduling.due``) of the round's cohort, so closing the cohort
cancels them with every other pending row; each handler reads the round and its answers when
it runs (someone who has answered already is neither nudged nor asked). The answers are kept
per member and round; the organisers see counts and the insights sorted by text, without names
unless the person allowed it (``tandem namen ja``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.actions import CommandAction
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.notify import tell
from bot.scheduling.due import DueContext, schedule
from bot.views import Button
from storage.models import Person
from storage.models_networking import TandemAnswer, TandemMember, TandemRound
from storage.uow import UnitOfWork

KIND_NUDGE = "tandem_nudge"
KIND_ASK = "tandem_ask"
MIN_NUDGE_SPAN = timedelta(days=2)  # a shorter round gets no nudge halfway, only the question
MAX_INSIGHT = 300

NUDGE = N_(
    "Kurze Erinnerung zu Ihrem Tandem: Haben Sie schon einen Termin mit {partners}? "
    "Ihr Austausch läuft bis {due}; ein Telefonat von 30 Minuten genügt."
)
ASK = N_(
    "Ihre Tandem-Runde {number} ist zu Ende. Haben Sie sich mit {partners} ausgetauscht? "
    "Antworten Sie mit den Knöpfen oder mit „tandem ja Ihre Erkenntnis in einem Satz“ bzw. "
    "„tandem nein“."
)
ASK_NOTE = N_(
    "Das Programmteam sieht, wie viele Tandems sich ausgetauscht haben, und Ihre Erkenntnis "
    "ohne Ihren Namen – mit Namen nur, wenn Sie „tandem namen ja“ schreiben."
)


def schedule_followup(uow: UnitOfWork, tandem_round: TandemRound, now: datetime) -> None:
    """The round's two due rows: the nudge halfway (rounds of two days or more) and the
    question at the deadline. Ids only; the texts are made when they are due."""
    target = {"round_id": tandem_round.id}
    span = tandem_round.due_at - now
    if span >= MIN_NUDGE_SPAN:
        schedule(
            uow,
            key=f"tandem-nudge:{tandem_round.id}",
            due_at=now + span / 2,
            kind=KIND_NUDGE,
            now=now,
            cohort_id=tandem_round.cohort_id,
            target=target,
        )
    schedule(
        uow,
        key=f"tandem-ask:{tandem_round.id}",
        due_at=max(tandem_round.due_at, now),
        kind=KIND_ASK,
        now=now,
        cohort_id=tandem_round.cohort_id,
        target=target,
    )


def groups_of(uow: UnitOfWork, round_id: int) -> list[list[Person]]:
    groups: dict[int, list[Person]] = {}
    for member in uow.session.scalars(
        select(TandemMember)
        .where(TandemMember.round_id == round_id)
        .order_by(TandemMember.group_no, TandemMember.id)
    ):
        person = uow.persons.get(member.person_id)
        if person is not None and person.erased_at is None:
            groups.setdefault(member.group_no, []).append(person)
    return list(groups.values())


def _answered(uow: UnitOfWork, round_id: int) -> set[int]:
    return set(
        uow.session.scalars(select(TandemAnswer.person_id).where(TandemAnswer.round_id == round_id))
    )


def _partners(group: list[Person], person: Person) -> str:
    return ", ".join(o.display_name or "?" for o in group if o.id != person.id)


def _due_round(due: DueContext) -> TandemRound | None:
    tandem_round = due.uow.session.get(TandemRound, int(due.reminder.target.get("round_id", 0)))
    if tandem_round is None:
        return None
    cohort = due.uow.cohorts.get(tandem_round.cohort_id)
    return tandem_round if cohort is not None and cohort.ended_at is None else None


def nudge(due: DueContext) -> None:
    """Halfway: each member who has not answered yet is asked whether a date is set."""
    tandem_round = _due_round(due)
    if tandem_round is None:
        return
    answered = _answered(due.uow, tandem_round.id)
    due_day = tandem_round.due_at.astimezone(due.settings.tz).strftime("%d.%m.%Y")
    for group in groups_of(due.uow, tandem_round.id):
        for person in group:
            if person.id in answered or len(group) < 2:
                continue
            tell(
                due.uow,
                person,
                NUDGE,
                now=due.now,
                default_language=due.settings.language,
                key=f"tandem-nudge:{tandem_round.id}:{person.id}",
                partners=_partners(group, person),
                due=due_day,
            )


def ask(due: DueContext) -> None:
    """At the deadline: each member who has not answered yet gets the question with buttons."""
    tandem_round = _due_round(due)
    if tandem_round is None:
        return
    answered = _answered(due.uow, tandem_round.id)
    for group in groups_of(due.uow, tandem_round.id):
        for person in group:
            if person.id in answered or len(group) < 2:
                continue
            buttons = (
                Button(N_("Ja"), CommandAction("tandem", ("ja",), person.id), "primary"),
                Button(N_("Nein"), CommandAction("tandem", ("nein",), person.id)),
            )
            tell(
                due.uow,
                person,
                ASK,
                now=due.now,
                default_language=due.settings.language,
                key=f"tandem-ask:{tandem_round.id}:{person.id}",
                buttons=buttons,
                note=ASK_NOTE,
                number=tandem_round.number,
                partners=_partners(group, person),
            )


def round_of(uow: UnitOfWork, cohort_id: int, person_id: int) -> TandemRound:
    """The latest round of the cohort the person is a member of."""
    found = uow.session.scalar(
        select(TandemRound)
        .join(TandemMember, TandemMember.round_id == TandemRound.id)
        .where(TandemRound.cohort_id == cohort_id, TandemMember.person_id == person_id)
        .order_by(TandemRound.number.desc())
        .limit(1)
    )
    if found is None:
        raise UserFacingError(
            N_(
                "Sie sind in keiner Tandem-Runde dieses Jahrgangs. Tandems bildet das "
                "Programmteam mit „tandems starten“."
            )
        )
    return found


def answer(
    uow: UnitOfWork,
    *,
    cohort_id: int,
    person: Person,
    met: bool,
    insight: str | None,
    named: bool | None = None,
) -> tuple[TandemRound, TandemAnswer]:
    """Store (or replace) the person's answer for their latest round. ``named`` None keeps
    what they said before (new answers: without name)."""
    insight = " ".join((insight or "").split()) or None
    if insight is not None and len(insight) > MAX_INSIGHT:
        raise UserFacingError(
            N_(
                "Ihre Erkenntnis ist zu lang ({length} Zeichen); bitte in einem Satz, höchstens "
                "{limit} Zeichen. Es wurde nichts gespeichert."
            ),
            length=len(insight),
            limit=MAX_INSIGHT,
        )
    tandem_round = round_of(uow, cohort_id, person.id)
    row = _answer_of(uow, tandem_round.id, person.id)
    if row is None:
        row = TandemAnswer(round_id=tandem_round.id, person_id=person.id, named=False)
        uow.session.add(row)
    row.met, row.insight = met, insight
    if named is not None:
        row.named = named
    uow.session.flush()
    return tandem_round, row


def set_named(uow: UnitOfWork, *, cohort_id: int, person: Person, named: bool) -> TandemAnswer:
    tandem_round = round_of(uow, cohort_id, person.id)
    row = _answer_of(uow, tandem_round.id, person.id)
    if row is None:
        raise UserFacingError(
            N_(
                "Sie haben zu Tandem-Runde {number} noch nicht geantwortet. Zuerst: „tandem ja "
                "Ihre Erkenntnis“ oder „tandem nein“."
            ),
            number=tandem_round.number,
        )
    row.named = named
    return row


def _answer_of(uow: UnitOfWork, round_id: int, person_id: int) -> TandemAnswer | None:
    return uow.session.scalar(
        select(TandemAnswer).where(
            TandemAnswer.round_id == round_id, TandemAnswer.person_id == person_id
        )
    )


@dataclass(frozen=True)
class Insight:
    text: str
    met: bool
    name: str | None  # only when the person allowed it


@dataclass(frozen=True)
class RoundStatus:
    tandems: int
    met: int  # tandems in which at least one member answered "ja"
    members: int
    answers: int
    yes: int
    no: int
    insights: tuple[Insight, ...]  # sorted by text: no order of arrival


def status(uow: UnitOfWork, tandem_round: TandemRound) -> RoundStatus:
    groups = groups_of(uow, tandem_round.id)
    answers = {
        a.person_id: a
        for a in uow.session.scalars(
            select(TandemAnswer).where(TandemAnswer.round_id == tandem_round.id)
        )
    }
    names = {p.id: p.display_name or "?" for g in groups for p in g}
    met = sum(1 for g in groups if any(answers.get(p.id) and answers[p.id].met for p in g))
    insights = sorted(
        (
            Insight(a.insight, a.met, names.get(a.person_id) if a.named else None)
            for a in answers.values()
            if a.insight and a.person_id in names
        ),
        key=lambda i: (i.text.casefold(), i.name or ""),
    )
    counted = [a for a in answers.values() if a.person_id in names]
    return RoundStatus(
        tandems=len(groups),
        met=met,
        members=len(names),
        answers=len(counted),
        yes=sum(1 for a in counted if a.met),
        no=sum(1 for a in counted if not a.met),
        insights=tuple(insights),
    )
