"""Networking against a real Synapse: the profile dialog by DM, "wer kennt sich aus", vorstellen,
the tandem answer and the Vorhaben check-in dialog."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from nio import JoinedMembersResponse, RoomInviteResponse
from sqlalchemy import text

from tests.helpers import Driver, signup
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import World, body_has, bot_config, login_human, make_bot


@pytest.fixture
async def world(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[World]:
    bot_user, person = matrix_user("netzbot"), matrix_user("nora")
    human = await login_human(synapse, person)
    bot = make_bot(tmp_path, organizers=f"matrix:{person[0]}", profile_question=True)
    world = World(synapse, bot, bot_config(synapse, bot_user), human)
    try:
        yield world
    finally:
        for matrix in list(world.running):
            await matrix.stop()
        await human.client.close()
        world.bot.engine.dispose()


async def test_networking_over_matrix(world: World) -> None:
    matrix = await world.start_bot()
    human, bot_id = world.human, matrix.user_id
    room = await world.shared_room()
    await human.say(room, '!stadtlabor jahrgang anlegen "Vernetzung Matrix" plaetze=5')
    await human.wait_for(body_has(bot_id, "angelegt"))
    await human.say(room, "!stadtlabor " + signup("nora", kommune="Lübeck"))
    asked = await human.wait_for(body_has(bot_id, "Möchten Sie Ihr Profil ausfüllen?"))
    dm = asked["room_id"]
    # a second participant, on the console of the same bot
    console = Driver(world.bot)
    console.say("ben", signup("ben"), dm=True)
    console.say("ben", 'profil aendern themen="ÖPNV, Pflege"', dm=True)

    await human.say(dm, "profil aendern")  # the form, asked field by field in the DM
    await human.wait_for(body_has(bot_id, "Ihre Themen"))
    for answer in ("Senioren-Wohnen, Ehrenamt", "Seniorenbüro", "-", "Planung"):
        await human.say(dm, answer)
    saved = await human.wait_for(body_has(bot_id, "Ihr Profil ist gespeichert"))
    body = saved["content"]["body"]
    assert "Themen: Wohnen im Alter, Ehrenamt" in body and "Größe: Großstadt" in body, body

    await human.say(dm, "wer kennt sich aus mit Nahverkehr")
    found = await human.wait_for(body_has(bot_id, "Wer sich mit „Nahverkehr“ auskennt"))
    assert (
        "Ben Muster (Benstadt) – Expertise: Mobilität (verwandtes Thema)"
        in (found["content"]["body"])
    )
    await human.say(dm, 'vorstellen "Ben Muster" thema=Mobilität')
    await human.wait_for(body_has(bot_id, "Ich habe Ben Muster gefragt"))
    in_room = [e["content"]["body"] for e in human.from_bot(bot_id, room)]
    assert not [b for b in in_room if "Ben Muster" in b]  # answered privately, in the DM
    console.flush()
    assert any(
        "Nora Muster (Lübeck) möchte Sie gern kennenlernen" in t
        for t in console.messenger.texts("dm")
    )


async def _due_now(world: World, key: str) -> None:
    """Time passes in the database: the due row ``key`` is moved to now and the due work runs
    (the bot runs on the real clock here, so the outbox sends at once)."""
    now = world.bot.clock.now()
    with world.bot.uow_factory() as uow:
        row = uow.reminders.by_key(key)
        assert row is not None and row.status == "pending", key
        row.due_at = now
        uow.commit()
    await asyncio.to_thread(world.bot.due.run_due, now)  # off the loop, as the engine does


async def test_tandem_answer_and_checkin_over_matrix(world: World) -> None:
    matrix = await world.start_bot()
    human, bot_id = world.human, matrix.user_id
    room = await world.shared_room()
    await human.say(room, '!stadtlabor jahrgang anlegen "Nachfassen Matrix" plaetze=5')
    await human.wait_for(body_has(bot_id, "angelegt"))
    await human.say(room, "!stadtlabor " + signup("nora", kommune="Lübeck"))
    dm = (await human.wait_for(body_has(bot_id, "Möchten Sie Ihr Profil ausfüllen?")))["room_id"]
    console = Driver(world.bot)
    console.say("ben", signup("ben"), dm=True)
    await human.say(dm, 'profil aendern vorhaben="Quartiersbüro" stand=Umsetzung')
    await human.wait_for(body_has(bot_id, "Ihr Profil ist gespeichert"))

    await human.say(room, "!stadtlabor checkin tag an")
    await human.wait_for(body_has(bot_id, "jeden ersten Montag im Monat"))
    await _due_now(world, "checkin:1")
    await human.wait_for(body_has(bot_id, "Wie steht es um Ihr Vorhaben „Quartiersbüro“?"))
    await human.say(dm, "checkin")  # the three questions, asked one by one in the DM
    await human.wait_for(body_has(bot_id, "1. Was ist vorangekommen?"))
    for answer in ("Räume gefunden", "Träger fehlt", "Kontakte zu Trägern"):
        await human.say(dm, answer)
    await human.wait_for(body_has(bot_id, "Mit dem Jahrgang teilen?"))
    await human.say(dm, "ja")
    await human.wait_for(body_has(bot_id, "für den Jahrgang sichtbar"))
    assert "Träger fehlt" in console.say("ben", "checkins", dm=True)

    await human.say(room, "!stadtlabor tandems starten bis=31.12.2026")
    await human.wait_for(body_has(bot_id, "Tandem-Runde 1"))
    await _due_now(world, "tandem-ask:1")
    asked = await human.wait_for(body_has(bot_id, "Haben Sie sich mit Ben Muster ausgetauscht?"))
    assert asked["room_id"] == dm
    await human.say(dm, "tandem ja Zuhören lohnt sich.")
    await human.wait_for(body_has(bot_id, "Ihre Erkenntnis ist gespeichert"))
    await human.say(dm, "tandems stand")
    status = await human.wait_for(body_has(bot_id, "Tandems haben sich ausgetauscht"))
    assert "Zuhören lohnt sich." in status["content"]["body"]


async def test_an_accepted_introduction_opens_a_private_room_with_both(
    world: World,
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
) -> None:
    matrix = await world.start_bot()
    nora, bot_id = world.human, matrix.user_id
    mara = await login_human(world.synapse, matrix_user("mara"))
    try:
        room = await world.shared_room()
        await nora.say(room, '!stadtlabor jahrgang anlegen "Vorstellen Matrix" plaetze=5')
        await nora.wait_for(body_has(bot_id, "angelegt"))
        invited = await nora.client.room_invite(room, mara.user_id)
        assert isinstance(invited, RoomInviteResponse), invited
        await mara.sync()  # she accepts the invitation
        for human, user in ((nora, "nora"), (mara, "mara")):
            await human.say(room, "!stadtlabor " + signup(user))
            await human.wait_for(body_has(bot_id, "Möchten Sie Ihr Profil ausfüllen?"))
        nora_dm = (await nora.wait_for(body_has(bot_id, "Möchten Sie Ihr Profil")))["room_id"]
        await nora.say(nora_dm, 'vorstellen "Mara Muster" thema=Pflege')
        await nora.wait_for(body_has(bot_id, "Ich habe Mara Muster gefragt"))
        ask = await mara.wait_for(body_has(bot_id, "möchte Sie gern kennenlernen"))
        assert "Nora Muster (Norastadt)" in ask["content"]["body"]
        assert "vorstellen annehmen" in ask["content"]["body"]  # the button's typed form
        await mara.say(ask["room_id"], "vorstellen annehmen")
        intro = await mara.wait_for(body_has(bot_id, "Darf ich vorstellen: Nora Muster"))
        group = intro["room_id"]
        assert group not in (room, ask["room_id"], nora_dm)
        assert "Mara Muster (Marastadt)" in intro["content"]["body"]
        seen = await nora.wait_for(body_has(bot_id, "Darf ich vorstellen: Nora Muster"))
        assert seen["room_id"] == group
        members = await nora.client.joined_members(group)
        assert isinstance(members, JoinedMembersResponse), members
        assert {m.user_id for m in members.members} == {bot_id, nora.user_id, mara.user_id}
        with world.bot.engine.connect() as conn:
            stored = conn.execute(
                text("select conversation_platform, conversation_id from introductions")
            ).one()
        assert tuple(stored) == ("matrix", group)
        await nora.wait_for(body_has(bot_id, "Mara Muster hat Ihre Anfrage angenommen"))
        await nora.say(group, "Guten Tag, Frau Muster!")  # chat among them: the bot stays quiet
        await mara.wait_for(lambda e: "Guten Tag, Frau Muster" in str(e.get("content")))
        await asyncio.sleep(1.5)
        await mara.sync()
        assert len(mara.from_bot(bot_id, group)) == 1
    finally:
        await mara.client.close()
