"""Platform identities: ``console:anna``, ``slack:U0123ABC``, ``matrix:@anna:example.org``,
``email:anna@musterstadt.de`` (a delivery address, never a login: see bot.notifications)."""

from __future__ import annotations

import re
from dataclasses import dataclass

PLATFORMS = ("console", "slack", "matrix", "email")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_MATRIX_ID = re.compile(r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(:\d+)?$")
_CONSOLE_ID = re.compile(r"^[\w.-]{1,64}$")
_EMAIL_ID = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}$")


@dataclass(frozen=True, order=True)
class Identity:
    platform: str
    external_id: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        platform, sep, external = text.strip().partition(":")
        platform = platform.lower()
        if not sep or platform not in PLATFORMS or not external:
            raise ValueError(
                f"'{text}' is not an identity; use console:NAME, slack:UXXXX or matrix:@user:server"
            )
        if platform == "slack" and not _SLACK_ID.match(external):
            raise ValueError(f"'{text}': a Slack user id looks like U0123ABC")
        if platform == "matrix" and not _MATRIX_ID.match(external):
            raise ValueError(f"'{text}': a Matrix user id looks like @anna:example.org")
        if platform == "console" and not _CONSOLE_ID.match(external):
            raise ValueError(f"'{text}': a console name is letters, digits, '.', '-' or '_'")
        if platform == "email" and not _EMAIL_ID.match(external):
            raise ValueError(f"'{text}': an e-mail identity looks like email:anna@example.org")
        return cls(platform, external)

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"
