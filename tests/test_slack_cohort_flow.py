"""Issue 9's acceptance flow: a whole cohort driven only through signed Slack requests.

Every step goes over real HTTP to the running bolt app; every assertion looks at what reached
the local Slack Web API double. The bot runs on a simulated clock that the test advances so
the outbox's per-channel pacing lets the next message out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from app import Bot, build_bot
from bot.clock import SimulatedClock
from handlers.slack.runner import SlackConfig, SlackRuntime
from tests.helpers import make_settings
from tests.support import slack_requests as sr
from tests.support.slack_double import Call, PostedMessage, SlackDouble, SlackUser

ORGA = SlackUser(id="U0ORGA", real_name="Olga Organisatorin", display_name="olga")
PEOPLE = [
    SlackUser(id=f"U0P{i:02d}", real_name=f"Person {i:02d}", display_name=f"p{i:02d}")
    for i in range(21)
]
GENERAL = "C0GENERAL"


class Flow:
    """The running bot, the Slack double and helpers to talk to both."""

    def __init__(self, url: str, slack: SlackDouble, bot: Bot, clock: SimulatedClock) -> None:
        self.url = url
        self.slack = slack
        self.bot = bot
        self.clock = clock

    def send(self, request: sr.SignedRequest) -> sr.Response:
        response = sr.post_signed(self.url, request)
        assert response.status == 200, response.text
        return response

    def slash(self, user: SlackUser, text: str, **options: Any) -> sr.Response:
        return self.send(
            sr.slash_command(text, user.id, GENERAL, user_name=user.display_name, **options)
        )

    def tick(self) -> None:
        """Move the bot's clock on so the paced outbox may send the next message."""
        self.clock.advance(timedelta(seconds=2))

    def wait(self, check: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Poll ``check`` until truthy. Meanwhile the bot's clock moves 2 s every 0.3 s of real
        time: enough for the paced outbox, slow enough that a row being sent does not outlive
        its lease (2 minutes on the bot's clock) and get written off as "uncertain"."""
        deadline = time.monotonic() + timeout
        last_tick = time.monotonic()
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            if time.monotonic() - last_tick >= 0.3:
                self.tick()
                last_tick = time.monotonic()
            time.sleep(0.05)
        recent = [(c.method, c.error, str(c.args)[:120]) for c in self.slack.calls()[-12:]]
        raise AssertionError(f"condition not met within {timeout}s; last calls: {recent}")

    def answer(self, user: SlackUser, text: str, **options: Any) -> str:
        """Run a slash command; the text of what it produced (ephemeral or public answers)."""
        ephemerals = len(self.slack.ephemerals(user.id))
        posts = len(self.slack.calls("chat.postMessage"))

        def produced() -> list[str]:
            found = [
                _texts(e.get("blocks") or []) + "\n" + str(e["text"])
                for e in self.slack.ephemerals(user.id)[ephemerals:]
            ]
            found += [
                _texts(c.args.get("blocks") or []) + "\n" + str(c.args.get("text"))
                for c in self.slack.calls("chat.postMessage")[posts:]
            ]
            return found

        self.slash(user, text, **options)
        return "\n".join(self.wait(produced))


def _texts(blocks: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for block in blocks:
        for obj in [block.get("text"), block.get("label"), *(block.get("elements") or [])]:
            if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                out.append(obj["text"])
            elif isinstance(obj, dict) and isinstance(obj.get("text"), dict):
                out.append(obj["text"]["text"])
    return "\n".join(out)


def _buttons(message: PostedMessage) -> list[dict[str, Any]]:
    return [
        element
        for block in message.blocks or []
        if block.get("type") == "actions"
        for element in block.get("elements") or []
        if element.get("type") == "button"
    ]


def _posted(slack: SlackDouble, needle: str) -> list[PostedMessage]:
    return [m for m in slack.messages(GENERAL) if needle in _texts(m.blocks or [])]


def _has_ephemeral(slack: SlackDouble, user_id: str, needle: str) -> bool:
    return any(needle in str(e["text"]) for e in slack.ephemerals(user_id))


def _message(slack: SlackDouble, ts: str) -> PostedMessage:
    (message,) = [m for m in slack.messages() if m.ts == ts]
    return message


@pytest.fixture
def flow(sqlite_url: str, clock: SimulatedClock) -> Iterator[Flow]:
    bot = build_bot(make_settings(sqlite_url, organizers="slack:U0ORGA"), clock)
    with SlackDouble(users=[ORGA, *PEOPLE]) as slack:
        config = SlackConfig(
            bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
        )
        runtime = SlackRuntime(bot, config, pace=0.05, flush_interval=0.1)
        url = runtime.start_http("127.0.0.1", 0)
        try:
            yield Flow(url, slack, bot, clock)
        finally:
            runtime.stop()
            bot.engine.dispose()


def _signup(user: SlackUser, n: int) -> str:
    return (
        f'anmelden name="{user.real_name}" kommune="Kommune {n:02d}" '
        f"funktion=Bürgermeisterin email=p{n:02d}@example.org zustimmung=ja"
    )


def test_cohort_flow_over_slack(flow: Flow) -> None:
    slack = flow.slack

    # 1. set-up by the organiser
    created = flow.answer(ORGA, 'jahrgang anlegen "Stadtlabor Slack" plaetze=20')
    assert "Jahrgang „Stadtlabor Slack“ angelegt: 20 Plätze." in created, created

    # 2. 21 registrations: 20 places, the 21st on the waiting list
    for n, person in enumerate(PEOPLE):
        answer = flow.answer(person, _signup(person, n))
        if n < 20:
            assert f"Platz {n + 1} von 20" in answer and "Warteliste" not in answer, answer
        else:
            assert "Warteliste (Position 1)" in answer and "angemeldet: Platz" not in answer, answer

    # 3. meeting, programme item, posted agenda, edited in place
    meeting = flow.answer(
        ORGA,
        'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr" '
        'ort="Hamburg"',
    )
    assert "Treffen 1 „Auftakt“ ist angelegt" in meeting, meeting
    item = flow.answer(ORGA, 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung"')
    assert "Nr. 1: Tag 1, 10:00–11:30 „Begrüßung“" in item, item
    flow.answer(ORGA, "agenda posten 1")
    (agenda,) = flow.wait(lambda: _posted(slack, "Begrüßung"))
    assert "Begrüßung" in _texts(agenda.blocks or []) and agenda.edits == 0
    flow.answer(ORGA, 'programmpunkt 1 1 aendern titel="Neu"')
    flow.wait(lambda: slack.calls("chat.update"))
    (agenda,) = [m for m in slack.messages(GENERAL) if m.ts == agenda.ts]
    shown = _texts(agenda.blocks or [])
    assert agenda.edits >= 1 and "1. 10:00–11:30 Neu" in shown and "Begrüßung" not in shown
    (update,) = slack.calls("chat.update")
    assert update.args["ts"] == agenda.ts and update.args["channel"] == GENERAL

    # 4. a poll with buttons; two votes by click update the posted poll
    flow.answer(ORGA, 'umfrage "Welches Thema?" "Wohnen" "Pflege" sofort')
    poll = flow.wait(
        lambda: [m for m in slack.messages(GENERAL) if "Welches Thema?" in _texts(m.blocks or [])]
    )[0]
    assert "2 Stimmzettel" not in _texts(poll.blocks or [])
    buttons = _buttons(poll)
    assert len(buttons) >= 2 and all(b["action_id"].startswith("act:vote:") for b in buttons)
    wohnen = next(b for b in buttons if "Wohnen" in b["text"]["text"])
    pflege = next(b for b in buttons if "Pflege" in b["text"]["text"])
    updates_before = len(slack.calls("chat.update"))
    for voter, button in ((PEOPLE[2], wohnen), (PEOPLE[3], pflege)):
        clicked = sr.block_actions(
            button["action_id"],
            button["value"],
            user_id=voter.id,
            channel_id=GENERAL,
            message_ts=poll.ts,
            user_name=voter.display_name,
        )
        flow.send(clicked)
    for voter, option in ((PEOPLE[2], "1. Wohnen"), (PEOPLE[3], "2. Pflege")):
        counted = f"Ihre Stimme in Umfrage 1 ist gezählt: {option}"
        flow.wait(partial(_has_ephemeral, slack, voter.id, counted))
    flow.wait(lambda: "2 Stimmzettel" in _texts(_message(slack, poll.ts).blocks or []))
    poll_now = _message(slack, poll.ts)
    poll_text = _texts(poll_now.blocks or [])
    assert poll_now.edits >= 1
    assert "Wohnen — ▇▇▇▇▇░░░░░ 50 % (1 Stimme): Person 02" in poll_text
    assert "Pflege — ▇▇▇▇▇░░░░░ 50 % (1 Stimme): Person 03" in poll_text
    updates = [c for c in slack.calls("chat.update")[updates_before:] if c.args["ts"] == poll.ts]
    assert updates and all(c.ok and c.args["channel"] == GENERAL for c in updates)

    # 5. a feedback round: DM with a button → modal → answer in the thread
    started = flow.answer(
        ORGA, 'feedback starten titel="Musterstadt" fuer=<@U0P01> bis="Freitag 18 Uhr" sofort'
    )
    assert "#1" in started and "gefragt: 19." in started, started
    (root,) = flow.wait(lambda: _posted(slack, "Kollegiale Beratung #1: Musterstadt"))
    assert "Für: Person 01 (Kommune 01)" in _texts(root.blocks or [])
    giver = PEOPLE[4]
    dm = slack.dm_channel_for(giver.id)
    invitation = flow.wait(
        lambda: [
            m
            for m in slack.messages(dm)
            if any("Feedback geben" in b["text"]["text"] for b in _buttons(m))
        ]
    )[0]
    assert slack.messages(slack.dm_channel_for(PEOPLE[1].id)) == [], "presenter not asked"
    give = next(b for b in _buttons(invitation) if "Feedback geben" in b["text"]["text"])
    flow.send(
        sr.block_actions(
            give["action_id"],
            give["value"],
            user_id=giver.id,
            channel_id=dm,
            message_ts=invitation.ts,
            trigger_id="T-FEEDBACK",
            user_name=giver.display_name,
        )
    )
    (opened,) = flow.wait(lambda: slack.calls("views.open"))
    assert opened.ok and opened.args["trigger_id"] == "T-FEEDBACK"
    (modal,) = [v for v in slack.views() if v["type"] == "modal"]
    assert modal["callback_id"] == opened.args["view"]["callback_id"]
    inputs = [b for b in modal["blocks"] if b["type"] == "input"]
    assert inputs, modal
    values = {
        b["block_id"]: {b["element"]["action_id"]: f"Antwort {i} Zebrastreifen"}
        for i, b in enumerate(inputs, 1)
    }
    submitted = flow.send(
        sr.view_submission(
            modal["callback_id"],
            values,
            user_id=giver.id,
            private_metadata=modal.get("private_metadata", ""),
            view_id=modal["id"],
            user_name=giver.display_name,
        )
    )
    assert not submitted.body or submitted.json().get("response_action") != "errors", submitted.text
    threaded = flow.wait(
        lambda: [
            m
            for m in slack.messages(GENERAL)
            if m.thread_ts == root.ts and "Zebrastreifen" in (m.text + _texts(m.blocks or []))
        ]
    )
    (answer_post,) = threaded
    posted_answer = _texts(answer_post.blocks or [])
    assert "Person 04 (Kommune 04)" in posted_answer
    assert all(f"Antwort {i} Zebrastreifen" in posted_answer for i in range(1, len(inputs) + 1))

    # 6. a reminder fires after the bot's clock moves on
    reminder_user = PEOPLE[5]
    reminder_dm = slack.dm_channel_for(reminder_user.id)

    def reminders() -> list[Call]:
        return [
            c
            for c in slack.calls("chat.postMessage")
            if c.args.get("channel") == reminder_dm
            and "Testerinnerung" in str(c.args.get("text")) + str(c.args.get("blocks"))
        ]

    confirmed = flow.answer(reminder_user, "erinnern in 1 Stunde; Testerinnerung")
    assert "angelegt; ich schreibe Ihnen per Direktnachricht" in confirmed, confirmed
    flow.bot.due.run_due(flow.clock.now())
    time.sleep(0.5)
    assert reminders() == [], "not due yet"
    flow.clock.advance(timedelta(hours=1, minutes=1))
    flow.bot.due.run_due(flow.clock.now())
    flow.wait(reminders)
    flow.bot.due.run_due(flow.clock.now())  # running due work again sends nothing twice
    time.sleep(0.5)
    (fired,) = reminders()
    assert fired.ok
