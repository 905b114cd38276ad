"""Issue 11 on Matrix: every organiser-only command is refused to everybody else (real Synapse).

One shared room, three people with ordinary clients: a confirmed participant, a waitlisted
person and an outsider. Each types every organiser-only command of the permission table
(:mod:`tests.support.permission_cases`) as ``!stadtlabor …``, back to back; the bot answers
each privately in the person's DM room, in order (one worker handles the events in sequence),
so the n-th answer belongs to the n-th command. Each must be the refusal that says what to do
instead, nothing may go into the shared room, and the database must be unchanged.

The cohort, the registrations and the meeting are set up through the dispatcher with the same
Matrix identities the adapter uses: only the refusals need the round trips through Synapse.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from nio import RoomCreateResponse, RoomMessagesResponse

from app import Bot, build_bot
from bot.clock import SystemClock
from bot.context import Conversation, Request, Role
from bot.dispatcher import Dispatcher
from bot.identity import Identity
from handlers.matrix.bot import MatrixBot
from handlers.matrix.messenger import PLATFORM
from tests.helpers import make_settings
from tests.support.db_snapshot import differences, snapshot
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.permission_cases import CASES, MISSING, OTHERS, Case, expected_refusal
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import Human, bot_config, login_human

PREFIX = "!stadtlabor "
ANSWER_TIMEOUT = 60.0


async def _bot_messages(human: Human, room_id: str, bot_id: str) -> list[dict[str, Any]]:
    """The bot's messages in ``room_id``, oldest first, read from the room's history (a sync
    after many messages is "limited" and would skip some)."""
    resp = await human.client.room_messages(room_id, limit=200)
    assert isinstance(resp, RoomMessagesResponse), resp
    return [
        e.source
        for e in reversed(resp.chunk)
        if e.source.get("sender") == bot_id and e.source.get("type") == "m.room.message"
    ]


async def _until(
    check: Callable[[], Awaitable[Any]], what: str, timeout: float = ANSWER_TIMEOUT
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout}s")


def _setup(bot: Bot, room: str, orga: str, paul: str, wanda: str) -> None:
    """Cohort bound to the room (one place: Paul confirmed, Wanda waitlisted) and meeting 1."""

    def say(user: str, text: str) -> str:
        request = Request(Identity(PLATFORM, user), Conversation(PLATFORM, room), text, handle=user)
        return "\n".join(
            r.message.plain_text() for r in bot.dispatcher.handle(request) if r.message
        )

    assert "angelegt" in say(orga, 'jahrgang anlegen "Rechte" plaetze=1')
    for user, name in ((paul, "Paul"), (wanda, "Wanda")):
        answer = say(
            user,
            f'anmelden name="{name} Muster" kommune="{name}stadt" funktion=Bürgermeisterin '
            f"email={name.lower()}@example.org zustimmung=ja",
        )
        assert "Platz 1" in answer or "Warteliste" in answer, answer
    meeting = say(
        orga,
        'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr" '
        'ort="Hamburg"',
    )
    assert "Treffen 1" in meeting, meeting


def _check_roles(bot: Bot, room: str, people: dict[Role, Human]) -> None:
    with bot.uow_factory() as uow:
        cohort = uow.cohorts.get_by_channel(PLATFORM, room)
        assert cohort is not None
        for role, human in people.items():
            person = uow.persons.get_by_identity(PLATFORM, human.user_id)
            assert person is not None, role
            assert Dispatcher.role_of(uow, person, cohort) == role, human.user_id


async def _dm_room(human: Human, shared: str) -> str:
    async def joined() -> str | None:
        await human.sync()
        others = [r for r in human.client.rooms if r != shared]
        return others[0] if others else None

    room: str = await _until(joined, f"{human.user_id}: DM room from the bot", 30)
    return room


async def _send_all(human: Human, room: str, cases: list[Case]) -> None:
    for case in cases:
        await human.say(room, PREFIX + case.line)


async def test_organiser_commands_are_refused_over_matrix(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> None:
    assert MISSING == [], MISSING
    bot_user, orga = matrix_user("permbot"), matrix_user("orga")
    people: dict[Role, Human] = {
        role: await login_human(synapse, matrix_user(role[:5])) for role in OTHERS
    }
    bot = build_bot(
        make_settings(f"sqlite:///{tmp_path}/stadtlabor.db", organizers=f"{PLATFORM}:{orga[0]}"),
        SystemClock(),
    )
    matrix = MatrixBot(bot, bot_config(synapse, bot_user), flush_interval=0.2, poll_ms=1000)
    await matrix.start()
    paul, wanda, otto = (people[r] for r in OTHERS)
    try:
        created = await paul.client.room_create(
            name="Jahrgang", invite=[wanda.user_id, otto.user_id]
        )
        assert isinstance(created, RoomCreateResponse), created
        room = str(created.room_id)
        # bound to the cohort first: the bot declines a participant's invite to any other room
        await asyncio.to_thread(_setup, bot, room, orga[0], paul.user_id, wanda.user_id)
        await paul.client.room_invite(room, matrix.user_id)
        await paul.wait_for(
            lambda e: (
                e["room_id"] == room
                and e.get("type") == "m.room.member"
                and e.get("state_key") == matrix.user_id
                and e["content"].get("membership") == "join"
            ),
            timeout=30,
        )
        for human in (wanda, otto):
            await _until(partial(_joined, human, room), f"{human.user_id} joins", 30)

        # Each person's DM room with the bot, opened by a first command everybody may use.
        for human in people.values():
            await human.say(room, PREFIX + "hilfe")
        dms = {role: await _dm_room(human, room) for role, human in people.items()}
        for role, human in people.items():
            await _until(
                partial(_bot_messages, human, dms[role], matrix.user_id),
                f"{role}: help in the DM",
            )
        _check_roles(bot, room, people)
        await asyncio.sleep(1.0)  # a help text of several messages is complete
        baseline = {
            role: len(await _bot_messages(human, dms[role], matrix.user_id))
            for role, human in people.items()
        }
        before = snapshot(bot.engine)

        started = time.monotonic()
        per_role = {role: [c for c in CASES if c.role == role] for role in OTHERS}
        await asyncio.gather(*(_send_all(people[role], room, per_role[role]) for role in OTHERS))

        async def answered(role: Role) -> list[dict[str, Any]] | None:
            found = await _bot_messages(people[role], dms[role], matrix.user_id)
            new = found[baseline[role] :]
            return new if len(new) >= len(per_role[role]) else None

        answers = {role: await _until(partial(answered, role), role) for role in OTHERS}
        elapsed = time.monotonic() - started
        await asyncio.sleep(1.0)  # nothing more may follow
        wrong: list[str] = []
        for role in OTHERS:
            final = (await _bot_messages(people[role], dms[role], matrix.user_id))[baseline[role] :]
            assert len(final) == len(per_role[role]), (role, [e["content"]["body"] for e in final])
            for case, event in zip(per_role[role], answers[role], strict=True):
                body = str(event["content"].get("body", ""))
                if expected_refusal(case) not in body:
                    wrong.append(f"{case.line!r} as {role}: {body!r}")
        assert wrong == [], "\n".join(wrong)
        in_room = await _bot_messages(paul, room, matrix.user_id)
        leaked = [e for e in in_room if "vorbehalten" in str(e["content"].get("body"))]
        assert leaked == [], leaked
        assert differences(before, snapshot(bot.engine)) == {}
        assert elapsed < ANSWER_TIMEOUT
    finally:
        await matrix.stop()
        for human in people.values():
            await human.client.close()
        bot.engine.dispose()


async def _joined(human: Human, room: str) -> bool:
    await human.sync()
    return room in human.client.rooms
