"""Forms as Slack modals: Form → modal view, view_submission state → values, per-field errors.

The Form definition of an open modal is kept in the database (``slack:form:<view_id>``), not in
``private_metadata`` (3000 characters would not hold a select with many options), so any
instance can validate a submission, also after a restart. A stored form holds what it was
filled with (name, e-mail, municipality): it is dropped when submitted or cancelled, after
``FORM_LIFETIME`` (its ``until``; the periodic expiry job), and on erasure (its ``owner``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    EmailInputElement,
    InputBlock,
    InputInteractiveElement,
    MarkdownTextObject,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.errors import UserFacingError
from bot.forms import form_from_dict, form_to_dict, validate_field
from bot.views import Form, FormField, Message
from handlers.slack.render import chunk_lines, escape, to_blocks, truncate

FORM_CALLBACK = "stadtlabor_form"
VALUE_ACTION = "value"
MAX_VIEW_TITLE = 24
MAX_VIEW_BLOCKS = 100
MAX_OPTION_TEXT = 75
MAX_OPTIONS = 100
MAX_INPUT_LENGTH = 3000
MAX_PLACEHOLDER = 150
FORM_KEY = "slack:form:{view_id}"
# Slack keeps a modal open as long as the user likes; the answers it was filled with do not
# stay longer than this (the expiry job runs every few minutes: at most 24 hours in all).
FORM_LIFETIME = timedelta(hours=23)

WORDS = {
    "de": {"cancel": "Abbrechen", "close": "Schließen", "yes": "Ja", "done": "Stadtlabor"},
    "en": {"cancel": "Cancel", "close": "Close", "yes": "Yes", "done": "Stadtlabor"},
}


def words(language: str) -> dict[str, str]:
    return WORDS.get(language, WORDS["de"])


def _plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=truncate(text.strip() or "…", limit), emoji=False)


def _options(field: FormField) -> list[Option]:
    # The value is the 1-based number: validate_field maps it back to the full option text.
    return [
        Option(value=str(i), text=_plain(label, MAX_OPTION_TEXT))
        for i, label in enumerate(field.options, 1)
    ]


def _element(field: FormField, language: str) -> InputInteractiveElement:
    if field.kind == "select":
        options = _options(field)
        chosen = field.options.index(field.initial) if field.initial in field.options else -1
        initial = options[chosen] if chosen >= 0 else None
        if len(options) <= MAX_OPTIONS:
            return StaticSelectElement(
                action_id=VALUE_ACTION, options=options, initial_option=initial
            )
        groups = [
            OptionGroup(label=f"{i + 1}–{min(i + MAX_OPTIONS, len(options))}", options=group)
            for i in range(0, len(options), MAX_OPTIONS)
            for group in [options[i : i + MAX_OPTIONS]]
        ]
        return StaticSelectElement(
            action_id=VALUE_ACTION, option_groups=groups[:MAX_OPTIONS], initial_option=initial
        )
    if field.kind == "consent":
        yes = Option(value="ja", text=_plain(words(language)["yes"], MAX_OPTION_TEXT))
        return CheckboxesElement(action_id=VALUE_ACTION, options=[yes])
    if field.kind == "email":
        return EmailInputElement(action_id=VALUE_ACTION, initial_value=field.initial)
    # free text with suggestions (the function): a modal has no free-text combo box, so the
    # common ones are shown as the placeholder
    suggestions = ", ".join(field.options) if field.kind == "text" else ""
    return PlainTextInputElement(
        action_id=VALUE_ACTION,
        multiline=field.kind == "longtext",
        max_length=min(field.max_length, MAX_INPUT_LENGTH),
        initial_value=field.initial,
        placeholder=_plain(suggestions, MAX_PLACEHOLDER) if suggestions else None,
    )


def form_modal(form: Form, metadata: dict[str, str], language: str) -> dict[str, Any]:
    """The modal for ``form``; ``metadata`` (where it was opened) rides in private_metadata."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text))
        for text in chunk_lines([escape(line) for line in form.intro])
    ]
    for field in form.fields:
        blocks.append(
            InputBlock(
                block_id=field.name,
                label=_plain(field.label, 2000),
                element=_element(field, language),
                hint=_plain(field.hint, 2000) if field.hint else None,
                optional=not field.required,
            )
        )
    view = View(
        type="modal",
        callback_id=FORM_CALLBACK,
        title=_plain(form.title, MAX_VIEW_TITLE),
        submit=_plain(form.submit_label, MAX_VIEW_TITLE),
        close=_plain(words(language)["cancel"], MAX_VIEW_TITLE),
        private_metadata=json.dumps(metadata),
        blocks=blocks[:MAX_VIEW_BLOCKS],
        notify_on_close=True,  # view_closed: the stored form is dropped at once
    )
    result: dict[str, Any] = view.to_dict()
    return result


def result_modal(message: Message, language: str) -> dict[str, Any]:
    """What replaces the modal after a submission: the answer, and a close button."""
    title = message.fallback or words(language)["done"]
    blocks = [b.to_dict() for b in to_blocks(message)][:MAX_VIEW_BLOCKS]
    view = View(
        type="modal",
        title=_plain(title, MAX_VIEW_TITLE),
        close=_plain(words(language)["close"], MAX_VIEW_TITLE),
        blocks=blocks,
    )
    result: dict[str, Any] = view.to_dict()
    return result


def submitted_values(state_values: dict[str, dict[str, dict[str, Any]]]) -> dict[str, str]:
    """``view.state.values`` → ``{field name: raw text}`` (selects as option numbers)."""
    values: dict[str, str] = {}
    for block_id, actions in state_values.items():
        state = actions.get(VALUE_ACTION) or next(iter(actions.values()), {})
        kind = state.get("type")
        if kind == "static_select":
            option = state.get("selected_option") or {}
            values[block_id] = str(option.get("value") or "")
        elif kind == "checkboxes":
            chosen = state.get("selected_options") or []
            values[block_id] = "ja" if chosen else ""
        else:
            values[block_id] = str(state.get("value") or "")
    return values


def validate(
    form: Form, raw: dict[str, str], translate: Callable[[str], str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Cleaned values and errors per field (block_id → message) — like the guided dialog."""
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in form.fields:
        try:
            cleaned[field.name] = validate_field(field, raw.get(field.name)) or ""
        except UserFacingError as exc:
            errors[field.name] = exc.render(translate)
    return cleaned, errors


def dump_form(form: Form, owner: str = "", now: datetime | None = None) -> str:
    """The stored form, with whose it is (``slack:U…``) and until when it may be kept."""
    stored: dict[str, Any] = {"form": form_to_dict(form), "owner": owner}
    if now is not None:
        stored["until"] = (now + FORM_LIFETIME).isoformat()
    return json.dumps(stored)


def load_form(text: str) -> Form:
    data = json.loads(text)
    return form_from_dict(data["form"] if "owner" in data else data)
