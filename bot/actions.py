"""Typed button actions: what a click means, as a small typed payload — never command text.

A :class:`bot.views.Button` carries one of these. Adapters put :func:`encode` of it into the
platform's button (Slack: the ``value``, at most 2000 characters) and hand the clicked value
to :func:`decode`, the one place that checks it: an unknown kind, a wrong type, a number out
of range or an overlong field is refused (:class:`InvalidAction`, a clear private message),
nothing is done. What a decoded action may do is decided again on the server
(:meth:`bot.dispatcher.Dispatcher.handle_action`): the permission table, the poll's own rules.

- :class:`VoteAction`: a ballot change in a poll (by the poll's id; the cohort follows from it).
- :class:`CommandAction`: "run this command" for a registered command key with plain
  arguments (no parsing, no options); the dispatcher checks the key against the registry.
- :class:`ConfirmAction`: the "ja" to a preview the clicking person was shown.

``person`` (optional, every kind): the person the button was made for; a click by someone
else is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from bot.errors import UserFacingError
from bot.i18n import N_

VoteMode = Literal["replace", "add", "remove"]
VOTE_MODES: tuple[VoteMode, ...] = ("replace", "add", "remove")

MAX_ENCODED = 2000  # Slack's limit for a button value
MAX_OPTIONS = 50
MAX_POSITION = 999
MAX_ARGS = 12
MAX_ARG = 200
_KEY = re.compile(r"^[a-zäöüß]+( [a-zäöüß]+){0,3}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

GARBLED = N_(
    "Diese Schaltfläche kann ich nicht lesen (veraltet oder beschädigt); es wurde nichts "
    "geändert. Bitte rufen Sie die Nachricht neu auf oder geben Sie den Befehl ein."
)


class InvalidAction(UserFacingError):
    """A click whose payload is unknown, garbled or forged; nothing was done."""

    def __init__(self, msgid: str = GARBLED, /, **params: Any) -> None:
        super().__init__(msgid, **params)


@dataclass(frozen=True)
class VoteAction:
    poll: int  # the poll's id
    options: tuple[int, ...]  # option positions; () with "replace": withdraw the ballot
    mode: VoteMode = "replace"
    person: int | None = None
    kind: ClassVar[str] = "vote"


@dataclass(frozen=True)
class CommandAction:
    key: str  # a registered command key ("teilnahme", "feedback", "nachfassen", …)
    args: tuple[str, ...] = ()
    person: int | None = None
    kind: ClassVar[str] = "cmd"

    def text(self) -> str:
        """The line a text-only user types for this action (shown, never parsed back)."""
        return " ".join((self.key, *(_quoted(a) for a in self.args)))


@dataclass(frozen=True)
class ConfirmAction:
    person: int | None = None
    kind: ClassVar[str] = "confirm"


Action = VoteAction | CommandAction | ConfirmAction


def _quoted(arg: str) -> str:
    return f'"{arg}"' if not arg or any(c.isspace() or c == '"' for c in arg) else arg


def to_dict(action: Action) -> dict[str, Any]:
    """Short keys: the encoded form travels in every button."""
    data: dict[str, Any] = {"k": action.kind}
    if isinstance(action, VoteAction):
        data.update(p=action.poll, o=list(action.options), m=action.mode)
    elif isinstance(action, CommandAction):
        data.update(c=action.key, a=list(action.args))
    if action.person is not None:
        data["u"] = action.person
    return data


def encode(action: Action) -> str:
    """Compact JSON; checked (a button that could not be decoded is never sent out)."""
    text = json.dumps(to_dict(action), ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_ENCODED:
        raise ValueError(f"action too long for a button ({len(text)} characters)")
    return text


def _int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidAction()
    return value


def from_dict(data: Any) -> Action:
    """The one validation of an action's fields (shape, types, ranges)."""
    if not isinstance(data, dict):
        raise InvalidAction()
    kind = data.get("k")
    person = data.get("u")
    if person is not None:
        person = _int(person, 1, 2**62)
    if kind == "vote":
        if set(data) - {"k", "p", "o", "m", "u"}:
            raise InvalidAction()
        raw = data.get("o")
        mode = data.get("m")
        if not isinstance(raw, list) or len(raw) > MAX_OPTIONS or mode not in VOTE_MODES:
            raise InvalidAction()
        options = tuple(_int(o, 1, MAX_POSITION) for o in raw)
        if len(set(options)) != len(options) or (mode != "replace" and not options):
            raise InvalidAction()
        return VoteAction(_int(data.get("p"), 1, 2**62), options, mode, person)
    if kind == "cmd":
        if set(data) - {"k", "c", "a", "u"}:
            raise InvalidAction()
        key, args = data.get("c"), data.get("a", [])
        if not isinstance(key, str) or not _KEY.match(key) or not isinstance(args, list):
            raise InvalidAction()
        if len(args) > MAX_ARGS or not all(
            isinstance(a, str) and len(a) <= MAX_ARG and not _CONTROL.search(a) for a in args
        ):
            raise InvalidAction()
        return CommandAction(key, tuple(args), person)
    if kind == "confirm":
        if set(data) - {"k", "u"}:
            raise InvalidAction()
        return ConfirmAction(person)
    raise InvalidAction()


def decode(value: str) -> Action:
    """A clicked button's value → its action, or :class:`InvalidAction`."""
    if not isinstance(value, str) or not value or len(value) > MAX_ENCODED:
        raise InvalidAction()
    try:
        data = json.loads(value)
    except ValueError:
        raise InvalidAction() from None
    return from_dict(data)
