"""Matrix settings from the environment (MATRIX_*), checked once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

# Only for STADTLABOR_ENV=development: anyone who reads this line could open the crypto store.
DEVELOPMENT_STORE_KEY = "stadtlabor"


class MatrixConfigError(ValueError):
    """A MATRIX_* variable is missing or invalid; the message names it."""


def server_of(user_id: str) -> str:
    """``@anna:example.org:8448`` → ``example.org:8448``."""
    return user_id.partition(":")[2].lower()


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str
    user_id: str
    password: str | None = None
    access_token: str | None = None
    # Servers whose users may invite the bot; empty means the bot's own server only.
    allowed_servers: tuple[str, ...] = ()
    device_name: str = "stadtlabor-bot"
    # Directory of the end-to-end crypto store (None: no encryption).
    store_path: Path | None = None
    store_key: str = DEVELOPMENT_STORE_KEY
    encrypt_dms: bool = True

    def allows(self, user_id: str) -> bool:
        """May this user's invite be accepted (their homeserver is allowed)?"""
        allowed = self.allowed_servers or (server_of(self.user_id),)
        return "*" in allowed or server_of(user_id) in allowed

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        database_url: str | None = None,
        *,
        development: bool = False,
        encryption_available: bool | None = None,
    ) -> MatrixConfig:
        """``development``: STADTLABOR_ENV=development (a built-in store key is accepted);
        ``encryption_available``: None asks matrix-nio (is its ``e2e`` extra installed?)."""
        env = os.environ if env is None else env
        homeserver = env.get("MATRIX_HOMESERVER", "").strip().rstrip("/")
        user_id = env.get("MATRIX_USER_ID", "").strip()
        if not homeserver.startswith(("http://", "https://")):
            raise MatrixConfigError(
                "MATRIX_HOMESERVER must be the homeserver's URL, e.g. https://matrix.example.org"
            )
        if not user_id.startswith("@") or ":" not in user_id:
            raise MatrixConfigError("MATRIX_USER_ID must be a full Matrix ID like @bot:example.org")
        password = env.get("MATRIX_PASSWORD") or None
        token = env.get("MATRIX_ACCESS_TOKEN") or None
        if not password and not token:
            raise MatrixConfigError(
                "Set MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN for the bot account"
            )
        servers = tuple(
            part.strip().lower()
            for part in env.get("MATRIX_ALLOWED_SERVERS", "").split(",")
            if part.strip()
        )
        store = env.get("MATRIX_STORE_PATH") or _store_next_to(database_url)
        store_path = None if store in (None, "", "off") else Path(store)
        store_key = env.get("MATRIX_STORE_KEY") or ""
        if store_path is not None and not store_key and not development:
            if encryption_available is None:
                from nio.crypto import ENCRYPTION_ENABLED

                encryption_available = bool(ENCRYPTION_ENABLED)
            if encryption_available:
                raise MatrixConfigError(
                    "MATRIX_STORE_KEY is not set: set it to a long random passphrase that "
                    "protects the crypto store (or MATRIX_STORE_PATH=off to run without "
                    "encryption; STADTLABOR_ENV=development allows a built-in key)"
                )
        return cls(
            homeserver=homeserver,
            user_id=user_id,
            password=password,
            access_token=token,
            allowed_servers=servers,
            device_name=env.get("MATRIX_DEVICE_NAME") or "stadtlabor-bot",
            store_path=store_path,
            store_key=store_key or DEVELOPMENT_STORE_KEY,
            encrypt_dms=env.get("MATRIX_ENCRYPT_DMS", "true").lower() not in ("0", "false", "no"),
        )


def _store_next_to(database_url: str | None) -> str:
    """The crypto store lives next to a SQLite database file, else under ./data."""
    if database_url:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return str(Path(url.database).resolve().parent / "matrix-store")
    return str(Path("data") / "matrix-store")
