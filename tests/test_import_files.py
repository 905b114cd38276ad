"""Issue 14 item 5: an import reads only a file the organiser uploaded, never a server path.

Slack over signed HTTP with the Web API double (files.list / files.info / url_private), the
console with paths relative to its working directory, and the command line.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nio import (
    RoomCreateResponse,
    RoomSendResponse,
    UploadResponse,
)
from sqlalchemy import select

from app import Bot, build_bot, main
from bot.clock import SimulatedClock
from handlers.slack.runner import SlackConfig, SlackRuntime
from storage.models import Person
from tests.helpers import Driver, block_texts, make_settings, wait_for
from tests.support import slack_requests as sr
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.slack_double import SlackDouble, SlackUser
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import World, body_has, bot_config, login_human, make_bot
from tests.test_matrix_e2ee import ENCRYPTION, crypto_human

ORGA = SlackUser(id="U0ORGA", real_name="Olga Organisatorin", display_name="olga")
CHANNEL = "C0GENERAL"
GOOD = (
    "name,kommune,funktion,email\n"
    "Hildegard Import,Aort,Bürgermeisterin,hildegard.import@example.org\n"
).encode()


def _emails(bot: Bot) -> set[str]:
    with bot.uow_factory() as uow:
        return {e for e in uow.session.scalars(select(Person.email)) if e}


@dataclass
class SlackSide:
    url: str
    slack: SlackDouble
    bot: Bot

    def command(self, text: str) -> str:
        """A slash command; the text of its answers (ephemeral or posted)."""
        ephemerals = len(self.slack.ephemerals(ORGA.id))
        posts = len(self.slack.calls("chat.postMessage"))
        response = sr.post_signed(self.url, sr.slash_command(text, ORGA.id, CHANNEL))
        assert response.status == 200

        def produced() -> list[str]:
            found = [
                block_texts(e.get("blocks") or []) + "\n" + str(e["text"])
                for e in self.slack.ephemerals(ORGA.id)[ephemerals:]
            ]
            return found + [
                block_texts(c.args.get("blocks") or []) + "\n" + str(c.args.get("text"))
                for c in self.slack.calls("chat.postMessage")[posts:]
            ]

        return "\n".join(wait_for(produced))

    def dm_answer(self, channel: str, seen: int) -> str:
        found = wait_for(lambda: self.slack.messages(channel)[seen:])
        return "\n".join(block_texts(m.blocks or []) + m.text for m in found)


@pytest.fixture
def slack_side(sqlite_url: str, clock: SimulatedClock) -> Iterator[SlackSide]:
    bot = build_bot(make_settings(sqlite_url, organizers="slack:U0ORGA"), clock)
    with SlackDouble(users=[ORGA]) as slack:
        config = SlackConfig(
            bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
        )
        runtime = SlackRuntime(bot, config, pace=0.05, flush_interval=0.1)
        side = SlackSide(runtime.start_http("127.0.0.1", 0), slack, bot)
        try:
            assert "angelegt" in side.command('jahrgang anlegen "Import" plaetze=20')
            yield side
        finally:
            runtime.stop()
            bot.engine.dispose()


# -- Slack ---------------------------------------------------------------------------------
def test_a_server_path_typed_in_slack_is_refused_and_not_read(
    slack_side: SlackSide, tmp_path: Path
) -> None:
    secret = tmp_path / "geheim.csv"
    secret.write_bytes(GOOD)
    answer = slack_side.command(f"import teilnehmende {secret} ja")
    assert "Aus dem Chat lese ich keine Dateien vom Server" in answer
    assert "hildegard" not in answer.lower()
    assert "hildegard.import@example.org" not in _emails(slack_side.bot)
    answer = slack_side.command("import teilnehmende /etc/passwd")
    assert "Aus dem Chat lese ich keine Dateien vom Server" in answer
    assert "root" not in answer


def test_an_upload_then_the_slash_command_imports(slack_side: SlackSide) -> None:
    slack_side.slack.user_upload(ORGA.id, CHANNEL, "liste.csv", GOOD)
    dry = slack_side.command("import teilnehmende")
    assert "Neu: 1" in dry and "Probelauf" in dry and "import teilnehmende ja" in dry
    assert "hildegard.import@example.org" not in _emails(slack_side.bot)
    assert "Import ausgeführt" in slack_side.command("import teilnehmende ja")
    assert "hildegard.import@example.org" in _emails(slack_side.bot)


def test_someone_elses_upload_is_not_taken(slack_side: SlackSide) -> None:
    slack_side.slack.user_upload("U0OTHER", CHANNEL, "liste.csv", GOOD)
    answer = slack_side.command("import teilnehmende ja")
    assert "Bitte laden Sie die CSV-Datei" in answer
    assert "hildegard.import@example.org" not in _emails(slack_side.bot)


def test_a_file_shared_in_the_dm_with_the_command_is_imported(slack_side: SlackSide) -> None:
    dm = slack_side.slack.dm_channel_for(ORGA.id)
    seen = len(slack_side.slack.messages(dm))
    file_id = slack_side.slack.user_upload(ORGA.id, dm, "liste.csv", GOOD)
    event = slack_side.slack.file_share_event(ORGA.id, dm, file_id, "import teilnehmende ja")
    assert sr.post_signed(slack_side.url, sr.event_callback(event)).status == 200
    assert "Import ausgeführt" in slack_side.dm_answer(dm, seen)
    assert "hildegard.import@example.org" in _emails(slack_side.bot)
    # The download carried the bot token (the double answers 403 without it).
    assert any(c.method == "files.info" for c in slack_side.slack.calls())


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("bild.png", GOOD, "keine CSV-Datei"),
        ("liste.csv", "name,kommune\nÄ".encode("latin-1"), "nicht in UTF-8"),
        ("liste.csv", b"name,kommune,funktion,email\n" + b"x" * 1_000_001, "zu groß"),
        (
            "liste.csv",
            b"name,kommune,funktion,email\nroot:x:0:0,/root,/bin/bash,daemon:x:1:1\n",
            "Zeile 2: Spalte „email“",  # any function text is taken (issue 15)
        ),
    ],
)
def test_a_bad_upload_is_explained_without_echoing_its_content(
    slack_side: SlackSide, filename: str, content: bytes, expected: str
) -> None:
    slack_side.slack.user_upload(ORGA.id, CHANNEL, filename, content)
    answer = slack_side.command("import teilnehmende")
    assert expected in answer
    assert "root" not in answer and "daemon" not in answer and "xxxx" not in answer


# -- console -------------------------------------------------------------------------------
@pytest.fixture
def console(sqlite_url: str, clock: SimulatedClock) -> Iterator[Driver]:
    bot = build_bot(make_settings(sqlite_url, organizers="console:orga"), clock)
    driver = Driver(bot)
    driver.say("orga", 'jahrgang anlegen "Import" plaetze=20')
    yield driver
    bot.engine.dispose()


def test_the_console_imports_a_file_relative_to_its_directory(
    console: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "listen").mkdir()
    (tmp_path / "listen" / "liste.csv").write_bytes(GOOD)
    monkeypatch.chdir(tmp_path)
    assert "Neu: 1" in console.say("orga", "import teilnehmende listen/liste.csv")
    assert "Import ausgeführt" in console.say("orga", "import teilnehmende listen/liste.csv ja")
    assert "hildegard.import@example.org" in _emails(console.bot)


@pytest.mark.parametrize("name", ["../geheim.csv", "/etc/passwd", "listen/../../geheim.csv"])
def test_the_console_refuses_paths_outside_its_directory(
    console: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    (tmp_path / "geheim.csv").write_bytes(GOOD)
    work = tmp_path / "arbeit"
    (work / "listen").mkdir(parents=True)
    monkeypatch.chdir(work)
    answer = console.say("orga", f"import teilnehmende {name} ja")
    assert "relativ zum Arbeitsverzeichnis" in answer
    assert "root" not in answer
    assert "hildegard.import@example.org" not in _emails(console.bot)


# -- command line --------------------------------------------------------------------------
def test_the_command_line_imports_a_file(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot = build_bot(make_settings(sqlite_url, organizers="console:orga"), SimulatedClock())
    Driver(bot).say("orga", 'jahrgang anlegen "Import" plaetze=20')
    csv_file = tmp_path / "liste.csv"
    csv_file.write_bytes(GOOD)
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("STADTLABOR_DATABASE_URL", sqlite_url)
    args = ["import", "teilnehmende", str(csv_file), "--jahrgang", "Import"]
    assert main([*args, "--probelauf"]) == 0
    assert "hildegard.import@example.org" not in _emails(bot)
    assert main(args) == 0
    assert "Import ausgeführt" in capsys.readouterr().out
    assert "hildegard.import@example.org" in _emails(bot)
    assert main(["import", "teilnehmende", str(csv_file), "--jahrgang", "Fehlt"]) == 2
    bot.engine.dispose()


# -- Matrix (real Synapse) -----------------------------------------------------------------
async def test_matrix_imports_the_senders_uploaded_m_file_and_never_a_typed_path(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> None:
    bot_user, person = matrix_user("importbot"), matrix_user("orga")
    human = await login_human(synapse, person)
    bot = make_bot(tmp_path, organizers=f"matrix:{person[0]}")
    world = World(synapse, bot, bot_config(synapse, bot_user), human)
    try:
        matrix = await world.start_bot()
        room = await world.shared_room()
        await human.say(room, '!stadtlabor jahrgang anlegen "Import" plaetze=20')
        await human.wait_for(body_has(matrix.user_id, "angelegt"))
        secret = tmp_path / "geheim.csv"
        secret.write_bytes(GOOD)

        await human.say(room, f"!stadtlabor import teilnehmende {secret} ja")
        await human.wait_for(body_has(matrix.user_id, "Aus dem Chat lese ich keine Dateien"))
        assert "hildegard.import@example.org" not in _emails(bot)

        uploaded, _ = await human.client.upload(
            io.BytesIO(GOOD), "text/csv", "liste.csv", filesize=len(GOOD)
        )
        assert isinstance(uploaded, UploadResponse), uploaded
        content = {
            "msgtype": "m.file",
            "body": "liste.csv",
            "filename": "liste.csv",
            "url": uploaded.content_uri,
            "info": {"size": len(GOOD), "mimetype": "text/csv"},
        }
        sent = await human.client.room_send(room, "m.room.message", content)
        assert isinstance(sent, RoomSendResponse), sent
        await human.say(room, "!stadtlabor import teilnehmende ja")
        await human.wait_for(body_has(matrix.user_id, "Import ausgeführt"))
        assert "hildegard.import@example.org" in _emails(bot)
    finally:
        for running in list(world.running):
            await running.stop()
        await human.client.close()
        bot.engine.dispose()


async def test_matrix_imports_an_encrypted_upload_in_an_encrypted_room(
    synapse: SynapseServer,  # noqa: F811
    matrix_user: Callable[[str], MatrixUser],  # noqa: F811
    tmp_path: Path,
) -> None:
    bot_user, person = matrix_user("cryptoimport"), matrix_user("cryptoorga")
    human = await crypto_human(synapse, person, tmp_path / "human", "orga-phone")
    client = human.client
    bot = make_bot(tmp_path, organizers=f"matrix:{person[0]}")
    config = bot_config(synapse, bot_user, store_path=tmp_path / "bot-store")
    world = World(synapse, bot, config, human)
    try:
        matrix = await world.start_bot()
        created = await client.room_create(
            name="Import", invite=[matrix.user_id], initial_state=[ENCRYPTION]
        )
        assert isinstance(created, RoomCreateResponse), created
        room = created.room_id
        await human.wait_for(
            lambda e: (
                e.get("state_key") == matrix.user_id and e["content"].get("membership") == "join"
            )
        )
        await human.sync()
        await human.say(room, '!stadtlabor jahrgang anlegen "Import" plaetze=20')
        await human.wait_for(body_has(matrix.user_id, "angelegt"), timeout=30)

        uploaded, keys = await client.upload(
            io.BytesIO(GOOD), "text/csv", "liste.csv", encrypt=True, filesize=len(GOOD)
        )
        assert isinstance(uploaded, UploadResponse) and keys is not None, uploaded
        content = {
            "msgtype": "m.file",
            "body": "liste.csv",
            "filename": "liste.csv",
            "file": {**keys, "url": uploaded.content_uri, "mimetype": "text/csv"},
            "info": {"size": len(GOOD), "mimetype": "text/csv"},
        }
        sent = await client.room_send(
            room, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(sent, RoomSendResponse), sent
        await human.say(room, "!stadtlabor import teilnehmende ja")
        await human.wait_for(body_has(matrix.user_id, "Import ausgeführt"), timeout=30)
        assert "hildegard.import@example.org" in _emails(bot)
    finally:
        for running in list(world.running):
            await running.stop()
        await client.close()
        bot.engine.dispose()
