"""Matrix rules without a homeserver (issue 14, items 4 and 8).

- Senders from servers outside ``MATRIX_ALLOWED_SERVERS`` are ignored in every event the bot
  acts on. The test Synapse runs without federation (one server name), so these are unit tests
  on the bot's event callbacks; the Synapse tests cover the invite side.
- Which commands an unbound room may run.
- The crypto store: no built-in key outside development, directory 0700 and files 0600.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nio import MatrixRoom, MegolmEvent, RoomMessageText, UnknownEvent
from nio.crypto import ENCRYPTION_ENABLED

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.runtime import StartupError
from bot.settings import SettingsError, load_settings
from handlers.matrix.bot import MatrixBot
from handlers.matrix.config import DEVELOPMENT_STORE_KEY, MatrixConfig, MatrixConfigError
from handlers.matrix.rooms import open_anywhere
from handlers.matrix.runner import load_config, run_matrix
from handlers.matrix.session import make_client
from tests.helpers import make_settings

BOT = "@bot:example.org"
ANNA = "@anna:example.org"
EVE = "@eve:evil.net"
ROOM = "!room:example.org"


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    built = build_bot(make_settings(f"sqlite:///{tmp_path}/db.sqlite"), SimulatedClock())
    try:
        yield built
    finally:
        built.engine.dispose()


@pytest.fixture
async def matrix(bot: Bot) -> Any:
    config = MatrixConfig(
        "http://127.0.0.1:9", BOT, password="pw", allowed_servers=("example.org",)
    )
    running = MatrixBot(bot, config)
    running.sync.catching_up = False  # as after the first sync
    running.started_ms = int(time.time() * 1000)
    yield running
    await running.client.close()


def _source(sender: str, event_type: str, content: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "type": event_type,
        "sender": sender,
        "event_id": f"${sender}-{n}",
        "origin_server_ts": int(time.time() * 1000),
        "room_id": ROOM,
        "content": content,
    }


async def _events_from(matrix: MatrixBot, sender: str) -> int:
    """Feed a command, a numeric reply, a poll response and an encrypted event from ``sender``;
    return how many jobs the bot queued."""
    room = MatrixRoom(ROOM, BOT)
    command = _source(
        sender, "m.room.message", {"msgtype": "m.text", "body": "!stadtlabor hilfe"}, 1
    )
    reply = _source(
        sender,
        "m.room.message",
        {"msgtype": "m.text", "body": "2", "m.relates_to": {"m.in_reply_to": {"event_id": "$p"}}},
        2,
    )
    response = _source(
        sender,
        "m.poll.response",
        {"m.selections": ["1"], "m.relates_to": {"rel_type": "m.reference", "event_id": "$p"}},
        3,
    )
    encrypted = _source(
        sender,
        "m.room.encrypted",
        {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEnB4",
            "sender_key": "key",
            "session_id": "session",
            "device_id": "DEVICE",
        },
        4,
    )
    await matrix._on_text(room, RoomMessageText.from_dict(command))
    await matrix._on_text(room, RoomMessageText.from_dict(reply))
    await matrix._on_poll_response(room, UnknownEvent.from_dict(response))
    megolm = MegolmEvent.from_dict(encrypted)
    assert isinstance(megolm, MegolmEvent), megolm
    await matrix._on_undecryptable(room, megolm)
    return matrix._queue.qsize()


async def test_events_from_a_server_not_allowed_are_ignored(matrix: MatrixBot) -> None:
    assert await _events_from(matrix, EVE) == 0
    # the same four events from an allowed server are all taken up
    assert await _events_from(matrix, ANNA) == 4


def test_unbound_rooms_run_only_commands_that_show_no_data(bot: Bot) -> None:
    registry = bot.dispatcher.registry
    for line in (
        "!stadtlabor hilfe",
        "!stadtlabor hilfe teilnehmende",
        "!stadtlabor sprache en",
        '!stadtlabor jahrgang verbinden "SL"',
        '!stadtlabor jahrgang anlegen "SL"',
        "!stadtlabor",
        "!stadtlabor hlfe",  # unknown: the dispatcher suggests a command, no data
    ):
        assert open_anywhere(registry, line), line
    for line in (
        "!stadtlabor teilnehmende",
        "!stadtlabor meine-daten",
        "!stadtlabor meine daten",
        "!stadtlabor TREFFEN",
        "!stadtlabor umfrage 1",
        "!stadtlabor export teilnehmende",
    ):
        assert not open_anywhere(registry, line), line


ENV = {
    "MATRIX_HOMESERVER": "https://matrix.example.org",
    "MATRIX_USER_ID": BOT,
    "MATRIX_PASSWORD": "pw",
}


def test_no_built_in_store_key_outside_development(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/db.sqlite"
    with pytest.raises(MatrixConfigError, match="MATRIX_STORE_KEY is not set"):
        MatrixConfig.from_env(ENV, db, encryption_available=True)
    dev = MatrixConfig.from_env(ENV, db, development=True, encryption_available=True)
    assert dev.store_key == DEVELOPMENT_STORE_KEY and dev.store_path is not None
    keyed = MatrixConfig.from_env({**ENV, "MATRIX_STORE_KEY": "lang-und-zufällig"}, db)
    assert keyed.store_key == "lang-und-zufällig"
    plain = MatrixConfig.from_env({**ENV, "MATRIX_STORE_PATH": "off"}, db)
    assert plain.store_path is None  # no encryption: no key needed
    no_e2e = MatrixConfig.from_env(ENV, db, encryption_available=False)
    assert no_e2e.store_path is not None  # matrix-nio without e2e: the store stays unused


def test_runner_refuses_to_start_without_a_store_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("MATRIX_STORE_KEY", "MATRIX_STORE_PATH", "MATRIX_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    db = f"sqlite:///{tmp_path}/db.sqlite"
    production = build_bot(make_settings(db), SimulatedClock())
    development = build_bot(make_settings(db, env="development"), SimulatedClock())
    try:
        if ENCRYPTION_ENABLED:
            with pytest.raises(StartupError, match="MATRIX_STORE_KEY is not set") as refused:
                run_matrix(production)
            assert "\n" not in str(refused.value)  # one clear line
        assert load_config(development).store_key == DEVELOPMENT_STORE_KEY
    finally:
        production.engine.dispose()
        development.engine.dispose()
    with pytest.raises(SettingsError, match="STADTLABOR_ENV: allowed is production or development"):
        load_settings(env="staging", _env_file=None)


@pytest.mark.skipif(not ENCRYPTION_ENABLED, reason="needs matrix-nio[e2e]")
async def test_crypto_store_is_private_to_the_bot(tmp_path: Path) -> None:
    store = tmp_path / "data" / "matrix-store"
    store.mkdir(parents=True, mode=0o755)
    (store / "old.db").write_bytes(b"")
    (store / "old.db").chmod(0o644)
    config = MatrixConfig("http://127.0.0.1:9", BOT, password="pw", store_path=store)
    client = make_client(config)
    await client.close()
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert stat.S_IMODE((store / "old.db").stat().st_mode) == 0o600
