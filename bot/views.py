"""Platform-neutral message views. Every text here is plain text: adapters escape it.

A :class:`Message` is a list of blocks; each adapter renders it its own way (Block Kit through
``slack_sdk.models``, Matrix HTML with a plain-text fallback, console text).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bot import actions
from bot.actions import Action, CommandAction, ConfirmAction


@dataclass(frozen=True)
class Header:
    text: str
    kind: Literal["header"] = "header"


@dataclass(frozen=True)
class Section:
    """A paragraph. ``lines`` are shown one per line; ``label`` is a bold lead-in."""

    lines: tuple[str, ...]
    label: str | None = None
    kind: Literal["section"] = "section"
    # The label as a heading on its own line (a day of an agenda), not "label: first line".
    stacked: bool = False

    @property
    def label_alone(self) -> bool:
        """A list under a heading reads better with the heading on its own line."""
        return self.stacked or len(self.lines) > 1


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    kind: Literal["bullets"] = "bullets"


@dataclass(frozen=True)
class Note:
    """Small print: hints, echoes of what the bot understood."""

    text: str
    kind: Literal["note"] = "note"


@dataclass(frozen=True)
class Button:
    """A click carries ``action`` (a typed payload, :mod:`bot.actions`), never command text.

    ``hint``: what a text-only user (Matrix, console) types instead of clicking; by default
    the command of a :class:`~bot.actions.CommandAction`, "ja" for a confirmation."""

    label: str
    action: Action
    style: Literal["primary", "danger"] | None = None
    hint: str | None = None

    @property
    def command(self) -> str | None:
        if self.hint is not None:
            return self.hint
        if isinstance(self.action, CommandAction):
            return self.action.text()
        return "ja" if isinstance(self.action, ConfirmAction) else None


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]
    kind: Literal["actions"] = "actions"


Block = Header | Section | Bullets | Note | Actions
_BLOCK_TYPES: dict[str, type[Any]] = {
    "header": Header,
    "section": Section,
    "bullets": Bullets,
    "note": Note,
    "actions": Actions,
}


@dataclass(frozen=True)
class NativePoll:
    """Marks a message as a poll a platform may show natively (Matrix ``m.poll.start``).

    Set only for named polls with live results (votes in a native poll are visible room
    events). Adapters without native polls ignore it and render the blocks as usual.
    """

    poll_id: int
    number: int
    question: str
    options: tuple[str, ...]  # labels in position order (position = index + 1)
    max_choices: int = 1
    closed: bool = False


@dataclass(frozen=True)
class Message:
    blocks: tuple[Block, ...]
    fallback: str = ""  # one-line summary for notifications
    poll: NativePoll | None = None

    @classmethod
    def text(cls, *lines: str) -> Message:
        return cls(blocks=(Section(lines=tuple(lines)),), fallback=lines[0] if lines else "")

    def plain_text(self) -> str:
        """A readable plain-text rendering (console, Matrix fallback body, notifications)."""
        out: list[str] = []
        for block in self.blocks:
            if isinstance(block, Header):
                out.append(block.text)
            elif isinstance(block, Section):
                lines = list(block.lines)
                if block.label and block.label_alone:
                    lines = [block.label, *lines]
                elif block.label:
                    lines = [f"{block.label}: {lines[0]}" if lines else block.label, *lines[1:]]
                out.extend(lines)
            elif isinstance(block, Bullets):
                out.extend(f"• {item}" for item in block.items)
            elif isinstance(block, Note):
                out.append(block.text)
            else:
                out.extend(
                    f"[{b.label}] → {b.command}" if b.command else f"[{b.label}]"
                    for b in block.buttons
                )
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for stored, block in zip(data["blocks"], self.blocks, strict=True):
            if isinstance(block, Actions):  # the action's own short form, with its kind
                for raw, button in zip(stored["buttons"], block.buttons, strict=True):
                    raw["action"] = actions.to_dict(button.action)
        if self.poll is None:
            del data["poll"]  # stored payloads stay as they were without a native poll
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        blocks: list[Block] = []
        for raw in data["blocks"]:
            kind = raw["kind"]
            values = {k: v for k, v in raw.items() if k != "kind"}
            if kind == "actions":
                values["buttons"] = tuple(filter(None, map(_button, values["buttons"])))
            for key in ("lines", "items"):
                if key in values:
                    values[key] = tuple(values[key])
            blocks.append(_BLOCK_TYPES[kind](**values))
        raw_poll = data.get("poll")
        poll = None
        if raw_poll:
            poll = NativePoll(**{**raw_poll, "options": tuple(raw_poll["options"])})
        return cls(blocks=tuple(blocks), fallback=data.get("fallback", ""), poll=poll)


def _button(raw: dict[str, Any]) -> Button | None:
    """A stored button; one stored before typed actions (``command`` text, waiting in the
    outbox at the upgrade) becomes the command it named — checked when it is clicked."""
    style = raw.get("style")
    if "action" in raw:
        return Button(raw["label"], actions.from_dict(raw["action"]), style, raw.get("hint"))
    words = str(raw.get("command") or "").split()
    if not words:
        return None  # it never did anything when clicked
    if words == ["ja"]:
        return Button(raw["label"], ConfirmAction(), style)
    return Button(raw["label"], CommandAction(words[0], tuple(words[1:])), style)


@dataclass(frozen=True)
class FormField:
    """One field of a form; Slack shows a modal, Matrix and the console ask field by field."""

    name: str
    label: str
    kind: Literal["text", "email", "select", "consent", "longtext"] = "text"
    required: bool = True
    max_length: int = 200
    options: tuple[str, ...] = ()
    hint: str | None = None
    initial: str | None = None


@dataclass(frozen=True)
class Form:
    form_id: str
    title: str
    fields: tuple[FormField, ...]
    submit_label: str
    intro: tuple[str, ...] = ()
    context: dict[str, str] = field(default_factory=dict)
