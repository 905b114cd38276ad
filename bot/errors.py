"""Errors meant for users: one hierarchy with a translatable message, shown alike everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class UserFacingError(ValueError):
    """Something the user can fix; the message says what to do instead.

    ``msgid`` is the German source text (a gettext message id, marked with ``N_``) with
    ``{placeholders}``; ``params`` fill them. ``str(err)`` is the German text; adapters call
    :meth:`render` with the caller's translator.
    """

    def __init__(self, msgid: str, /, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid.format(**params))

    def render(self, translate: Callable[[str], str]) -> str:
        return translate(self.msgid).format(**self.params)


class PermissionDenied(UserFacingError):
    """The caller's role does not allow this command."""


class NotFound(UserFacingError):
    """The thing the user named does not exist."""


class TemporarilyUnavailable(UserFacingError):
    """The database (or another dependency) is briefly unreachable; the user may retry."""
