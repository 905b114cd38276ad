"""Log the bot in once and reuse its device: the access token and device id live in the
database, so a restart keeps the same device (and with it the end-to-end crypto store)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse
from nio.crypto import ENCRYPTION_ENABLED

from handlers.matrix.config import MatrixConfig
from handlers.matrix.state import MatrixState

log = logging.getLogger(__name__)


class MatrixLoginError(RuntimeError):
    """The bot cannot log in; the message is meant for the operator."""


def make_client(config: MatrixConfig) -> AsyncClient:
    """A client with nio's own 429 retry off (see transport) and, if possible, E2EE."""
    encrypted = ENCRYPTION_ENABLED and config.store_path is not None
    if encrypted:
        assert config.store_path is not None
        secure_store(config.store_path)
    client_config = AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=3,
        request_timeout=60,
        encryption_enabled=encrypted,
        store_sync_tokens=False,  # the database keeps the sync token
        pickle_key=config.store_key,
    )
    return AsyncClient(
        config.homeserver,
        config.user_id,
        store_path=str(config.store_path) if encrypted else "",
        config=client_config,
    )


def secure_store(path: Path) -> None:
    """The crypto store holds the bot's private keys: only its own user may enter the
    directory (0700) or read a file in it (0600). SQLite gives its journal files the mode of
    the database file."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    for child in path.iterdir():
        if child.is_file():
            child.chmod(0o600)


async def log_in(client: AsyncClient, config: MatrixConfig, state: MatrixState) -> None:
    """Token from MATRIX_ACCESS_TOKEN, else the stored session, else password login."""
    device, stored_token, _ = await asyncio.to_thread(state.session_for, config.user_id)
    if config.access_token:
        who = await _whoami(client, config.access_token)
        if who is None or who.user_id != config.user_id:
            raise MatrixLoginError(
                f"MATRIX_ACCESS_TOKEN is not valid for {config.user_id} on {config.homeserver}"
            )
        device = who.device_id or device
        if not device:
            raise MatrixLoginError("MATRIX_ACCESS_TOKEN has no device; use MATRIX_PASSWORD")
        client.restore_login(config.user_id, device, config.access_token)
    elif device and stored_token and await _whoami(client, stored_token) is not None:
        client.restore_login(config.user_id, device, stored_token)
    else:
        if not config.password:
            raise MatrixLoginError("the stored Matrix session expired; set MATRIX_PASSWORD")
        client.device_id = device  # keep the old device (and its keys) if there was one
        resp = await client.login(config.password, device_name=config.device_name)
        if not isinstance(resp, LoginResponse):
            raise MatrixLoginError(f"login as {config.user_id} failed: {resp}")
    await asyncio.to_thread(
        state.save_session, config.user_id, str(client.device_id), client.access_token
    )
    if client.olm is not None:
        if config.store_path is not None:
            secure_store(config.store_path)  # the store's database was created by the login
        if client.should_upload_keys:
            await client.keys_upload()
    log.info("logged in as %s (device %s)", client.user_id, client.device_id)


async def _whoami(client: AsyncClient, token: str) -> WhoamiResponse | None:
    previous, client.access_token = client.access_token, token
    try:
        resp = await client.whoami()
    finally:
        client.access_token = previous
    return resp if isinstance(resp, WhoamiResponse) else None
