"""Native Matrix polls (issue 10): m.poll.start with both forms, votes as stable and unstable
m.poll.response and as a numeric reply, the companion tally edit, m.poll.end on close —
against a real Synapse; plus the pure event functions without a server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from nio import RoomCreateResponse
from nio.crypto import ENCRYPTION_ENABLED
from sqlalchemy import select

from app import Bot, build_bot
from bot.actions import VoteAction
from bot.clock import SystemClock
from bot.context import Conversation, Request
from bot.i18n import translator
from bot.identity import Identity
from bot.services.poll_results import tally
from bot.services.poll_views import Tally, native_poll, poll_message
from bot.views import Message, NativePoll
from handlers.matrix import polls as mp
from handlers.matrix import render
from handlers.matrix.direct import DirectRooms
from handlers.matrix.messenger import AsyncMatrixMessenger
from handlers.matrix.state import MatrixState
from handlers.matrix.transport import MatrixSendError, Transport
from storage.models import Poll, PollOption
from tests.helpers import make_settings
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import Event, Human, World, body_has, bot_config, login_human
from tests.test_matrix_e2ee import ENCRYPTION, crypto_human

QUESTION = 'umfrage "Welches Thema zuerst?" "Wohnen" "Mobilität" "Pflege" mehrfach=2 sofort'


def make_bot(tmp_path: Path, **settings: object) -> Bot:
    """A bot on the wall clock: the outbox paces each room in real seconds."""
    settings_ = make_settings(f"sqlite:///{tmp_path}/stadtlabor.db", **settings)
    return build_bot(settings_, SystemClock())


def signup(name: str) -> str:
    return (
        f'anmelden name="{name} Muster" kommune="{name}stadt" funktion=Bürgermeisterin '
        f"email={name.lower()}@example.org zustimmung=ja"
    )


async def command(bot: Bot, identity: Identity, channel: str, text: str) -> str:
    """Run a command as ``identity`` in a shared channel (set-up without a client round trip)."""
    request = Request(identity, Conversation(identity.platform, channel, False), text)
    replies = await asyncio.to_thread(bot.dispatcher.handle, request)
    return "\n".join(r.message.plain_text() for r in replies if r.message)


def poll_counts(bot: Bot, number: int = 1) -> tuple[dict[int, int], int]:
    with bot.uow_factory() as uow:
        poll = uow.session.scalars(select(Poll).where(Poll.number == number)).one()
        counted = tally(uow, poll)
        return counted.counts, counted.ballots


def from_bot(bot_id: str, event_type: str) -> Callable[[Event], bool]:
    return lambda e: e.get("sender") == bot_id and e.get("type") == event_type


def edit_of(bot_id: str, event_id: str, text: str) -> Callable[[Event], bool]:
    def check(e: Event) -> bool:
        content = e.get("content", {})
        relates = content.get("m.relates_to", {})
        new = content.get("m.new_content", {})
        return (
            e.get("sender") == bot_id
            and relates.get("rel_type") == "m.replace"
            and relates.get("event_id") == event_id
            and text in new.get("body", "")
        )

    return check


def replying_to(bot_id: str, event_id: str) -> Callable[[Event], bool]:
    """The bot's companion message: the official tally, a reply to the native poll."""

    def check(e: Event) -> bool:
        relates = e.get("content", {}).get("m.relates_to", {})
        return (
            e.get("sender") == bot_id
            and relates.get("m.in_reply_to", {}).get("event_id") == event_id
            and "m.new_content" not in e.get("content", {})
        )

    return check


def reference(start: str) -> dict[str, Any]:
    return {"rel_type": "m.reference", "event_id": start}


async def send(human: Human, room: str, event_type: str, content: dict[str, Any]) -> str:
    resp = await human.client.room_send(room, event_type, content)
    return str(getattr(resp, "event_id", resp))


async def join(human: Human, room: str, who: str | None = None) -> None:
    """Until ``who`` (default: the human) has joined ``room``, as the human sees it."""
    await human.wait_for(
        lambda e: (
            e["room_id"] == room
            and e.get("type") == "m.room.member"
            and e.get("state_key") == (who or human.user_id)
            and e["content"].get("membership") == "join"
        )
    )


async def test_native_poll_votes_in_both_forms_edit_and_end(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> None:
    bot_user, anna_user, ben_user = matrix_user("pollbot"), matrix_user("anna"), matrix_user("ben")
    anna, ben = await login_human(synapse, anna_user), await login_human(synapse, ben_user)
    bot = make_bot(tmp_path, organizers=f"matrix:{anna_user[0]}")
    world = World(synapse, bot, bot_config(synapse, bot_user), anna)
    try:
        matrix = await world.start_bot()
        bot_id = matrix.user_id
        room = await world.shared_room()
        await anna.client.room_invite(room, ben.user_id)
        await join(ben, room)
        a, b = Identity("matrix", anna.user_id), Identity("matrix", ben.user_id)
        assert "angelegt" in await command(bot, a, room, 'jahrgang anlegen "SL" plaetze=5')
        assert "angemeldet" in await command(bot, a, room, signup("Anna"))
        assert "angemeldet" in await command(bot, b, room, signup("Ben"))
        await command(bot, a, room, QUESTION)
        await command(bot, a, room, 'umfrage "Geheim?" "Ja" "Nein" anonym sofort')

        start = await ben.wait_for(from_bot(bot_id, mp.START))
        companion = await ben.wait_for(replying_to(bot_id, start["event_id"]))
        secret = await ben.wait_for(lambda e: "Umfrage 2: Geheim?" in e["content"].get("body", ""))
        start_id = start["event_id"]

        stable = {"m.selections": ["1", "2"], "m.relates_to": reference(start_id)}
        await send(anna, room, "m.poll.response", stable)
        unstable = {mp.UNSTABLE_RESPONSE: {"answers": ["2"]}, "m.relates_to": reference(start_id)}
        await send(ben, room, mp.UNSTABLE_RESPONSE, unstable)
        await ben.wait_for(edit_of(bot_id, companion["event_id"], "2 Stimmzettel abgegeben"))
        assert poll_counts(bot) == ({1: 1, 2: 2}, 2)
        confirmation = await ben.wait_for(
            lambda e: "Ihre Stimme in Umfrage 1" in e["content"].get("body", "")
        )

        to_poll = {"m.in_reply_to": {"event_id": start_id}}
        reply = {"msgtype": "m.text", "body": "2, 3", "m.relates_to": to_poll}
        # a numeric reply is the whole choice, like "abstimmen 1 2,3" (it replaces ben's "2")
        await send(ben, room, "m.room.message", reply)
        await ben.wait_for(edit_of(bot_id, companion["event_id"], "3. Pflege — ▇▇▇▇▇░░░░░ 50 %"))
        assert poll_counts(bot) == ({1: 1, 2: 2, 3: 1}, 2)
        again = {"m.selections": ["3"], "m.relates_to": reference(start_id)}
        await send(anna, room, "m.poll.response", again)  # a new response replaces the choice
        await ben.wait_for(edit_of(bot_id, companion["event_id"], "3. Pflege — ▇▇▇▇▇▇▇▇▇▇ 100 %"))
        assert poll_counts(bot) == ({2: 1, 3: 2}, 2)

        await ben.say(room, "!stadtlabor umfrage 1")  # shown on request: text, by DM
        shown = await ben.wait_for(
            lambda e: e["room_id"] != room and "Pflege — " in e["content"].get("body", "")
        )
        assert "geschlossen" in await command(bot, a, room, "umfrage 1 schliessen")
        end = await ben.wait_for(from_bot(bot_id, mp.END))
        await ben.wait_for(edit_of(bot_id, companion["event_id"], "geschlossen"))
    finally:
        for running in list(world.running):
            await running.stop()
        for human in (anna, ben):
            await human.client.close()
        bot.engine.dispose()

    content = start["content"]
    assert content["m.poll"]["kind"] == "m.disclosed" and content["m.poll"]["max_selections"] == 2
    assert content["m.poll"]["question"]["m.text"][0]["body"] == "Umfrage 1: Welches Thema zuerst?"
    assert [a["m.id"] for a in content["m.poll"]["answers"]] == ["1", "2", "3"]
    unstable_start = content[mp.UNSTABLE_START]
    assert unstable_start["kind"] == "org.matrix.msc3381.poll.disclosed"
    labels = [a[mp.UNSTABLE_TEXT] for a in unstable_start["answers"]]
    assert labels == ["Wohnen", "Mobilität", "Pflege"]
    assert "antworten Sie mit 1–3" in content["body"] == content["m.text"][0]["body"]
    # anonymous polls are never native: a text post, voted by DM
    assert secret["type"] == "m.room.message" and "Direktnachricht" in secret["content"]["body"]
    assert [e for e in ben.events if e.get("type") == mp.START] == [start]
    assert shown["type"] == "m.room.message" and shown["room_id"] == confirmation["room_id"]
    # the confirmation of a native vote is private (the voter's DM), never in the room
    assert confirmation["room_id"] != room
    # closing: m.poll.end in both forms, referencing the start, with the results
    assert end["content"]["m.relates_to"] == reference(start_id)
    assert mp.UNSTABLE_END in end["content"]
    assert "2. Mobilität — ▇▇▇▇▇░░░░░ 50 %" in end["content"]["m.text"][0]["body"]
    assert "geschlossen" in end["content"]["body"]
    assert "Ergebnis live" not in end["content"]["body"]  # issue 15: closed, not live


# -- the pure functions, without a server -------------------------------------------------
POLL = NativePoll(poll_id=7, number=3, question="Umfrage 3: Was?", options=("A", "B"))
TARGET = mp.PollTarget(poll_id=7, number=3, max_choices=2, n_options=3)


def event(content: dict[str, Any], sender: str = "@anna:hs") -> dict[str, Any]:
    return {"sender": sender, "origin_server_ts": 10**13, "event_id": "$e", "content": content}


def test_responses_of_either_form_become_typed_votes() -> None:
    rel = reference("$start")
    raw = event({"m.selections": ["2"], "m.relates_to": rel})
    stable = mp.poll_response(raw, own_user="@bot:hs", started_ms=0)
    assert stable is not None and stable.targets == ("$start",)
    # a response is the whole choice: it replaces the ballot (no text, no trailing comma)
    assert mp.vote_action(TARGET, stable) == VoteAction(7, (2,), "replace")
    unstable = mp.poll_response(
        event({mp.UNSTABLE_RESPONSE: {"answers": ["3", "1", "2", "9"]}, "m.relates_to": rel}),
        own_user="@bot:hs",
        started_ms=0,
    )
    assert unstable is not None and mp.vote_action(TARGET, unstable) == VoteAction(7, (3, 1))
    empty = mp.PollVote(("$start",), ())
    assert mp.vote_action(TARGET, empty) == VoteAction(7, (), "replace")  # withdraws
    assert mp.vote_action(TARGET, mp.PollVote(("$s",), ("x", "0"))) is None  # spoiled
    own = event({"m.selections": ["1"], "m.relates_to": rel}, sender="@bot:hs")
    assert mp.poll_response(own, own_user="@bot:hs", started_ms=0) is None


def test_numeric_replies_count_other_replies_do_not() -> None:
    def reply(body: str, relates: dict[str, Any]) -> mp.PollVote | None:
        content = {"msgtype": "m.text", "body": body, "m.relates_to": relates}
        return mp.poll_reply(event(content), own_user="@bot:hs", started_ms=0)

    in_reply = {"m.in_reply_to": {"event_id": "$poll"}}
    got = reply("> <@bot:hs> Umfrage\n\n1, 3", in_reply)
    assert got is not None and got.targets == ("$poll",) and got.text == "1, 3"
    assert mp.vote_action(TARGET, got) == VoteAction(7, (1, 3), "replace")
    thread = {"rel_type": "m.thread", "event_id": "$root", "m.in_reply_to": {"event_id": "$x"}}
    got = reply("2", thread)
    assert got is not None and got.targets == ("$root", "$x")
    assert reply("Ich finde 2 gut", in_reply) is None
    assert reply("2", {}) is None


def test_start_and_end_content_carry_both_forms_without_room_mentions() -> None:
    poll = NativePoll(7, 3, "Umfrage 3: @room?", ("A", "B"), 1)
    start = mp.start_content(poll)
    assert "@room" not in start["body"] and "@\u2060room" in start["body"]
    assert start["m.poll"]["answers"][1] == {"m.id": "2", "m.text": [{"body": "B"}]}
    assert start[mp.UNSTABLE_START]["answers"][0] == {"id": "1", mp.UNSTABLE_TEXT: "A"}
    end = mp.end_content("$start", "Ergebnis: A")
    assert end["m.text"] == [{"body": "Ergebnis: A"}] and end[mp.UNSTABLE_TEXT] == "Ergebnis: A"


def test_message_with_a_native_poll_survives_the_outbox_payload() -> None:
    message = Message(Message.text("x").blocks, "x", poll=POLL)
    assert Message.from_dict(message.to_dict()) == message
    assert "poll" not in Message.text("x").to_dict()  # old payloads stay unchanged


@pytest.mark.skipif(not ENCRYPTION_ENABLED, reason="needs matrix-nio[e2e]")
async def test_native_poll_in_an_encrypted_room(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> None:
    bot_user, person = matrix_user("cryptopollbot"), matrix_user("carla")
    human = await crypto_human(synapse, person, tmp_path / "human", "carla-phone")
    client = human.client
    bot = make_bot(tmp_path, organizers=f"matrix:{person[0]}")
    config = bot_config(synapse, bot_user, store_path=tmp_path / "bot-store")
    world = World(synapse, bot, config, human)
    try:
        matrix = await world.start_bot()
        created = await client.room_create(
            name="Verschlüsselt", invite=[matrix.user_id], initial_state=[ENCRYPTION]
        )
        assert isinstance(created, RoomCreateResponse), created
        room = created.room_id
        await join(human, room, matrix.user_id)
        c = Identity("matrix", human.user_id)
        assert "angelegt" in await command(bot, c, room, 'jahrgang anlegen "SL" plaetze=5')
        assert "angemeldet" in await command(bot, c, room, signup("Carla"))
        await command(bot, c, room, 'umfrage "Wann?" "Morgens" "Abends" sofort')
        start = await human.wait_for(from_bot(matrix.user_id, mp.START), timeout=30)
        companion = await human.wait_for(replying_to(matrix.user_id, start["event_id"]))
        answer = {"m.selections": ["2"], "m.relates_to": reference(start["event_id"])}
        await human.client.room_send(
            room, "m.poll.response", answer, ignore_unverified_devices=True
        )
        await human.wait_for(edit_of(matrix.user_id, companion["event_id"], "1 Stimmzettel"), 30)
        counts = poll_counts(bot)
    finally:
        for running in list(world.running):
            await running.stop()
        await client.close()
        bot.engine.dispose()

    assert counts == ({2: 1}, 1)
    stored = synapse.request(
        "GET",
        f"/_matrix/client/v3/rooms/{quote(room)}/event/{quote(start['event_id'])}",
        token=client.access_token,
    )
    assert stored["type"] == "m.room.encrypted"  # the poll itself is end-to-end encrypted


class FakeTransport:
    """Records sends; the first companion (``m.room.message``) fails once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.failures = 1

    async def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        if event_type == "m.room.message" and self.failures:
            self.failures -= 1
            raise MatrixSendError("refused")
        self.sent.append((event_type, content))
        return f"$e{len(self.sent)}"


async def test_retried_post_keeps_one_poll_and_close_ends_it_once(bot: Bot) -> None:
    fake = FakeTransport()
    transport = cast(Transport, fake)
    state = MatrixState(bot.uow_factory)
    messenger = AsyncMatrixMessenger(transport, DirectRooms(transport, state, encrypt=False), state)
    message = Message(Message.text("Umfrage 3: Was?").blocks, "x", poll=POLL)
    with pytest.raises(MatrixSendError):
        await messenger.post("!room", message)
    ref = await messenger.post("!room", message)  # the outbox's retry
    closed = replace(message, poll=replace(POLL, closed=True))
    await messenger.update(ref, closed)
    await messenger.update(ref, closed)  # a second close edit does not end it again

    types = [t for t, _ in fake.sent]
    assert types == [mp.START, "m.room.message", "m.room.message", mp.END, "m.room.message"]
    assert ref.message_id == "$e1" and fake.sent[2][1]["m.relates_to"]["event_id"] == "$e2"
    assert fake.sent[3][1]["m.relates_to"] == reference("$e1")
    assert state.get(mp.poll_key("$e2")) == "7"  # a reply to the companion finds the poll


def test_only_named_polls_with_live_results_are_native() -> None:
    options = [PollOption(position=1, label="A"), PollOption(position=2, label="B")]

    def native(**flags: bool) -> NativePoll | None:
        poll = Poll(id=4, number=2, question="Q", max_choices=2, closed_at=None, **flags)
        return native_poll(poll, options, "Umfrage 2: Q")

    assert native(anonymous=True, results_live=True) is None
    assert native(anonymous=False, results_live=False) is None  # ergebnis=ende
    assert native(anonymous=False, results_live=True) == NativePoll(
        4, 2, "Umfrage 2: Q", ("A", "B"), max_choices=2, closed=False
    )


# -- anonymous polls on Matrix (issue 14 #1) ----------------------------------------------
def _bodies(event: Event) -> str:
    """What a client may show of a bot event: its body and an edit's new body."""
    content = event.get("content", {})
    return "\n".join([content.get("body", ""), content.get("m.new_content", {}).get("body", "")])


async def vote_by_dm(bot: Bot, identity: Identity, text: str) -> str:
    """A vote typed in the voter's DM with the bot (the answer stays private)."""
    request = Request(identity, Conversation("matrix", "!dm:localhost", True), text)
    replies = await asyncio.to_thread(bot.dispatcher.handle, request)
    return "\n".join(r.message.plain_text() for r in replies if r.message)


async def test_anonymous_poll_room_history_holds_no_tally_before_close(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> None:
    """Matrix keeps every m.replace edit for ever: until the close, no edit of an anonymous
    poll's post carries a distribution, and a vote sent as a room event (a numeric reply to the
    post) is refused, not counted, and answered by DM."""
    bot_user, anna_user, ben_user = matrix_user("anonbot"), matrix_user("anna"), matrix_user("ben")
    cara_user = matrix_user("cara")
    anna, ben = await login_human(synapse, anna_user), await login_human(synapse, ben_user)
    bot = make_bot(tmp_path, organizers=f"matrix:{anna_user[0]}")
    world = World(synapse, bot, bot_config(synapse, bot_user), anna)
    try:
        matrix = await world.start_bot()
        bot_id = matrix.user_id
        room = await world.shared_room()
        await anna.client.room_invite(room, ben.user_id)
        await join(ben, room)
        a, b = Identity("matrix", anna.user_id), Identity("matrix", ben.user_id)
        c = Identity("matrix", cara_user[0])
        assert "angelegt" in await command(bot, a, room, 'jahrgang anlegen "SL" plaetze=5')
        for who, name in ((a, "Anna"), (b, "Ben"), (c, "Cara")):
            assert "angemeldet" in await command(bot, who, room, signup(name))
        await command(bot, a, room, 'umfrage "Geheim?" "Ja" "Nein" anonym sofort')
        post = await ben.wait_for(lambda e: "Umfrage 1: Geheim?" in e["content"].get("body", ""))

        to_post = {"m.in_reply_to": {"event_id": post["event_id"]}}
        reply = {"msgtype": "m.text", "body": "2", "m.relates_to": to_post}
        await send(ben, room, "m.room.message", reply)  # a room event: everybody reads it
        refused = await ben.wait_for(body_has(bot_id, "habe ich nicht gezählt"))
        assert poll_counts(bot) == ({}, 0)

        assert "gezählt" in await vote_by_dm(bot, a, "abstimmen 1 1")
        assert "gezählt" in await vote_by_dm(bot, b, "abstimmen 1 2")
        assert "gezählt" in await vote_by_dm(bot, c, "abstimmen 1 1")
        assert "geändert" in await vote_by_dm(bot, b, "abstimmen 1 1")
        await ben.wait_for(edit_of(bot_id, post["event_id"], "3 Stimmzettel abgegeben"))
        before_close = [e for e in ben.events if e["room_id"] == room and e["sender"] == bot_id]
        assert "geschlossen" in await command(bot, a, room, "umfrage 1 schliessen")
        final = await ben.wait_for(edit_of(bot_id, post["event_id"], "100 %"))
    finally:
        for running in list(world.running):
            await running.stop()
        for human in (anna, ben):
            await human.client.close()
        bot.engine.dispose()

    assert refused["room_id"] != room  # the refusal is private
    assert post["type"] == "m.room.message"  # never a native poll: responses would be public
    assert [e for e in ben.events if e.get("type") in (mp.START, *mp.RESPONSE_TYPES)] == []
    assert before_close and not any("%" in _bodies(e) for e in before_close), before_close
    assert "1. Ja — ▇▇▇▇▇▇▇▇▇▇ 100 % (3 Stimmen)" in _bodies(final)
    assert "Ergebnis live" not in _bodies(final)


def test_poll_end_text_of_a_closed_poll_does_not_say_live() -> None:
    """Issue 15: the m.poll.end text (the closed poll's rendering) said "Ergebnis live"."""
    options = [PollOption(position=1, label="A"), PollOption(position=2, label="B")]
    poll = Poll(
        id=4,
        number=2,
        question="Q",
        max_choices=1,
        anonymous=False,
        results_live=True,
        host_abstain=False,
        closes_at=None,
        closed_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    message = poll_message(
        poll,
        options,
        Tally({1: 2}, 2),
        visible=True,
        threshold=3,
        translate=translator("de"),
        tz=ZoneInfo("Europe/Berlin"),
        language="de",
    )
    body, _html = render.to_html(message)
    end = mp.end_content("$start", body)
    assert "geschlossen" in end["body"] and "1. A — ▇▇▇▇▇▇▇▇▇▇ 100 %" in end["body"]
    assert "Ergebnis live" not in end["body"] and "Ergebnis live" not in end[mp.UNSTABLE_TEXT]
