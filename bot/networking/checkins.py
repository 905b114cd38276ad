"""Vorhaben check-ins: once a month each confirmed participant with a Vorhaben is asked how it
is going (progress, obstacle, what would help); non-responders are nudged once; before each
meeting the organisers get a digest of all Vorhaben with their latest check-in.

The schedule is two due rows of the cohort (``bot.scheduling.due``), the database being the
truth: ``checkin:COHORT`` (kind ``checkin_ask``, a monthly rule in local time, default the first
Monday 09:00) and ``checkin-digest:COHORT`` (``checkin_digest``, daily 08:00: it sends the digest
once per meeting that starts within the next week, the outbox key making it once). Each ask
schedules its one nudge ``checkin-nudge:COHORT:PERIOD`` a week later. Closing the cohort cancels
all of them with every other pending row of the cohort.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.networking import checkin_views as views
from bot.networking import profiles
from bot.networking.checkin_views import Entry
from bot.outbox import dm_person
from bot.router import fold
from bot.scheduling.due import DueContext, cancel, schedule
from bot.scheduling.recurrence import next_occurrence, parse_recurring
from bot.settings import Settings
from storage.models import Person, Reminder
from storage.models_networking import CheckinAnswer, Profile
from storage.uow import UnitOfWork

KIND_ASK = "checkin_ask"
KIND_NUDGE = "checkin_nudge"
KIND_DIGEST = "checkin_digest"
DEFAULT_DAY = "jeden ersten Montag im Monat 9:00"
DIGEST_RULE = "daily@08:00"
NUDGE_AFTER = timedelta(days=7)
DIGEST_AHEAD = timedelta(days=7)
MAX_ANSWER = views.MAX_ANSWER

_ORDINAL = {
    "erster": "ersten", "erste": "ersten", "ersten": "ersten", "zweiter": "zweiten",
    "zweite": "zweiten", "zweiten": "zweiten", "dritter": "dritten", "dritte": "dritten",
    "dritten": "dritten", "vierter": "vierten", "vierte": "vierten", "vierten": "vierten",
    "letzter": "letzten", "letzte": "letzten", "letzten": "letzten", "first": "first",
    "second": "second", "third": "third", "fourth": "fourth", "last": "last",
}  # fmt: skip
_MONTH = re.compile(r"\b(?:monat|monats|month)\b", re.IGNORECASE)
MONTHLY_ONLY = N_(
    "Check-ins sind monatlich. Bitte z. B. „checkin tag erster montag 9:00“ oder "
    "„checkin tag letzter freitag 14 Uhr“ – oder „checkin tag aus“."
)


def ask_key(cohort_id: int) -> str:
    return f"checkin:{cohort_id}"


def digest_key(cohort_id: int) -> str:
    return f"checkin-digest:{cohort_id}"


def parse_day(text: str, *, now: datetime, tz: str) -> tuple[str, datetime]:
    """'erster montag 9:00' → the monthly rule and its first occurrence; anything that is not
    one weekday a month is refused (never guessed)."""
    words = text.split()
    if words and fold(words[0]) in ("jeden", "jede", "every", "am", "the"):
        words = words[1:]
    if len(words) < 2 or fold(words[0]) not in _ORDINAL:
        raise UserFacingError(MONTHLY_ONLY)
    words[0] = _ORDINAL[fold(words[0])]
    phrase = " ".join(words)
    if not _MONTH.search(phrase):
        phrase = " ".join([words[0], words[1], "im Monat", *words[2:]])
    rule, first = parse_recurring("jeden " + phrase, now=now, tz=tz)
    if "FREQ=MONTHLY" not in rule:
        raise UserFacingError(MONTHLY_ONLY)
    return rule, first


def set_day(
    uow: UnitOfWork, cohort_id: int, text: str | None, *, now: datetime, tz: str
) -> Reminder:
    """Switch the cohort's check-ins on (again) on ``text``'s day, default the first Monday."""
    rule, first = parse_day(text or DEFAULT_DAY, now=now, tz=tz)
    for key, kind, recurrence, due_at in (
        (ask_key(cohort_id), KIND_ASK, rule, first),
        (digest_key(cohort_id), KIND_DIGEST, DIGEST_RULE, next_occurrence(DIGEST_RULE, now, tz)),
    ):
        uow.reminders.reopen(key)
        row = schedule(
            uow,
            key=key,
            due_at=due_at,
            kind=kind,
            now=now,
            cohort_id=cohort_id,
            target={"cohort_id": cohort_id},
            recurrence=recurrence,
        )
        if key == ask_key(cohort_id):
            ask_row = row
    return ask_row


def stop(uow: UnitOfWork, cohort_id: int) -> bool:
    """Switch the cohort's check-ins off (the pending nudge of this month too)."""
    stopped = cancel(uow, ask_key(cohort_id)) + cancel(uow, digest_key(cohort_id))
    cancel(uow, f"checkin-nudge:{cohort_id}:")
    return stopped > 0


def schedule_of(uow: UnitOfWork, cohort_id: int) -> Reminder | None:
    row = uow.reminders.by_key(ask_key(cohort_id))
    return row if row is not None and row.status == "pending" else None


def period_of(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.tz).strftime("%Y-%m")


def with_vorhaben(uow: UnitOfWork, cohort_id: int) -> list[tuple[Person, Profile]]:
    """Confirmed participants of the cohort whose profile names a Vorhaben, by name."""
    found = [
        (person, profile)
        for person, profile in profiles.of_cohort(uow, cohort_id)
        if profile.vorhaben_title and person.erased_at is None
    ]
    return sorted(found, key=lambda pair: ((pair[0].display_name or "").casefold(), pair[0].id))


def answer_of(uow: UnitOfWork, cohort_id: int, person_id: int, period: str) -> CheckinAnswer | None:
    return uow.session.scalar(
        select(CheckinAnswer).where(
            CheckinAnswer.cohort_id == cohort_id,
            CheckinAnswer.person_id == person_id,
            CheckinAnswer.period == period,
        )
    )


def latest_of(
    uow: UnitOfWork, cohort_id: int, person_id: int, *, shared_only: bool = False
) -> CheckinAnswer | None:
    query = select(CheckinAnswer).where(
        CheckinAnswer.cohort_id == cohort_id, CheckinAnswer.person_id == person_id
    )
    if shared_only:
        query = query.where(CheckinAnswer.shared.is_(True))
    return uow.session.scalar(query.order_by(CheckinAnswer.period.desc()).limit(1))


def check_may_answer(uow: UnitOfWork, cohort_id: int, person: Person) -> Profile:
    profile = profiles.get(uow, person.id)
    confirmed = uow.participants.get(cohort_id, person.id)
    if confirmed is None or confirmed.status != "confirmed":
        raise UserFacingError(N_("Check-ins sind für bestätigte Teilnehmende des Jahrgangs."))
    if profile is None or not profile.vorhaben_title:
        raise UserFacingError(
            N_(
                "In Ihrem Profil steht noch kein Vorhaben. Tragen Sie es zuerst ein, z. B. "
                'profil aendern vorhaben="Seniorenbüro im Rathaus" stand=Planung'
            )
        )
    return profile


@dataclass(frozen=True)
class Answers:
    progress: str
    obstacle: str
    help: str

    def checked(self) -> Answers:
        values = [" ".join(v.split()) for v in (self.progress, self.obstacle, self.help)]
        if not all(values):
            raise UserFacingError(
                N_(
                    "Bitte beantworten Sie alle drei Fragen (ein „-“ genügt, wenn es nichts "
                    "zu sagen gibt). Es wurde nichts gespeichert."
                )
            )
        if any(len(v) > MAX_ANSWER for v in values):
            raise UserFacingError(
                N_("Bitte je Antwort höchstens {limit} Zeichen. Es wurde nichts gespeichert."),
                limit=MAX_ANSWER,
            )
        return Answers(*values)


def save(
    uow: UnitOfWork,
    *,
    cohort_id: int,
    person: Person,
    answers: Answers,
    shared: bool | None,
    now: datetime,
    settings: Settings,
) -> CheckinAnswer:
    """This month's check-in (replaced when given again). ``shared`` None keeps the choice."""
    check_may_answer(uow, cohort_id, person)
    answers = answers.checked()
    period = period_of(now, settings)
    row = answer_of(uow, cohort_id, person.id, period)
    if row is None:
        row = CheckinAnswer(cohort_id=cohort_id, person_id=person.id, period=period, shared=False)
        uow.session.add(row)
    row.progress, row.obstacle, row.help = answers.progress, answers.obstacle, answers.help
    row.answered_at = now
    if shared is not None:
        row.shared = shared
    uow.session.flush()
    return row


def set_shared(uow: UnitOfWork, cohort_id: int, person: Person, shared: bool) -> CheckinAnswer:
    row = latest_of(uow, cohort_id, person.id)
    if row is None:
        raise UserFacingError(
            N_("Sie haben noch keinen Check-in gegeben. Antworten: checkin (öffnet die Fragen)")
        )
    row.shared = shared
    return row


# --- due work ------------------------------------------------------------------------------


def _open_cohort(due: DueContext) -> int | None:
    cohort = due.uow.cohorts.get(int(due.reminder.target.get("cohort_id", 0)))
    return cohort.id if cohort is not None and cohort.ended_at is None else None


def _next(due: DueContext) -> None:
    row = due.reminder
    if row.recurrence:
        after = max(due.now, row.due_at)
        row.due_at = next_occurrence(row.recurrence, after, due.settings.timezone)
        row.status = "pending"


def ask(due: DueContext) -> None:
    """The monthly question to everyone with a Vorhaben, and the nudge a week later."""
    cohort_id = _open_cohort(due)
    if cohort_id is None:
        return
    asked_at = due.reminder.due_at
    _next(due)  # (late after downtime it is still asked: a check-in a day late is fine)
    period = period_of(asked_at, due.settings)
    _ask_unanswered(due, cohort_id, period, nudge=False)
    schedule(
        due.uow,
        key=f"checkin-nudge:{cohort_id}:{period}",
        due_at=asked_at + NUDGE_AFTER,
        kind=KIND_NUDGE,
        now=due.now,
        cohort_id=cohort_id,
        target={"cohort_id": cohort_id, "period": period},
    )


def _ask_unanswered(due: DueContext, cohort_id: int, period: str, *, nudge: bool) -> None:
    """The check-in DM (or its one nudge) to everyone with a Vorhaben who has not answered
    for ``period`` yet; one outbox row per person and period."""
    prefix = "checkin-nudge" if nudge else "checkin"
    for person, profile in with_vorhaben(due.uow, cohort_id):
        if answer_of(due.uow, cohort_id, person.id, period) is not None:
            continue
        language = person.language or due.settings.language
        dm_person(
            due.uow,
            person.id,
            views.ask_message(language, profile, person.id, nudge=nudge),
            f"{prefix}:{cohort_id}:{period}:{person.id}",
            due.now,
        )


def nudge(due: DueContext) -> None:
    """Once: those asked this month who have not answered yet."""
    cohort_id = _open_cohort(due)
    if cohort_id is None:
        return
    period = str(due.reminder.target.get("period", ""))
    _ask_unanswered(due, cohort_id, period, nudge=True)


def digest(due: DueContext) -> None:
    """Daily: for each meeting starting within a week, the organisers get the digest once
    (the outbox key ``checkin-digest:MEETING:ORGANISER``)."""
    cohort_id = _open_cohort(due)
    _next(due)
    if cohort_id is None:
        return
    coming = [
        m
        for m in due.uow.meetings.scheduled(cohort_id, after=due.now)
        if m.starts_at <= due.now + DIGEST_AHEAD
    ]
    if not coming:
        return
    entries = overview(due.uow, cohort_id, viewer=None)
    for meeting in coming:
        for organiser in due.uow.persons.organisers():
            language = organiser.language or due.settings.language
            message = views.digest_message(language, meeting, entries, due.settings)
            dm_person(
                due.uow,
                organiser.id,
                message,
                f"checkin-digest:{meeting.id}:{organiser.id}",
                due.now,
            )


def overview(uow: UnitOfWork, cohort_id: int, viewer: Person | None) -> list[Entry]:
    """All Vorhaben of the cohort with their latest check-in. ``viewer`` None (organisers, the
    digest) reads every answer; a participant their own and the latest each other shared."""
    return [
        Entry(
            person,
            profile,
            latest_of(
                uow,
                cohort_id,
                person.id,
                shared_only=viewer is not None and viewer.id != person.id,
            ),
        )
        for person, profile in with_vorhaben(uow, cohort_id)
    ]
