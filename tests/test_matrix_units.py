"""Matrix adapter pieces without a homeserver: rendering, event filtering, config, retries."""

from __future__ import annotations

from typing import Any, cast

import pytest
from nio import MegolmEvent, RoomMessageText, RoomSendError, RoomSendResponse
from nio.exceptions import EncryptionError

from bot.actions import VoteAction
from bot.views import Actions, Bullets, Button, Header, Message, Note, Section
from handlers.matrix import render
from handlers.matrix.config import MatrixConfig, MatrixConfigError
from handlers.matrix.events import START_TOLERANCE_MS, incoming_text, is_command
from handlers.matrix.late_keys import LateKeys
from handlers.matrix.transport import MatrixSendError, Transport, clamp_wait

BOT = "@bot:example.org"
NOW = 1_800_000_000_000


def test_render_escapes_every_text_and_keeps_a_plain_body() -> None:
    message = Message(
        (
            Header("Treffen <3>"),
            Section(("Ort: Rathaus & Co", "Zeit: 10:00"), label="Hinweis"),
            Bullets(("a<b", "@room alle")),
            Note("klein"),
            Actions(
                (
                    Button("Ja", VoteAction(1, (1,)), hint="abstimmen 1 ja"),
                    Button("Nix", VoteAction(1, (2,))),
                )
            ),
        ),
        "Treffen",
    )
    content = render.content(message, language="en")
    assert content["msgtype"] == "m.notice" and content["m.mentions"] == {}
    assert content["body"] == (
        "Treffen <3>\nHinweis\nOrt: Rathaus & Co\nZeit: 10:00\n• a<b\n• @\u2060room alle\nklein\n"
        "Ja — Reply with: !stadtlabor abstimmen 1 ja"
    )
    assert content["formatted_body"] == (
        "<h4>Treffen &lt;3&gt;</h4><p><strong>Hinweis</strong><br>Ort: Rathaus &amp; Co<br>"
        "Zeit: 10:00</p><ul><li>a&lt;b</li><li>@\u2060room alle</li></ul><p><em>klein</em></p>"
        "<p>Ja — Reply with: <code>!stadtlabor abstimmen 1 ja</code></p>"
    )


def test_room_mentions_are_broken_in_any_case() -> None:
    assert render.neutralise("@ROOM und @room, nicht @roomy") == (
        "@\u2060ROOM und @\u2060room, nicht @roomy"
    )
    assert render.command_hint("!Stadtlabor hilfe") == "!Stadtlabor hilfe"


def test_edit_carries_new_content_without_relation() -> None:
    threaded = render.in_thread(render.content(Message.text("neu")), "$root", "$root")
    edited = render.edit(threaded, "$orig")
    assert edited["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$orig"}
    assert "m.relates_to" not in edited["m.new_content"] and edited["body"] == "* neu"


def _event(body: str, **content: Any) -> dict[str, Any]:
    return {
        "sender": "@anna:example.org",
        "event_id": "$e1",
        "origin_server_ts": NOW,
        "content": {"msgtype": "m.text", "body": body, **content},
    }


def _incoming(event: dict[str, Any], direct: bool = False) -> Any:
    return incoming_text("!r", event, own_user=BOT, is_direct=direct, started_ms=NOW)


def test_rooms_take_only_prefixed_commands_dms_take_everything() -> None:
    assert _incoming(_event("!stadtlabor hilfe")).text == "!stadtlabor hilfe"
    assert _incoming(_event("Hallo")) is None
    assert _incoming(_event("!stadtlaborx")) is None
    assert _incoming(_event("Beispielstadt"), direct=True).is_direct


def test_own_old_edited_and_notice_events_are_ignored() -> None:
    assert _incoming({**_event("!stadtlabor hilfe"), "sender": BOT}) is None
    old = {**_event("!stadtlabor hilfe"), "origin_server_ts": NOW - START_TOLERANCE_MS - 1}
    assert _incoming(old) is None
    edit = _event("* !stadtlabor hilfe", **{"m.new_content": {"body": "x"}})
    assert _incoming(edit) is None
    assert _incoming({**_event("x"), "content": {"msgtype": "m.notice", "body": "x"}}, True) is None


def test_reply_fallback_is_stripped_and_thread_is_kept() -> None:
    event = _event(
        "> <@bot:example.org> Welche Kommune?\n\nBeispielstadt",
        **{"m.relates_to": {"rel_type": "m.thread", "event_id": "$root", "m.in_reply_to": {}}},
    )
    incoming = _incoming(event, direct=True)
    assert (incoming.text, incoming.thread_root) == ("Beispielstadt", "$root")
    assert is_command("  !STADTLABOR\nhilfe")


def test_config_from_env_and_allowed_servers(tmp_path: Any) -> None:
    env = {
        "MATRIX_HOMESERVER": "https://matrix.example.org/",
        "MATRIX_USER_ID": "@bot:example.org",
        "MATRIX_PASSWORD": "pw",
        "MATRIX_ALLOWED_SERVERS": "example.org, Partner.de ",
        "MATRIX_STORE_KEY": "geheim",
    }
    config = MatrixConfig.from_env(env, f"sqlite:///{tmp_path}/db.sqlite")
    assert config.homeserver == "https://matrix.example.org"
    assert config.allows("@anna:partner.de") and not config.allows("@eve:evil.net")
    assert config.store_path == tmp_path.resolve() / "matrix-store"
    own_only = MatrixConfig.from_env({**env, "MATRIX_ALLOWED_SERVERS": ""})
    assert own_only.allows("@x:example.org") and not own_only.allows("@x:partner.de")
    with pytest.raises(MatrixConfigError, match="MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN"):
        MatrixConfig.from_env({**env, "MATRIX_PASSWORD": ""})
    with pytest.raises(MatrixConfigError, match="MATRIX_USER_ID"):
        MatrixConfig.from_env({**env, "MATRIX_USER_ID": "bot"})


def test_waits_are_clamped() -> None:
    assert clamp_wait(5) == 0.1 and clamp_wait(2500) == 2.5 and clamp_wait(10**9) == 30.0
    assert clamp_wait(None) == 1.0


class _LimitedClient:
    """Refuses the first two sends with M_LIMIT_EXCEEDED, like a busy homeserver."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.txn_ids: list[str] = []

    async def room_send(self, room_id: str, *_: Any, tx_id: str, **__: Any) -> Any:
        self.txn_ids.append(tx_id)
        if len(self.txn_ids) <= self.refusals:
            return RoomSendError("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=120_000)
        return RoomSendResponse("$sent", room_id)


async def test_resend_after_limit_reuses_the_transaction_id() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = _LimitedClient(refusals=2)
    transport = Transport(client, sleep=sleep)
    assert await transport.send("!r", "m.room.message", {"body": "x"}) == "$sent"
    assert len(client.txn_ids) == 3 and len(set(client.txn_ids)) == 1
    assert slept == [30.0, 30.0]  # two minutes asked, clamped

    stubborn = Transport(_LimitedClient(refusals=99), sleep=sleep)
    with pytest.raises(MatrixSendError, match="still rate limited"):
        await stubborn.send("!r", "m.room.message", {"body": "x"})


def test_runner_reports_missing_settings_as_startup_error(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import build_bot
    from bot.clock import SimulatedClock
    from bot.runtime import StartupError
    from handlers.matrix.runner import load_config, run_matrix
    from tests.helpers import make_settings

    for name in ("MATRIX_PASSWORD", "MATRIX_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MATRIX_HOMESERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("MATRIX_USER_ID", "@bot:localhost")
    monkeypatch.setenv("MATRIX_STORE_KEY", "geheim")
    bot = build_bot(make_settings(f"sqlite:///{tmp_path}/db.sqlite"), SimulatedClock())
    try:
        with pytest.raises(StartupError, match="MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN"):
            run_matrix(bot)
        monkeypatch.setenv("MATRIX_PASSWORD", "pw")
        assert load_config(bot).store_path == tmp_path.resolve() / "matrix-store"
    finally:
        bot.engine.dispose()


class _Crypto:
    """A client whose key store opens the sessions listed in ``keys``."""

    def __init__(self) -> None:
        self.olm = object()
        self.keys: set[str] = set()

    def decrypt_event(self, event: MegolmEvent) -> Any:
        if event.session_id not in self.keys:
            raise EncryptionError("no session")
        return RoomMessageText.from_dict(
            {
                "type": "m.room.message",
                "event_id": event.event_id,
                "sender": event.sender,
                "origin_server_ts": NOW,
                "content": {"msgtype": "m.text", "body": "!stadtlabor hilfe"},
            }
        )


def _megolm(event_id: str, session: str) -> MegolmEvent:
    event = MegolmEvent.from_dict(
        {
            "type": "m.room.encrypted",
            "event_id": event_id,
            "sender": "@berta:example.org",
            "origin_server_ts": NOW,
            "content": {
                "algorithm": "m.megolm.v1.aes-sha2",
                "ciphertext": "AwgA",
                "sender_key": "key",
                "session_id": session,
                "device_id": "PHONE",
            },
        }
    )
    assert isinstance(event, MegolmEvent)
    return event


def test_late_keys_decrypt_when_the_key_arrives_and_give_up_after_the_grace() -> None:
    now = [0.0]
    client = _Crypto()
    late = LateKeys(cast(Any, client), grace=8.0, limit=3, clock=lambda: now[0])
    assert late.hold("!r", _megolm("$a", "s1")) and late.hold("!r", _megolm("$b", "s2"))
    assert not late.hold("!r", _megolm("$a", "s1"))  # the same event is held once
    outcome = late.retry()
    assert outcome.decrypted == [] and outcome.given_up == [] and len(late) == 2

    client.keys.add("s1")  # the key for $a arrives
    now[0] = 3.0
    outcome = late.retry()
    assert [(room, e.event_id) for room, e in outcome.decrypted] == [("!r", "$a")]
    assert isinstance(outcome.decrypted[0][1], RoomMessageText) and len(late) == 1

    now[0] = 8.0  # $b has waited its grace: given up, and no longer held
    outcome = late.retry()
    assert [h.event.event_id for h in outcome.given_up] == ["$b"] and len(late) == 0


def test_late_keys_are_bounded_the_oldest_is_given_up_first() -> None:
    late = LateKeys(cast(Any, _Crypto()), grace=60.0, limit=2, clock=lambda: 0.0)
    for n in range(3):
        late.hold("!r", _megolm(f"$e{n}", f"s{n}"))
    outcome = late.retry()
    assert [h.event.event_id for h in outcome.given_up] == ["$e0"] and len(late) == 2
