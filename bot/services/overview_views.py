"""The overview as a view model (:class:`Overview`, filled by :func:`bot.services.overview.build`)
and how it looks: :func:`render` turns it into a neutral Message.

Plain views only (every adapter renders them); buttons carry the command a text user types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.actions import CommandAction
from bot.i18n import N_, format_when, translator
from bot.settings import Settings
from bot.views import Actions, Block, Bullets, Button, Header, Message, Note, Section

Status = Literal["confirmed", "waitlisted", "pending", "none"]
Kind = Literal["umfrage", "feedback", "teilnahme"]


@dataclass(frozen=True)
class Progress:
    """One open item: for the person what they owe; for organisers ``done`` of ``eligible``."""

    kind: Kind
    number: int
    title: str
    closes_at: datetime | None
    done: int = 0
    eligible: int = 0

    @property
    def missing(self) -> int:
        return self.eligible - self.done


@dataclass(frozen=True)
class NextMeeting:
    number: int
    title: str
    starts_at: datetime


@dataclass(frozen=True)
class Dashboard:
    confirmed: int
    capacity: int
    waitlisted: int
    items: tuple[Progress, ...]


@dataclass(frozen=True)
class Overview:
    cohort_name: str | None
    status: Status
    position: int  # seat number or waitlist place
    capacity: int
    organiser: bool
    meeting: NextMeeting | None
    agenda: Message | None
    attendance: tuple[int, ...] | None  # own answer: days, () = declined, None = open
    polls: tuple[Progress, ...]
    rounds: tuple[Progress, ...]
    reminders: tuple[str, ...]
    more_reminders: int
    dashboard: Dashboard | None
    # False where the caller's role may not run ``treffen``: then no meeting line at all
    # (not "no meeting planned", which would be a statement about the programme).
    meetings_visible: bool = True


def render(ov: Overview, language: str, settings: Settings) -> Message:
    t = translator(language)

    def _(msgid: str, **params: object) -> str:
        return t(msgid).format(**params) if params else t(msgid)

    title = _(N_("Stadtlabor-Bot: Ihr Überblick"))
    blocks: list[Block] = [Header(title)]
    if ov.cohort_name is None and ov.organiser:
        text = N_(
            "Hier ist kein Jahrgang gewählt. Schreiben Sie „ueberblick“ im Kanal eines "
            "Jahrgangs, dann sehen Sie dessen Stand mit allen Zahlen."
        )
        blocks += [Section((_(text),)), *_reminders(ov, _), Note(_(HINT))]
        return Message(tuple(blocks), fallback=title)
    if ov.cohort_name is None:
        text = N_(
            "Sie sind noch keinem Jahrgang zugeordnet. Schreiben Sie im Kanal des Jahrgangs "
            "„anmelden“, oder wenden Sie sich an das Programmteam."
        )
        blocks += [Section((_(text),)), *_reminders(ov, _), Note(_(HINT))]
        return Message(tuple(blocks), fallback=title)
    blocks.extend(_status(ov, _))
    blocks.extend(_meeting(ov, _))
    if ov.status == "confirmed":
        blocks.extend(_owed(ov, _, language, settings))
    blocks.extend(_reminders(ov, _))
    if ov.dashboard is not None:
        blocks.extend(_dashboard_blocks(ov.dashboard, _))
    blocks.append(Note(_(HINT)))
    return Message(tuple(blocks), fallback=title)


HINT = N_("„hilfe“ zeigt alle Befehle; „ueberblick“ zeigt diese Übersicht.")
Translate = Callable[..., str]


def _status(ov: Overview, _: Translate) -> list[Block]:
    label = _(N_("Jahrgang {name}"), name=ov.cohort_name)
    buttons: tuple[Button, ...] = ()
    if ov.status == "confirmed":
        line = _(
            N_("Angemeldet: Platz {seat} von {capacity}."), seat=ov.position, capacity=ov.capacity
        )
    elif ov.status == "waitlisted":
        line = _(
            N_("Warteliste, Position {position}. Wir melden uns, sobald ein Platz frei wird."),
            position=ov.position,
        )
    elif ov.status == "pending":
        line = _(N_("Ihre Anmeldung liegt dem Programmteam zur Bestätigung vor."))
    elif ov.organiser:
        line = _(N_("Sie gehören zum Programmteam (nicht als Teilnehmende angemeldet)."))
    else:
        line = _(N_("Nicht angemeldet. Mit „anmelden“ melden Sie sich an."))
        buttons = (Button(_(N_("Anmelden")), CommandAction("anmelden"), "primary"),)
    blocks: list[Block] = [Section((line,), label=label)]
    if buttons:
        blocks.append(Actions(buttons))
    return blocks


def _meeting(ov: Overview, _: Translate) -> list[Block]:
    label = _(N_("Nächstes Treffen"))
    if not ov.meetings_visible:
        return []
    if ov.meeting is None:
        return [Section((_(N_("Noch kein Treffen geplant.")),), label=label)]
    n = ov.meeting.number
    blocks: list[Block] = (
        [Section((b.text,), label=label) if isinstance(b, Header) else b for b in ov.agenda.blocks]
        if ov.agenda is not None  # the agenda follows ``agenda``'s row, the date ``treffen``'s
        else [Section((f"{n}. {ov.meeting.title}",), label=label)]
    )
    if ov.status != "confirmed":
        return blocks
    if ov.attendance is None:
        blocks.append(Section((_(N_("Ihre Teilnahme: noch nicht beantwortet.")),)))
        yes = Button(_(N_("Ich komme")), CommandAction("teilnahme", (str(n), "ja")), "primary")
        no = Button(_(N_("Ich komme nicht")), CommandAction("teilnahme", (str(n), "nein")))
        blocks.append(Actions((yes, no)))
    elif not ov.attendance:
        blocks.append(Section((_(N_("Ihre Teilnahme: abgesagt.")),)))
    else:
        days = ", ".join(str(d) for d in ov.attendance)
        blocks.append(Section((_(N_("Ihre Teilnahme: zugesagt (Tag {days})."), days=days),)))
    return blocks


def _until(item: Progress, language: str, settings: Settings) -> str:
    if item.closes_at is None:
        return ""
    when = format_when(item.closes_at.astimezone(settings.tz), language)
    return " (" + translator(language)(N_("bis {when}")).format(when=when) + ")"


def _owed(ov: Overview, _: Translate, language: str, settings: Settings) -> list[Block]:
    blocks: list[Block] = []
    if ov.polls:
        lines = [
            _(N_("Umfrage {n}: {question}"), n=p.number, question=p.title[:150])
            + _until(p, language, settings)
            for p in ov.polls
        ]
        blocks += [Section((_(N_("Offene Umfragen ohne Ihre Stimme")),)), Bullets(tuple(lines))]
        blocks.append(
            Actions(
                tuple(
                    Button(
                        _(N_("Umfrage {n} ansehen"), n=p.number),
                        CommandAction("umfrage", (str(p.number),)),
                    )
                    for p in ov.polls
                )
            )
        )
    else:
        blocks.append(Section((_(N_("Keine offenen Umfragen ohne Ihre Stimme.")),)))
    if ov.rounds:
        lines = [
            _(N_("Feedback-Runde {n}: {subject}"), n=r.number, subject=r.title[:150])
            + _until(r, language, settings)
            for r in ov.rounds
        ]
        blocks += [Section((_(N_("Feedback, um das Sie gebeten sind")),)), Bullets(tuple(lines))]
        blocks.append(
            Actions(
                tuple(
                    Button(
                        _(N_("Feedback {n} geben"), n=r.number),
                        CommandAction("feedback", (str(r.number), "geben")),
                        "primary",
                    )
                    for r in ov.rounds
                )
            )
        )
    return blocks


def _reminders(ov: Overview, _: Translate) -> list[Block]:
    label = _(N_("Ihre Erinnerungen"))
    if not ov.reminders:
        return [Section((_(N_("keine offenen Erinnerungen")),), label=label)]
    blocks: list[Block] = [Section((), label=label), Bullets(ov.reminders)]
    if ov.more_reminders:
        blocks.append(
            Note(_(N_("… und {n} weitere: „erinnerungen“ zeigt alle."), n=ov.more_reminders))
        )
    return blocks


PROGRESS = {
    "umfrage": N_("Umfrage {n} „{title}“: {done} von {eligible} haben abgestimmt"),
    "feedback": N_("Feedback-Runde {n} – {title}: {done} von {eligible} haben geantwortet"),
    "teilnahme": N_("Treffen {n} „{title}“: {done} von {eligible} haben die Teilnahme beantwortet"),
}
NUDGE_LABEL = {
    "umfrage": N_("Umfrage {n}: {missing} erinnern"),
    "feedback": N_("Feedback {n}: {missing} erinnern"),
    "teilnahme": N_("Treffen {n}: {missing} erinnern"),
}


def _dashboard_blocks(board: Dashboard, _: Translate) -> list[Block]:
    blocks: list[Block] = [
        Header(_(N_("Programmteam: Stand des Jahrgangs"))),
        Section(
            (
                _(
                    N_("{confirmed} von {capacity} Plätzen belegt; Warteliste: {waitlisted}."),
                    confirmed=board.confirmed,
                    capacity=board.capacity,
                    waitlisted=board.waitlisted,
                ),
            ),
            label=_(N_("Anmeldungen")),
        ),
    ]
    if not board.items:
        blocks.append(
            Section((_(N_("Keine offenen Umfragen, Feedback-Runden oder Rückmeldungen.")),))
        )
        return blocks
    lines = tuple(
        _(PROGRESS[i.kind], n=i.number, title=i.title[:150], done=i.done, eligible=i.eligible)
        for i in board.items
    )
    blocks.append(Bullets(lines))
    buttons = tuple(
        Button(
            _(NUDGE_LABEL[i.kind], n=i.number, missing=i.missing),
            CommandAction("nachfassen", (i.kind, str(i.number))),
        )
        for i in board.items
        if i.missing > 0
    )
    if buttons:
        blocks.append(Actions(buttons))
    return blocks
