"""``nachfassen``: one DM to each eligible person still missing in a poll, round or attendance.

Idempotent per item, person and day (the outbox key ``nudge:<kind>:<id>:<person>:<day>``), so a
second click the same day sends nothing more. Counts come from :mod:`bot.services.overview`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.actions import CommandAction
from bot.errors import UserFacingError
from bot.i18n import N_, format_when
from bot.notify import tell
from bot.services import attendance, meetings, polls
from bot.services import feedback as fb
from bot.services.answer_links import answer_item
from bot.services.audit import record
from bot.services.overview import attendance_missing, poll_missing, round_missing
from bot.services.overview_views import Kind
from bot.settings import Settings
from bot.views import Button
from storage.models import Cohort, Person
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Nudged:
    missing: int  # eligible people without a vote/answer
    sent: int  # new DMs (the others were nudged today already)


NUDGE_TEXT = {
    "umfrage": N_(
        "Das Programmteam erinnert Sie: Umfrage {number} „{title}“ wartet noch auf Ihre Stimme "
        "(bis {when})."
    ),
    "feedback": N_(
        "Das Programmteam erinnert Sie: Feedback-Runde {number} „{title}“ wartet noch auf Ihre "
        "Antwort (bis {when})."
    ),
    "teilnahme": N_(
        "Das Programmteam bittet um Ihre Rückmeldung: Kommen Sie zu Treffen {number} „{title}“ "
        "({when})?"
    ),
}


def nudge(
    uow: UnitOfWork,
    cohort: Cohort,
    kind: Kind,
    number: int,
    *,
    actor_id: int,
    now: datetime,
    settings: Settings,
) -> Nudged:
    """One DM to each eligible person still missing; idempotent per item, person and day."""
    people, title, when, obj_id, buttons = _targets(uow, cohort, kind, number, now)
    answer = answer_item(settings, kind, obj_id)
    day = now.astimezone(settings.tz).date().isoformat()
    sent = 0
    for person in people:
        if person.erased_at is not None:
            continue
        language = person.language or settings.language
        sent += tell(
            uow,
            person,
            NUDGE_TEXT[kind],
            now=now,
            default_language=settings.language,
            key=f"nudge:{kind}:{obj_id}:{person.id}:{day}",
            buttons=buttons,
            answer=answer,
            number=number,
            title=title[:150],
            when=format_when(when.astimezone(settings.tz), language) if when else "–",
        )
    record(
        uow,
        actor_id=actor_id,
        action="nachfassen",
        now=now,
        cohort_id=cohort.id,
        after={"was": f"{kind} {number}", "fehlend": len(people), "gesendet": sent},
    )
    return Nudged(len(people), sent)


def _targets(
    uow: UnitOfWork, cohort: Cohort, kind: str, number: int, now: datetime
) -> tuple[list[Person], str, datetime | None, int, tuple[Button, ...]]:
    if kind == "umfrage":
        poll = polls.get_poll(uow, cohort.id, number)
        if not polls.is_open(poll, now):
            raise UserFacingError(
                N_("Umfrage {n} ist geschlossen; nachfassen geht nur bei offenen."), n=number
            )
        ids, _eligible = poll_missing(uow, poll.id)
        people = [p for p in (uow.persons.get(i) for i in ids) if p is not None]
        button = Button(N_("Zur Umfrage"), CommandAction("umfrage", (str(number),)), "primary")
        return people, poll.question, poll.closes_at, poll.id, (button,)
    if kind == "feedback":
        rnd = fb.get_round(uow, cohort, number)
        if not fb.is_open(rnd, now):
            raise UserFacingError(
                N_("Feedback-Runde {n} ist geschlossen; nachfassen geht nur bei offenen."), n=number
            )
        people, _eligible = round_missing(uow, rnd)
        button = Button(
            N_("Feedback geben"), CommandAction("feedback", (str(number), "geben")), "primary"
        )
        return people, fb.presenters_label(uow, rnd), rnd.closes_at, rnd.id, (button,)
    meeting = meetings.get(uow, cohort.id, number)
    if meeting.ends_at <= now or attendance.is_closed(uow, meeting):
        raise UserFacingError(
            N_("Für Treffen {n} werden keine Rückmeldungen mehr gesammelt; nachfassen entfällt."),
            n=number,
        )
    people, _eligible = attendance_missing(uow, meeting)
    yes = Button(N_("Ich komme"), CommandAction("teilnahme", (str(number), "ja")), "primary")
    no = Button(N_("Ich komme nicht"), CommandAction("teilnahme", (str(number), "nein")))
    return people, meeting.title, meeting.starts_at, meeting.id, (yes, no)


def report(done: Nudged) -> tuple[str, dict[str, object]]:
    """What ``nachfassen`` answers (message id and values; ``{what}`` is the caller's)."""
    if done.missing == 0:
        return N_("Bei {what} fehlt niemand mehr – keine Erinnerung nötig."), {}
    if done.sent == done.missing:
        return (
            N_("Erinnerung an {sent} Person(en) verschickt, die bei {what} noch fehlen."),
            {"sent": done.sent},
        )
    return (
        N_(
            "Erinnerung an {sent} von {missing} fehlenden Person(en) verschickt; "
            "die anderen wurden heute schon erinnert."
        ),
        {"sent": done.sent, "missing": done.missing},
    )
