"""Typed button actions (issue 16 item 3): decoded and checked in one place, re-authorised on
the server; a vote click's post edit is rendered by the outbox, coalesced per message."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from app import Bot, build_bot
from bot.actions import (
    MAX_ENCODED,
    CommandAction,
    ConfirmAction,
    InvalidAction,
    VoteAction,
    decode,
    encode,
)
from bot.clock import SystemClock
from bot.context import Conversation, Request
from bot.identity import Identity
from bot.views import Actions, Button, Message
from storage.models import OutboxMessage, Poll, Vote
from storage.models_polls import PollBallot
from tests.helpers import Driver, make_settings, request, signup, wait_for
from tests.helpers import block_texts as _texts
from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble
from tests.test_slack_adapter import Running, running, slack  # noqa: F401
from tests.test_slack_adapter import start as start_slack

GARBLED = "kann ich nicht lesen"


# -- decoding: the one place that checks a payload ----------------------------------------
def test_actions_round_trip_compactly() -> None:
    for action in (
        VoteAction(12, (1, 3), "add"),
        VoteAction(7, (), "replace", person=4),
        CommandAction("teilnahme", ("3", "ja")),
        CommandAction("teilnehmende entfernen", ("slack:U0PIA", "ja"), 2),
        ConfirmAction(9),
    ):
        value = encode(action)
        assert decode(value) == action
        assert len(value) < 100
    widest = VoteAction(2**40, tuple(range(950, 1000)), "remove", 2**40)
    assert decode(encode(widest)) == widest and len(encode(widest)) <= MAX_ENCODED
    assert CommandAction("teilnahme", ("3", "ja")).text() == "teilnahme 3 ja"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abstimmen 1 2",  # command text is not an action
        "{",
        "[]",
        '{"k":"shell","c":"rm"}',
        '{"k":"vote","p":1,"o":[1]}',  # no mode
        '{"k":"vote","p":1,"o":[0],"m":"replace"}',  # position 0
        '{"k":"vote","p":1,"o":[1000],"m":"replace"}',
        '{"k":"vote","p":1,"o":[1,1],"m":"replace"}',
        '{"k":"vote","p":1,"o":["1"],"m":"replace"}',
        '{"k":"vote","p":1,"o":[true],"m":"replace"}',
        '{"k":"vote","p":-3,"o":[1],"m":"replace"}',
        '{"k":"vote","p":1,"o":[1],"m":"set"}',  # the old modes are gone
        '{"k":"vote","p":1,"o":[],"m":"add"}',
        '{"k":"vote","p":1,"o":[1],"m":"replace","x":1}',
        '{"k":"cmd","c":"hilfe; rm -rf","a":[]}',
        '{"k":"cmd","c":"Hilfe","a":[]}',
        '{"k":"cmd","c":"hilfe","a":[1]}',
        '{"k":"cmd","c":"hilfe","a":["a\\nb"]}',
        '{"k":"confirm","u":"2"}',
        json.dumps({"k": "cmd", "c": "hilfe", "a": ["x" * 201]}),
        json.dumps({"k": "cmd", "c": "hilfe", "a": ["x"] * 13}),
        "x" * (MAX_ENCODED + 1),
    ],
)
def test_garbled_payloads_are_refused(value: str) -> None:
    with pytest.raises(InvalidAction) as refused:
        decode(value)
    assert GARBLED in str(refused.value)


def test_buttons_stored_before_typed_actions_load_as_commands() -> None:
    stored: dict[str, Any] = {
        "blocks": [
            {
                "kind": "actions",
                "buttons": [
                    {
                        "label": "Ich komme",
                        "action_id": "a",
                        "value": "3:ja",
                        "style": "primary",
                        "command": "teilnahme 3 ja",
                    },
                    {
                        "label": "Ja",
                        "action_id": "c",
                        "value": "yes",
                        "style": None,
                        "command": "ja",
                    },
                    {
                        "label": "Nichts",
                        "action_id": "n",
                        "value": "",
                        "style": None,
                        "command": None,
                    },
                ],
            }
        ],
        "fallback": "x",
    }
    (block,) = Message.from_dict(stored).blocks
    assert isinstance(block, Actions)
    assert [b.action for b in block.buttons] == [
        CommandAction("teilnahme", ("3", "ja")),
        ConfirmAction(),
    ]
    message = Message((Actions((Button("A", VoteAction(1, (2,), "add")),)),))
    assert Message.from_dict(json.loads(json.dumps(message.to_dict()))) == message


# -- on the server: re-authorised, refused with a clear message, nothing changed ------------
def _world(bot: Bot) -> Driver:
    driver = Driver(bot)
    driver.say("orga", 'jahrgang anlegen "Eins" plaetze=5')
    for name in ("anna", "ben"):
        driver.say(name, signup(name))
    driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" "Hafen" sofort')  # poll 1
    driver.say("orga", 'umfrage "Geheim?" "Ja" "Nein" anonym sofort')
    driver.say("orga", 'jahrgang anlegen "Zwei" plaetze=5', channel="andere")
    driver.say("cara", signup("cara"), channel="andere")
    driver.say("orga", 'umfrage "Anderswo?" "A" "B" sofort', channel="andere")
    return driver


def _poll_id(bot: Bot, question: str) -> int:
    with bot.uow_factory() as uow:
        found = uow.session.scalar(select(Poll.id).where(Poll.question == question))
        assert found is not None
        return int(found)


def _state(bot: Bot) -> tuple[int, int, int]:
    with bot.uow_factory() as uow:
        s = uow.session
        return (
            int(s.scalar(select(func.count()).select_from(PollBallot)) or 0),
            int(s.scalar(select(func.count()).select_from(Vote)) or 0),
            int(s.scalar(select(func.count()).select_from(OutboxMessage)) or 0),
        )


def click(bot: Bot, who: str, action: Any, *, dm: bool = False) -> str:
    replies = bot.dispatcher.handle_action(request(who, "", dm=dm), action)
    return "\n".join(r.message.plain_text() for r in replies if r.message)


def test_forged_vote_clicks_are_refused_and_change_nothing(bot: Bot) -> None:
    driver = _world(bot)
    first, secret = _poll_id(bot, "Welches Thema?"), _poll_id(bot, "Geheim?")
    elsewhere = _poll_id(bot, "Anderswo?")
    before = _state(bot)
    refusals = [
        # another cohort's poll (anna takes part in "Eins" only)
        ("anna", VoteAction(elsewhere, (1,)), "nur für Teilnehmende"),
        # a poll that does not exist
        ("anna", VoteAction(first + 100, (1,)), "gibt es nicht mehr"),
        # an option the poll does not have
        ("anna", VoteAction(first, (4,)), "Option 4 gibt es nicht"),
        # two options in a single-choice poll
        ("anna", VoteAction(first, (1, 2)), "nur eine Option"),
        # not a participant
        ("otto", VoteAction(first, (1,)), "nur für Teilnehmende"),
        # a button made for another person (ben's nudge, clicked by anna)
        ("anna", VoteAction(first, (1,), person=_person(bot, "ben")), "andere Person"),
        # an anonymous poll in the shared room: readable there, so not counted
        ("anna", VoteAction(secret, (1,)), "nur in einer Direktnachricht"),
    ]
    for who, action, expected in refusals:
        answer = click(bot, who, action)
        assert expected in answer, (who, action, answer)
        assert _state(bot) == before, (who, action)
    driver.say("orga", "umfrage 1 schliessen")
    closed = _state(bot)
    assert "geschlossen" in click(bot, "anna", VoteAction(first, (1,)))
    assert _state(bot) == closed


def _person(bot: Bot, user: str) -> int:
    with bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("console", user)
        assert person is not None
        return person.id


def test_command_and_confirm_actions_are_authorised_again(bot: Bot) -> None:
    driver = _world(bot)
    before = _state(bot)
    # a "run this command" action for an organiser-only command, clicked by a participant
    answer = click(bot, "anna", CommandAction("umfrage", ("1", "schliessen")))
    assert "können nur das Programmteam" in answer
    answer = click(bot, "anna", CommandAction("export umfrage", ("1",)))
    assert "dem Programmteam vorbehalten" in answer
    # a key the registry does not know is a garbled button, not an "unknown command" guess
    assert GARBLED in click(bot, "anna", CommandAction("rm", ("-rf",)))
    # "ja" with nothing to confirm
    assert "nichts" in click(bot, "anna", ConfirmAction(_person(bot, "anna"))).lower()
    assert _state(bot) == before
    # allowed: the organiser's button does what the command does
    assert "geschlossen" in click(bot, "orga", CommandAction("umfrage", ("1", "schliessen")))
    driver.flush()


def test_a_vote_click_counts_and_modes_are_explicit(bot: Bot) -> None:
    driver = Driver(bot)
    driver.say("orga", 'jahrgang anlegen "Eins" plaetze=5')
    driver.say("anna", signup("anna"))
    driver.say("orga", 'umfrage "Welche?" "A" "B" "C" mehrfach=2 sofort')
    poll = _poll_id(bot, "Welche?")
    assert "gezählt: 1. A" in click(bot, "anna", VoteAction(poll, (1,), "add"))
    assert "geändert: 1. A, 3. C" in click(bot, "anna", VoteAction(poll, (3,), "add"))
    assert "höchstens 2 Optionen" in click(bot, "anna", VoteAction(poll, (2,), "add"))
    assert "geändert: 3. C." in click(bot, "anna", VoteAction(poll, (1,), "remove"))
    assert "geändert: 2. B." in click(bot, "anna", VoteAction(poll, (2,), "replace"))
    assert "zurückgezogen" in click(bot, "anna", VoteAction(poll, (), "replace"))


def test_vote_clicks_edit_the_post_once_per_flush(bot: Bot) -> None:
    """N clicks between two outbox flushes: one edit of the posted poll, showing all N."""
    driver = Driver(bot)
    driver.say("orga", 'jahrgang anlegen "Eins" plaetze=20')
    voters = [f"p{i:02d}" for i in range(12)]
    for name in voters:
        driver.say(name, signup(name))
    driver.say("orga", 'umfrage "Wohin?" "Hafen" "Altstadt" sofort')
    poll = _poll_id(bot, "Wohin?")
    (post,) = driver.messenger.texts("post")[-1:]
    assert "0 Stimmzettel" in post
    before = len(driver.messenger.texts("update"))
    for i, name in enumerate(voters):
        assert "gezählt" in click(bot, name, VoteAction(poll, (i % 2 + 1,)))
    with bot.uow_factory() as uow:
        pending = uow.session.scalars(
            select(OutboxMessage.idempotency_key).where(OutboxMessage.status == "pending")
        ).all()
    assert len(pending) == 1 and pending[0].startswith(f"poll-refresh:{poll}:"), pending
    driver.flush()
    updates = driver.messenger.texts("update")[before:]
    assert len(updates) == 1, updates  # 12 clicks, one chat.update
    assert "12 Stimmzettel" in updates[0]
    assert "1. Hafen — ▇▇▇▇▇░░░░░ 50 % (6 Stimmen)" in updates[0]
    # the next click after the flush: a new refresh row, again one edit
    assert "geändert" in click(bot, voters[0], VoteAction(poll, (2,)))
    driver.flush()
    (last,) = driver.messenger.texts("update")[before + 1 :]
    assert "2. Altstadt — ▇▇▇▇▇▇░░░░ 58 % (7 Stimmen)" in last


def test_a_refresh_waits_for_the_first_post(bot: Bot) -> None:
    """A click while the poll's post is still in the outbox: the post goes first (as it was
    rendered), then one edit brings it up to date."""
    driver = Driver(bot)
    driver.say("orga", 'jahrgang anlegen "Eins" plaetze=5')
    driver.say("anna", signup("anna"))
    replies = bot.dispatcher.handle(
        request("orga", 'umfrage "Gleich?" "Ja" "Nein" sofort')
    )  # not flushed: the post waits
    assert replies
    poll = _poll_id(bot, "Gleich?")
    assert "gezählt" in click(bot, "anna", VoteAction(poll, (1,)))
    driver.flush()
    kinds = [s.kind for s in driver.messenger.transcript if "Gleich?" in s.text]
    assert kinds == ["post", "update"], kinds
    assert "1 Stimmzettel" in driver.messenger.texts("update")[-1]


def test_click_request_carries_no_command_text(bot: Bot) -> None:
    """The dispatcher never parses a click: the request's text is empty."""
    seen: list[Request] = []
    original = bot.dispatcher._line

    def spy(req: Request, *args: Any, **kwargs: Any) -> Any:
        seen.append(req)
        return original(req, *args, **kwargs)

    bot.dispatcher._line = spy  # type: ignore[method-assign,assignment]
    _world(bot)
    seen.clear()
    click(bot, "anna", VoteAction(_poll_id(bot, "Welches Thema?"), (1,)))
    assert seen == []


# -- through Slack: a signed click with a garbled or forged value ---------------------------
def test_slack_click_with_garbled_value_is_refused_privately(running: Running) -> None:  # noqa: F811
    """Command text (what a button carried before), or any other garbage, does nothing."""
    for value in ("abstimmen 1 1", "hilfe", '{"k":"vote","p":1,"o":[0],"m":"add"}'):
        seen = len(running.slack.ephemerals("U0ANNA"))
        assert running.send(sr.block_actions("act:vote:0", value)).status == 200
        answers = wait_for(lambda s=seen: running.slack.ephemerals("U0ANNA")[s:])  # type: ignore[misc]
        assert any(GARBLED in _texts(e.get("blocks") or []) for e in answers), answers
    assert running.slack.calls("chat.postMessage") == [], "nothing public"
    # an old "cmd:N" button still posted in Slack: refused the same way, never run as a command
    seen = len(running.slack.ephemerals("U0ANNA"))
    assert running.send(sr.block_actions("cmd:0", "sprache en")).status == 200
    (answer,) = wait_for(lambda: running.slack.ephemerals("U0ANNA")[seen:])
    assert GARBLED in _texts(answer.get("blocks") or [])
    with running.bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("slack", "U0ANNA")
        assert person is None or person.language != "en"


def test_slack_click_runs_its_typed_command(running: Running) -> None:  # noqa: F811
    assert running.send(sr.command_click("sprache en")).status == 200
    assert "English" in running.ephemeral_text()


def test_slack_vote_clicks_coalesce_into_few_chat_updates(db_url: str) -> None:
    """20 voters click at once on the posted poll: every vote counts, the post ends up showing
    all of them, and Slack sees far fewer chat.update calls than clicks."""
    bot = build_bot(make_settings(db_url, organizers="slack:U0ORGA"), SystemClock())
    voters = [f"U0V{i:04d}" for i in range(20)]
    with SlackDouble() as double:
        runtime = start_slack(bot, double)
        url = runtime.start_http("127.0.0.1", 0)
        try:

            def say(user: str, line: str) -> None:
                req = Request(Identity("slack", user), Conversation("slack", "C0VOTE"), line)
                bot.dispatcher.handle(req)

            say("U0ORGA", 'jahrgang anlegen "Klick" plaetze=20')
            for i, user in enumerate(voters):
                say(user, signup(f"v{i}"))
            say("U0ORGA", 'umfrage "Wohin?" "Hafen" "Altstadt" sofort')
            posted = wait_for(
                lambda: [m for m in double.messages("C0VOTE") if "Wohin?" in _texts(m.blocks or [])]
            )[0]
            buttons = [
                e
                for b in posted.blocks or []
                if b.get("type") == "actions"
                for e in b.get("elements") or []
            ]
            assert [b["action_id"] for b in buttons] == ["act:vote:0", "act:vote:1"]
            before = len(double.calls("chat.update"))

            def vote(i: int) -> int:
                button = buttons[i % 2]
                signed = sr.block_actions(
                    button["action_id"],
                    button["value"],
                    user_id=voters[i],
                    channel_id="C0VOTE",
                    message_ts=posted.ts,
                )
                return sr.post_signed(url, signed).status

            with ThreadPoolExecutor(10) as pool:
                assert set(pool.map(vote, range(20))) == {200}
            wait_for(
                lambda: (
                    "20 Stimmzettel"
                    in _texts(
                        next(m for m in double.messages("C0VOTE") if m.ts == posted.ts).blocks or []
                    )
                ),
                what="the post shows all 20 ballots",
            )
            final = next(m for m in double.messages("C0VOTE") if m.ts == posted.ts)
            assert "1. Hafen — ▇▇▇▇▇░░░░░ 50 % (10 Stimmen)" in _texts(final.blocks or [])
            updates = len(double.calls("chat.update")) - before
            assert 1 <= updates <= 10, f"{updates} chat.update calls for 20 clicks"
        finally:
            runtime.stop()
            bot.engine.dispose()
