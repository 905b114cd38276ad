"""Issue 10's scenario: an organiser sets up the cohort in a room, a person registers there
and answers the DM prompts one by one (the guided dialog), all through a real Synapse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import Event, Human, World, body_has, bot_config, login_human, make_bot

ANSWERS = [  # (what the bot asks, what the person answers)
    ("Ihr Name", "Berta Muster"),
    ("Ihre Kommune", "Bertastadt"),
    ("Ihre Funktion", "1"),
    ("Ihre E-Mail-Adresse", "berta@example.org"),
    ("Büroleitung", "-"),
    ("willige ein", "ja"),
]


def private(human: Human, bot_id: str, shared_room: str) -> list[Event]:
    return [e for e in human.from_bot(bot_id) if e["room_id"] != shared_room]


async def test_register_by_answering_dm_prompts(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> None:
    bot_user, person = matrix_user("dialogbot"), matrix_user("berta")
    human = await login_human(synapse, person)
    bot = make_bot(tmp_path, organizers=f"matrix:{person[0]}")
    world = World(synapse, bot, bot_config(synapse, bot_user), human)
    try:
        matrix = await world.start_bot()
        room = await world.shared_room()
        command = await human.say(
            room, '!stadtlabor jahrgang anlegen "Stadtlabor 2026/27" plaetze=3'
        )
        created = await human.wait_for(body_has(matrix.user_id, "angelegt"))
        await human.say(room, "!stadtlabor anmelden")
        asked: list[str] = []
        while not any("Sie sind angemeldet" in q for q in asked):
            await human.wait_for(lambda e: len(private(human, matrix.user_id, room)) > len(asked))
            prompt = private(human, matrix.user_id, room)[len(asked)]
            asked.append(prompt["content"]["body"])
            answer = [a for q, a in ANSWERS if q in asked[-1]]
            if answer:  # the display name is known already, so "Ihr Name" may be skipped
                await human.say(prompt["room_id"], answer[0])
        done = prompt
    finally:
        for running in list(world.running):
            await running.stop()
        await human.client.close()
        bot.engine.dispose()

    # the public answer is a thread under the command, with the reply fallback
    assert created["room_id"] == room
    assert created["content"]["m.relates_to"]["event_id"] == command
    assert created["content"]["m.relates_to"]["rel_type"] == "m.thread"
    # the prompts and the confirmation are private: in the DM, never in the room
    assert done["room_id"] != room
    assert [e for e in human.from_bot(matrix.user_id, room)] == [created]
    assert matrix.direct.created_count == 1
    assert "Sie sind angemeldet: Platz 1 von 3" in done["content"]["body"]
    assert any("Ihre E-Mail-Adresse" in q for q in asked) and len(asked) >= 5
