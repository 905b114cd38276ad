"""Settings from the environment and an optional ``.env`` file (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.identity import Identity

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
            Identity.parse(item)  # raises ValueError with the allowed forms
        return items

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
}


def load_settings(**overrides: object) -> Settings:
    """Read the settings or raise :class:`SettingsError` with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        allowed = _ALLOWED.get(field, error["msg"])
        raise SettingsError(
            f"Invalid setting STADTLABOR_{field.upper()}: allowed is {allowed}."
        ) from None
