"""Forms: one definition, two renderings — a Slack modal, or a guided DM dialog field by field.

The dialog's progress lives in the database (``dialogs`` table), never in process memory, so a
dialog started before a restart (or on another instance) simply continues.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import fold, shorten
from bot.views import Form, FormField, Message, Note, Section
from storage.models import Dialog
from storage.uow import UnitOfWork

_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}$")
YES = {"ja", "j", "yes", "y", "ok", "einverstanden", "zustimmen", "i agree", "agree"}
NO = {"nein", "n", "no"}
CANCEL = {"abbrechen", "cancel", "stop", "abbruch"}
FREE_TEXT = {"text", "email", "longtext"}  # not choices: a repeated "ja" is a real answer
LONG_REPEAT = 20  # a long answer repeated word for word is asked back; a short one is taken


def form_to_dict(form: Form) -> dict[str, Any]:
    return asdict(form)


def form_from_dict(data: dict[str, Any]) -> Form:
    fields = tuple(
        FormField(**{**f, "options": tuple(f.get("options", ()))}) for f in data["fields"]
    )
    return Form(
        form_id=data["form_id"],
        title=data["title"],
        fields=fields,
        submit_label=data["submit_label"],
        intro=tuple(data.get("intro", ())),
        context=dict(data.get("context", {})),
    )


def validate_field(field: FormField, raw: str | None) -> str | None:
    """The cleaned value, or None when empty and optional; raises UserFacingError otherwise."""
    value = (raw or "").strip()
    if not value:
        if field.required:
            raise UserFacingError(N_("Bitte füllen Sie „{label}“ aus."), label=field.label)
        return None
    if len(value) > field.max_length:
        raise UserFacingError(
            N_("„{label}“ ist zu lang ({length} Zeichen); erlaubt sind höchstens {limit}."),
            label=field.label,
            length=len(value),
            limit=field.max_length,
        )
    if field.kind == "email" and not _EMAIL.match(value):
        raise UserFacingError(
            N_("„{value}“ ist keine gültige E-Mail-Adresse. Beispiel: anna.muster@musterstadt.de"),
            value=shorten(value),
        )
    if field.kind == "select":
        return _choose(field, value)
    if field.kind == "text" and field.options:
        # free text with suggestions: a suggestion's number picks it, any other text is kept
        if value.isdigit() and 1 <= int(value) <= len(field.options):
            return field.options[int(value) - 1]
        return " ".join(value.split())
    if field.kind == "consent":
        answer = fold(value)
        if answer in YES:
            return "ja"
        if answer in NO:
            raise UserFacingError(
                N_(
                    "Ohne Ihre Einwilligung kann ich Sie nicht anmelden. Ihre Angaben wurden "
                    "nicht gespeichert."
                )
            )
        raise UserFacingError(N_("Bitte antworten Sie mit „ja“ oder „nein“."))
    return value


def _choose(field: FormField, value: str) -> str:
    """An option by number, by name, or by a unique beginning ('Bürgermeisterin' fits
    'Bürgermeister/in')."""
    if value.isdigit() and 1 <= int(value) <= len(field.options):
        return field.options[int(value) - 1]
    wanted = _key(value)
    exact = [o for o in field.options if _key(o) == wanted]
    prefix = [o for o in field.options if len(wanted) >= 4 and _key(o).startswith(wanted)]
    for found in (exact, prefix):
        if len(found) == 1:
            return found[0]
    raise UserFacingError(
        N_("„{value}“ steht nicht zur Wahl. Möglich sind: {options}."),
        value=shorten(value),
        options=", ".join(f"{i}. {o}" for i, o in enumerate(field.options, 1)),
    )


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


@dataclass
class DialogStep:
    """What the guided dialog says next."""

    message: Message
    finished_values: dict[str, str] | None = None
    form: Form | None = None


def question(form: Form, field: FormField, translate: Callable[[str], str]) -> Message:
    lines = [field.label]
    if field.options and field.kind == "text":
        lines.append(translate(N_("Vorschläge (Nummer genügt) – oder schreiben Sie Ihre eigene:")))
    if field.options:
        lines.extend(f"{i}. {o}" for i, o in enumerate(field.options, 1))
    if field.hint:
        lines.append(field.hint)
    if not field.required:
        lines.append(translate(N_("(freiwillig — „-“ überspringt)")))
    note = translate(N_("„abbrechen“ beendet die Eingabe, ohne etwas zu speichern."))
    return Message(blocks=(Section(lines=tuple(lines)), Note(note)), fallback=field.label)


def start_dialog(
    uow: UnitOfWork,
    person_id: int,
    form: Form,
    values: dict[str, str],
    now: datetime,
    translate: Callable[[str], str],
) -> DialogStep:
    """Begin (or restart) a guided dialog with the fields already given in ``values``."""
    existing = uow.dialogs.of_person(person_id)
    if existing is not None:
        uow.dialogs.remove(existing)
    state = {"form": form_to_dict(form), "values": values}
    uow.dialogs.add(Dialog(person_id=person_id, kind=form.form_id, state=state, updated_at=now))
    nxt = _next_field(form, values)
    assert nxt is not None
    intro = Section(lines=form.intro) if form.intro else None
    first = question(form, nxt, translate)
    blocks = ((intro,) if intro else ()) + first.blocks
    return DialogStep(Message(blocks=blocks, fallback=form.title))


def continue_dialog(
    uow: UnitOfWork, dialog: Dialog, text: str, now: datetime, translate: Callable[[str], str]
) -> DialogStep:
    form = form_from_dict(dialog.state["form"])
    values: dict[str, str] = dict(dialog.state["values"])
    if fold(text.strip()) in CANCEL:
        uow.dialogs.remove(dialog)
        return DialogStep(Message.text(translate(N_("Abgebrochen. Es wurde nichts gespeichert."))))
    field = _next_field(form, values)
    assert field is not None
    raw = "" if (text.strip() == "-" and not field.required) else text
    try:
        value = validate_field(field, raw)
    except UserFacingError as exc:
        if field.kind == "consent" and fold(text.strip()) in NO:
            uow.dialogs.remove(dialog)
        return DialogStep(Message.text(exc.render(translate)))
    repeated = _repeated_answer(form, dialog.state, field, text)
    if repeated is not None:
        dialog.state = {**dialog.state, "asked": field.name}
        dialog.updated_at = now
        again = translate(
            N_(
                "„{text}“ haben Sie eben schon bei „{previous}“ geschrieben. Jetzt geht es um "
                "die nächste Frage. Ist es wirklich dasselbe, schreiben Sie es noch einmal."
            )
        ).format(text=shorten(text.strip()), previous=repeated.label)
        asked = question(form, field, translate)
        return DialogStep(Message(blocks=(Section(lines=(again,)), *asked.blocks), fallback=again))
    values[field.name] = value or ""
    nxt = _next_field(form, values)
    if nxt is None:
        uow.dialogs.remove(dialog)
        return DialogStep(Message.text(""), finished_values=values, form=form)
    last = {"field": field.name, "text": text.strip()}
    noted = {"noted": True} if dialog.state.get("noted") else {}  # said once per dialog
    dialog.state = {"form": dialog.state["form"], "values": values, "last": last, **noted}
    dialog.updated_at = now
    return DialogStep(question(form, nxt, translate))


def _repeated_answer(
    form: Form, state: dict[str, Any], field: FormField, text: str
) -> FormField | None:
    """The previous free-text field, when its answer is typed again for ``field`` — most
    likely the same message sent twice (its answer, the next question, never arrived). Asked
    back once; typed a third time it is taken."""
    last = state.get("last")
    if not isinstance(last, dict) or state.get("asked") == field.name:
        return None
    previous = next((f for f in form.fields if f.name == last.get("field")), None)
    if previous is None or {previous.kind, field.kind} - FREE_TEXT:
        return None
    if text.strip() != last.get("text"):
        return None
    # "keine" for two feedback questions in a row is a real answer; a long text twice is not
    short = len(text.strip()) < LONG_REPEAT
    return None if field.kind == "longtext" and short else previous


def current_field(dialog: Dialog) -> FormField | None:
    """The field the open dialog is asking for."""
    return _next_field(form_from_dict(dialog.state["form"]), dict(dialog.state["values"]))


def accepts(field: FormField, text: str) -> bool:
    """Whether ``text`` is a valid answer for ``field`` (nothing is stored)."""
    try:
        validate_field(field, text)
    except UserFacingError:
        return False
    return True


def _next_field(form: Form, values: dict[str, str]) -> FormField | None:
    return next((f for f in form.fields if f.name not in values), None)
