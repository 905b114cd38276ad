"""Self-test of the Synapse harness with a real matrix-nio client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    JoinResponse,
    LoginResponse,
    RoomCreateResponse,
    RoomMessageText,
    RoomSendError,
    RoomSendResponse,
    SyncResponse,
    UnknownEvent,
)

from tests.support.synapse import MatrixUser, SynapseError, SynapseServer, rate_limit_overrides

pytest_plugins = ["tests.support.fixtures_matrix"]  # fixtures: synapse, matrix_user


async def _login(
    server: SynapseServer, user: MatrixUser, config: AsyncClientConfig | None = None
) -> AsyncClient:
    client = AsyncClient(server.base_url, user[0], config=config)
    resp = await client.login(user[2], device_name="harness-test")
    assert isinstance(resp, LoginResponse), resp
    return client


async def _sync_until(
    client: AsyncClient, room_id: str, predicate: Callable[[Any], bool], timeout: float = 15.0
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = await client.sync(timeout=1000)
        assert isinstance(resp, SyncResponse), resp
        room = resp.rooms.join.get(room_id)
        for event in room.timeline.events if room else []:
            if predicate(event):
                return event
    raise AssertionError(f"no matching event in {room_id} within {timeout}s")


@pytest.fixture
async def pair(
    synapse: SynapseServer, matrix_user: Callable[[str], MatrixUser]
) -> AsyncIterator[tuple[AsyncClient, AsyncClient, str]]:
    alice = await _login(synapse, matrix_user("alice"))
    bob_user = matrix_user("bob")
    bob = await _login(synapse, bob_user)
    try:
        created = await alice.room_create(name="Kohorte", invite=[bob_user[0]])
        assert isinstance(created, RoomCreateResponse), created
        invite = await bob.sync(timeout=1000)
        assert isinstance(invite, SyncResponse)
        assert created.room_id in invite.rooms.invite
        assert any(
            isinstance(e, InviteMemberEvent)
            for e in invite.rooms.invite[created.room_id].invite_state
        )
        joined = await bob.join(created.room_id)
        assert isinstance(joined, JoinResponse), joined
        await bob.sync(timeout=1000)
        yield alice, bob, created.room_id
    finally:
        await alice.close()
        await bob.close()


async def test_invite_join_message_roundtrip(pair: tuple[AsyncClient, AsyncClient, str]) -> None:
    alice, bob, room_id = pair
    sent = await bob.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "Hallo!"})
    assert isinstance(sent, RoomSendResponse), sent
    event = await _sync_until(alice, room_id, lambda e: isinstance(e, RoomMessageText))
    assert (event.body, event.sender, event.event_id) == ("Hallo!", bob.user_id, sent.event_id)


async def test_custom_poll_event_arrives_as_unknown_event(
    pair: tuple[AsyncClient, AsyncClient, str],
) -> None:
    alice, bob, room_id = pair
    poll = {
        "m.poll": {
            "kind": "m.disclosed",
            "max_selections": 1,
            "question": {"m.text": [{"body": "Termin?"}]},
            "answers": [
                {"m.id": "a", "m.text": [{"body": "Mo"}]},
                {"m.id": "b", "m.text": [{"body": "Di"}]},
            ],
        },
        "m.text": [{"body": "Termin? Mo / Di"}],
    }
    sent = await alice.room_send(room_id, "m.poll.start", poll)
    assert isinstance(sent, RoomSendResponse), sent
    event = await _sync_until(bob, room_id, lambda e: isinstance(e, UnknownEvent))
    assert event.type == "m.poll.start" and event.event_id == sent.event_id
    assert event.source["content"]["m.poll"]["answers"][1]["m.id"] == "b"


def test_register_user_and_admin_flag(synapse: SynapseServer) -> None:
    user_id, token = synapse.register_user("harness_admin", "pw", admin=True)
    assert user_id == "@harness_admin:localhost" and synapse.server_name == "localhost"
    whoami = synapse.request("GET", "/_matrix/client/v3/account/whoami", token=token)
    assert whoami["user_id"] == user_id
    admin = synapse.request("GET", f"/_synapse/admin/v2/users/{user_id}", token=token)
    assert admin["admin"] is True
    with pytest.raises(SynapseError, match="M_USER_IN_USE"):
        synapse.register_user("harness_admin", "pw")


def test_generated_config_is_locked_down(synapse: SynapseServer) -> None:
    config = synapse.config
    (listener,) = config["listeners"]
    assert listener["bind_addresses"] == ["127.0.0.1"] and listener["port"] == synapse.port
    assert config["trusted_key_servers"] == [] and config["federation_domain_whitelist"] == []
    assert config["database"]["name"] == "sqlite3" and config["presence"] == {"enabled": False}
    assert config["rc_message"]["per_second"] >= 1000 and config["rc_invites"]["per_user"]
    assert rate_limit_overrides((0.5, 2))["rc_message"] == {"per_second": 0.5, "burst_count": 2}


async def test_low_rc_message_yields_limit_exceeded(synapse: SynapseServer) -> None:
    # a second, separate server (the shared one has high limits); `synapse` only for skip/fail
    with SynapseServer(venv=synapse.venv, rc_message=(0.1, 2)) as server:
        user_id, _ = server.register_user("chatty", "pw")
        no_retry = AsyncClientConfig(max_limit_exceeded=0)  # nio would sleep and retry 429s
        client = await _login(server, (user_id, "", "pw"), no_retry)
        try:
            room = await client.room_create(name="Limit")
            assert isinstance(room, RoomCreateResponse), room
            answers = [
                await client.room_send(
                    room.room_id, "m.room.message", {"msgtype": "m.text", "body": str(i)}
                )
                for i in range(4)
            ]
        finally:
            await client.close()
    errors = [a for a in answers if isinstance(a, RoomSendError)]
    assert errors and errors[0].status_code == "M_LIMIT_EXCEEDED"
    assert errors[0].retry_after_ms is not None and errors[0].retry_after_ms > 0
    assert isinstance(answers[0], RoomSendResponse)


def test_missing_install_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SynapseError, match="not installed"):
        SynapseServer(venv=tmp_path / "no-venv").start()
