"""Issue 11 on Slack: every organiser-only command is refused to everybody else, over HTTP.

The cases come from ``bot.permissions.PERMISSIONS`` (:mod:`tests.support.permission_cases`):
each organiser-only command is sent by a confirmed participant, a waitlisted person and an outsider
as a signed slash command and as a (forged) button click; every form whose permission row
refuses a role is submitted as a (forged) modal by that role (no form is organiser-only today:
the member-only poll and feedback forms are tried by the waitlisted person and the outsider).
Each answer must be the refusal that says what to do instead, and the database must be
unchanged. A real organiser button —
the "Ja, entfernen" confirmation — is clicked by the three as well.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app import Bot, build_bot
from bot.actions import CommandAction, decode, encode
from bot.clock import SimulatedClock
from bot.context import Role
from bot.dispatcher import Dispatcher
from bot.views import Form, FormField
from handlers.slack.forms import FORM_CALLBACK, dump_form
from handlers.slack.messenger import PLATFORM
from handlers.slack.runner import SlackConfig, SlackRuntime
from tests.conftest import START
from tests.helpers import block_texts as _texts
from tests.helpers import make_settings
from tests.helpers import wait_for as _wait
from tests.support import slack_requests as sr
from tests.support.db_snapshot import differences, snapshot
from tests.support.permission_cases import (
    CASES,
    FORM_CASES,
    MISSING,
    OTHERS,
    Case,
    case_id,
    expected_refusal,
)
from tests.support.slack_double import SlackDouble, SlackUser

ORGA = SlackUser(id="U0ORGA", real_name="Olga Organisatorin", display_name="olga")
PAUL = SlackUser(id="U0PAUL", real_name="Paul Teilnehmer", display_name="paul")
PIA = SlackUser(id="U0PIA", real_name="Pia Teilnehmerin", display_name="pia")
WANDA = SlackUser(id="U0WANDA", real_name="Wanda Warteliste", display_name="wanda")
OTTO = SlackUser(id="U0OTTO", real_name="Otto Aussen", display_name="otto")
USERS: dict[Role, SlackUser] = {"participant": PAUL, "waitlisted": WANDA, "outsider": OTTO}
GENERAL = "C0GENERAL"


@dataclass
class World:
    url: str
    slack: SlackDouble
    bot: Bot
    remove_button: dict[str, Any]  # the organiser's real "Ja, entfernen" button

    def send(self, request: sr.SignedRequest) -> sr.Response:
        response = sr.post_signed(self.url, request)
        assert response.status == 200, response.text
        return response

    def private_answer(self, user: SlackUser, request: sr.SignedRequest) -> str:
        """Send; the text of the ephemeral answers ``user`` got for it (and nothing public)."""
        seen = len(self.slack.ephemerals(user.id))
        posts = len(self.slack.calls("chat.postMessage"))
        self.send(request)
        _wait(lambda: self.slack.ephemerals(user.id)[seen:])
        time.sleep(0.05)  # a second (wrong) answer would arrive right behind the first
        public = [c.args for c in self.slack.calls("chat.postMessage")[posts:]]
        assert public == [], f"posted besides the private answer: {public}"
        return "\n".join(
            _texts(e.get("blocks") or []) + "\n" + str(e["text"])
            for e in self.slack.ephemerals(user.id)[seen:]
        )

    def setup(self, user: SlackUser, text: str) -> str:
        """A set-up command: whatever it answered, privately or in the channel."""
        seen = len(self.slack.ephemerals(user.id))
        posts = len(self.slack.calls("chat.postMessage"))

        def produced() -> list[str]:
            found = [str(e.get("blocks")) for e in self.slack.ephemerals(user.id)[seen:]]
            return found + [str(c.args) for c in self.slack.calls("chat.postMessage")[posts:]]

        self.send(sr.slash_command(text, user.id, GENERAL, user_name=user.display_name))
        return "\n".join(_wait(produced))

    def slash(self, user: SlackUser, text: str) -> str:
        return self.private_answer(
            user, sr.slash_command(text, user.id, GENERAL, user_name=user.display_name)
        )


def _signup(user: SlackUser) -> str:
    return (
        f'anmelden name="{user.real_name}" kommune="{user.display_name}stadt" '
        f"funktion=Bürgermeisterin email={user.display_name}@example.org zustimmung=ja"
    )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The world's database: a SQLite file, or an own schema on the shared PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('perm-slack') / 'p.db'}"
        return
    base = str(request.getfixturevalue("pg_url"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def world(database: str) -> Iterator[World]:
    bot = build_bot(
        make_settings(database, organizers=f"{PLATFORM}:{ORGA.id}"),
        SimulatedClock(START),
    )
    with SlackDouble(users=[ORGA, PAUL, PIA, WANDA, OTTO]) as slack:
        config = SlackConfig(
            bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
        )
        runtime = SlackRuntime(bot, config, pace=0.05, flush_interval=0.1)
        url = runtime.start_http("127.0.0.1", 0)
        try:
            w = World(url, slack, bot, {})
            assert "angelegt" in w.setup(ORGA, 'jahrgang anlegen "Rechte" plaetze=2')
            for user in (PAUL, PIA, WANDA):
                w.setup(user, _signup(user))
            w.setup(OTTO, "hilfe")  # known to the bot, registered nowhere
            created = w.setup(
                ORGA,
                'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" '
                'bis="28.03.2027 16 Uhr" ort="Hamburg"',
            )
            assert "Treffen 1" in created, created
            w.setup(ORGA, f"teilnehmende entfernen <@{PIA.id}>")
            asked = [e for e in slack.ephemerals(ORGA.id) if "Ja, entfernen" in json.dumps(e)]
            (button,) = [
                el
                for block in asked[-1]["blocks"]
                if block.get("type") == "actions"
                for el in block["elements"]
            ]
            w.remove_button = button
            yield w
        finally:
            runtime.stop()
            bot.engine.dispose()


def test_every_organiser_only_key_is_a_case() -> None:
    assert MISSING == [], f"add lines to SUB_ACTIONS (tests/support/permission_cases.py): {MISSING}"
    assert CASES


def test_the_world_has_the_roles_it_claims(world: World) -> None:
    with world.bot.uow_factory() as uow:
        cohort = uow.cohorts.get_by_channel(PLATFORM, GENERAL)
        assert cohort is not None
        for role, user in [*USERS.items(), ("participant", PIA)]:
            person = uow.persons.get_by_identity(PLATFORM, user.id)
            assert person is not None, user
            assert Dispatcher.role_of(uow, person, cohort) == role, user
    action = decode(world.remove_button["value"])
    assert isinstance(action, CommandAction) and action.person is not None
    assert action.text() == f"teilnehmende entfernen {PLATFORM}:{PIA.id} ja"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_slash_command_is_refused(world: World, case: Case) -> None:
    user = USERS[case.role]
    before = snapshot(world.bot.engine)
    answer = world.slash(user, case.line)
    assert expected_refusal(case) in answer, f"{case.line!r} as {case.role}: {answer!r}"
    assert differences(before, snapshot(world.bot.engine)) == {}, case


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_forged_button_is_refused(world: World, case: Case) -> None:
    """A button's value is a typed action; one forged to run any command must not get
    further than the permission table."""
    user = USERS[case.role]
    before = snapshot(world.bot.engine)
    click = sr.command_click(
        case.line, user_id=user.id, channel_id=GENERAL, user_name=user.display_name
    )
    answer = world.private_answer(user, click)
    assert expected_refusal(case) in answer, f"{case.line!r} as {case.role}: {answer!r}"
    assert differences(before, snapshot(world.bot.engine)) == {}, case


@pytest.mark.parametrize("role", OTHERS)
def test_organisers_remove_button_is_refused(world: World, role: Role) -> None:
    user, button = USERS[role], world.remove_button
    before = snapshot(world.bot.engine)
    click = sr.block_actions(
        button["action_id"],
        button["value"],
        user_id=user.id,
        channel_id=GENERAL,
        user_name=user.display_name,
    )
    answer = world.private_answer(user, click)
    assert "gehört zu einer Nachricht an eine andere Person" in answer, answer
    # the same action without the person it was made for: the permission table refuses it
    action = decode(button["value"])
    forged = sr.block_actions(
        button["action_id"],
        encode(replace(action, person=None)),
        user_id=user.id,
        channel_id=GENERAL,
        user_name=user.display_name,
    )
    answer = world.private_answer(user, forged)
    assert isinstance(action, CommandAction)
    case = Case("teilnehmende entfernen", role, action.text(), "teilnehmende entfernen")
    assert expected_refusal(case) in answer, answer
    assert differences(before, snapshot(world.bot.engine)) == {}


@pytest.mark.parametrize("case", FORM_CASES, ids=case_id)
def test_forged_modal_submission_is_refused(world: World, case: Case) -> None:
    """``case.line`` is the form id; the refusal replaces the modal (in the HTTP answer). The
    form is one the bot stored when it opened it (for someone allowed to): its key is forged
    into the modal's metadata of a person who may not use it."""
    user = USERS[case.role]
    key = f"slack:form:forged-{uuid.uuid4().hex}"
    fields = (FormField("title", "Titel"), FormField("question", "Frage"))
    with world.bot.uow_factory() as uow:
        uow.state.put(key, dump_form(Form(case.line, "Formular", fields, "OK")))
        uow.commit()
    before = snapshot(world.bot.engine)
    metadata = json.dumps({"form_id": case.line, "channel": GENERAL, "form_key": key})
    submitted = world.send(
        sr.view_submission(
            FORM_CALLBACK,
            {"title": {"value": "Zebrastreifen"}, "question": {"value": "Welches Thema?"}},
            user_id=user.id,
            private_metadata=metadata,
            user_name=user.display_name,
        )
    )
    body = submitted.json()
    assert body.get("response_action") == "update", body
    answer = _texts(body["view"]["blocks"])
    assert expected_refusal(case) in answer, f"form {case.line} as {case.role}: {answer!r}"
    assert differences(before, snapshot(world.bot.engine)) == {}, case
