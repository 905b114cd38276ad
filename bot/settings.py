"""Settings from the environment and an optional ``.env`` file (pydantic-settings)."""

from __future__ import annotations

from email.headerregistry import Address
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.identity import Identity
from bot.mail_address import mailbox
from bot.smtp import SmtpServer, parse_smtp_url

DEFAULT_DATABASE_URL = f"sqlite:///{Path('data') / 'stadtlabor.db'}"


class SettingsError(Exception):
    """A setting is invalid; the message is one line naming the variable and what is allowed."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STADTLABOR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = "Europe/Berlin"
    language: Literal["de", "en"] = "de"
    organizers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    retention_days: int = Field(default=365, ge=1, le=3650)
    privacy_notice: str = ""
    # After registration, one DM asks for the networking profile (bot.networking.profiles).
    profile_question: bool = True
    anonymity_threshold: int = Field(default=3, ge=2, le=20)
    reminder_grace_hours: float = Field(default=6, ge=0, le=168)
    # development relaxes start-up checks meant for production (e.g. a built-in Matrix store key)
    env: Literal["production", "development"] = "production"
    # -- web pages (handlers/web): on when web_url or web_port is set -----------------------
    # The public base URL as people's browsers reach it (the login links in DMs point there);
    # https turns on Secure cookies. Without it, http://127.0.0.1:<web_port>.
    web_url: str = ""
    web_port: int | None = Field(default=None, ge=0, le=65535)
    web_host: str = "127.0.0.1"

    @field_validator("web_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return value

    @property
    def web_enabled(self) -> bool:
        return bool(self.web_url) or self.web_port is not None

    def web_base(self, bound_port: int | None = None) -> str:
        """The base URL for links: STADTLABOR_WEB_URL, else the local address."""
        if self.web_url:
            return self.web_url
        return f"http://{self.web_host}:{bound_port or self.web_port or 8080}"

    # E-mail (docs/email.md): no SMTP URL means mails are not sent (the console prints them).
    smtp_url: str = ""
    mail_from: str = Field(default="", validate_default=True)
    mail_reply_to: str = ""
    mail_per_minute: int = Field(default=60, ge=1, le=6000)  # per recipient domain

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("an IANA time zone such as Europe/Berlin") from exc
        return value

    @field_validator("organizers", mode="before")
    @classmethod
    def _split_identities(cls, value: object) -> list[str]:
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, list):
            items = [str(part).strip() for part in value]
        else:
            raise ValueError("comma-separated identities")
        for item in items:
            if Identity.parse(item).platform == "email":  # parse: ValueError with the forms
                raise ValueError("an e-mail address is not a chat identity")
        return items

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value.strip():
            parse_smtp_url(value)  # ValueError names what is wrong
        return value.strip()

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str, info: ValidationInfo) -> str:
        if value.strip():
            mailbox(value)
        elif info.data.get("smtp_url"):
            raise ValueError("a sender is needed when STADTLABOR_SMTP_URL is set")
        return value.strip()

    @field_validator("mail_reply_to")
    @classmethod
    def _mail_reply_to(cls, value: str) -> str:
        if value.strip():
            mailbox(value)
        return value.strip()

    @property
    def smtp(self) -> SmtpServer | None:
        """The SMTP server, or None when mail is not configured."""
        return parse_smtp_url(self.smtp_url) if self.smtp_url else None

    @property
    def mail_sender(self) -> Address | None:
        return mailbox(self.mail_from) if self.mail_from else None

    @property
    def mail_reply_address(self) -> Address | None:
        return mailbox(self.mail_reply_to) if self.mail_reply_to else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def organizer_identities(self) -> list[Identity]:
        return [Identity.parse(item) for item in self.organizers]


_ALLOWED = {
    "database_url": "a SQLAlchemy URL, e.g. sqlite:///data/stadtlabor.db or postgresql://…",
    "timezone": "an IANA time zone such as Europe/Berlin",
    "language": "de or en",
    "organizers": "comma-separated identities like console:anna,slack:U0123ABC,"
    "matrix:@anna:example.org",
    "retention_days": "a whole number of days between 1 and 3650",
    "anonymity_threshold": "a whole number between 2 and 20",
    "reminder_grace_hours": "a number of hours between 0 and 168",
    "env": "production or development",
    "web_url": "the public base URL of the web pages, e.g. https://stadtlabor.example.org",
    "web_port": "a TCP port between 0 and 65535 (0: any free port)",
    "smtp_url": "smtp://user:password@host:587?starttls=true or smtps://user:password@host:465 "
    "(user and password URL-encoded)",
    "mail_from": "a sender like Stadtlabor <stadtlabor@example.org> "
    "(required when STADTLABOR_SMTP_URL is set)",
    "mail_reply_to": "an address like Programmteam <team@example.org>",
    "mail_per_minute": "a whole number of mails per minute and recipient domain, 1 to 6000",
}


def load_settings(**overrides: object) -> Settings:
    """Read the settings or raise :class:`SettingsError` with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        allowed = _ALLOWED.get(field, error["msg"])
        reason = _reason(error)
        raise SettingsError(
            f"Invalid setting STADTLABOR_{field.upper()}: {reason}allowed is {allowed}."
        ) from None


_EXPLAINED = ("smtp_url", "mail_from", "mail_reply_to")


def _reason(error: Any) -> str:
    """What exactly is wrong, for the settings whose validators say it (never the value: an
    SMTP URL holds a password)."""
    if not error["loc"] or error["loc"][0] not in _EXPLAINED or error["type"] != "value_error":
        return ""
    message = str(error["msg"]).removeprefix("Value error, ").replace("\n", " ")
    return f"{message}; "
