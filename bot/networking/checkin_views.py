"""Neutral views of the Vorhaben check-ins: the monthly DM, the form, the overview of all
Vorhaben (``checkins``) and the organisers' digest before a meeting."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.actions import CommandAction
from bot.i18n import N_, format_when, translator
from bot.settings import Settings
from bot.views import Actions, Bullets, Button, Form, FormField, Header, Message, Note, Section
from storage.models import Meeting, Person
from storage.models_networking import CheckinAnswer, Profile

Translate = Callable[..., str]
FORM_ID = "checkin"
MAX_ANSWER = 500

ASK = N_(
    "Wie steht es um Ihr Vorhaben „{title}“? Drei kurze Antworten genügen: 1. Was ist "
    "vorangekommen? 2. Wo hakt es? 3. Was würde Ihnen helfen? Antworten Sie mit dem Knopf "
    "oder mit „checkin 1. … 2. … 3. …“."
)
NUDGE = N_(
    "Noch einmal, falls es untergegangen ist: Wie steht es um Ihr Vorhaben „{title}“? "
    "Antworten Sie mit dem Knopf oder mit „checkin 1. … 2. … 3. …“ – drei kurze Sätze genügen."
)
WHO_SEES = N_(
    "Ihre Antworten sieht das Programmteam; den anderen im Jahrgang zeigt sie der Bot nur, "
    "wenn Sie „checkin teilen ja“ schreiben. „vergessen“ löscht sie."
)
QUESTIONS = (
    N_("Was ist vorangekommen?"),
    N_("Wo hakt es?"),
    N_("Was würde Ihnen helfen?"),
)


@dataclass(frozen=True)
class Entry:
    """One Vorhaben and the latest check-in the viewer may read (None: none yet, or none
    shared)."""

    person: Person
    profile: Profile
    latest: CheckinAnswer | None


def ask_message(language: str, profile: Profile, person_id: int, *, nudge: bool) -> Message:
    _ = translator(language)
    text = _(NUDGE if nudge else ASK).format(title=profile.vorhaben_title or "–")
    button = Button(
        _(N_("Antworten")), CommandAction("checkin", ("antworten",), person_id), "primary"
    )
    return Message(
        (Section((text,)), Note(_(WHO_SEES)), Actions((button,))),
        fallback=text[:150],
    )


def form(_: Translate, profile: Profile, before: CheckinAnswer | None) -> Form:
    fields = tuple(
        FormField(
            name,
            f"{i}. {_(question)}",
            "longtext",
            max_length=MAX_ANSWER,
        )
        for i, (name, question) in enumerate(zip(("a1", "a2", "a3"), QUESTIONS, strict=True), 1)
    )
    share = FormField(
        "teilen",
        _(N_("Mit dem Jahrgang teilen?")),
        "select",
        required=False,
        options=("nein", "ja"),
    )
    intro = [_(N_("Ihr Vorhaben: {title}"), title=profile.vorhaben_title or "–"), _(WHO_SEES)]
    if before is not None:
        intro.append(_(N_("Ihre neuen Antworten ersetzen die dieses Monats.")))
    title = _(N_("Ihr Check-in"))
    return Form(FORM_ID, title, (*fields, share), _(N_("Absenden")), intro=tuple(intro))


def _answer_lines(_: Translate, answer: CheckinAnswer) -> list[str]:
    texts = (answer.progress, answer.obstacle, answer.help)
    return [f"{_(q)} {t}" for q, t in zip(QUESTIONS, texts, strict=True)]


def _entry_lines(_: Translate, entry: Entry, hidden_note: bool) -> str:
    person, profile = entry.person, entry.profile
    head = _(
        N_("{name} ({place}): „{title}“, Stand: {stage}"),
        name=person.display_name or "?",
        place=person.municipality or "–",
        title=profile.vorhaben_title or "–",
        stage=profile.vorhaben_stage or "–",
    )
    if entry.latest is None:
        tail = _(N_("kein geteilter Check-in")) if hidden_note else _(N_("noch kein Check-in"))
        return f"{head} — {tail}"
    month = _(N_("Check-in vom {period}"), period=entry.latest.period)
    shared = "" if entry.latest.shared else " " + _(N_("(nicht geteilt)"))
    return "\n".join((f"{head} — {month}{shared}", *_answer_lines(_, entry.latest)))


def overview_message(_: Translate, entries: Sequence[Entry], *, organiser: bool) -> Message:
    head = _(N_("Vorhaben im Jahrgang ({count})"), count=len(entries))
    if not entries:
        return Message.text(
            _(N_("Noch niemand im Jahrgang hat ein Vorhaben im Profil eingetragen."))
        )
    blocks: list[Header | Bullets | Note] = [
        Header(head),
        Bullets(tuple(_entry_lines(_, e, not organiser) for e in entries)),
    ]
    if not organiser:
        blocks.append(
            Note(
                _(N_("Sie sehen Check-ins anderer nur, wo sie „checkin teilen ja“ gewählt haben."))
            )
        )
    return Message(tuple(blocks), fallback=head)


def digest_message(
    language: str, meeting: Meeting, entries: Sequence[Entry], settings: Settings
) -> Message:
    _ = _translate(language)
    head = _(
        N_("Vor Treffen {number} „{title}“ am {when}: die Vorhaben mit ihrem letzten Check-in"),
        number=meeting.number,
        title=meeting.title,
        when=format_when(meeting.starts_at.astimezone(settings.tz), language),
    )
    if not entries:
        return Message.text(
            head + "\n" + _(N_("Noch niemand im Jahrgang hat ein Vorhaben im Profil eingetragen."))
        )
    blocks = (Header(head), Bullets(tuple(_entry_lines(_, e, False) for e in entries)))
    return Message(blocks, fallback=head[:150])


def _translate(language: str) -> Translate:
    gettext = translator(language)

    def translate(msgid: str, **params: object) -> str:
        return gettext(msgid).format(**params) if params else gettext(msgid)

    return translate
