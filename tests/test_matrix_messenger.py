"""The Matrix Messenger against Synapse, called like the outbox calls it (from a thread)."""

from __future__ import annotations

import asyncio

from nio import DownloadResponse

from bot.actions import CommandAction
from bot.identity import Identity
from bot.messenger import MessageRef
from bot.views import Actions, Button, Header, Message, Section
from handlers.matrix.messenger import MatrixMessenger
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.test_matrix_e2e import World, body_has, world  # noqa: F401


async def test_thread_reply_edit_and_redaction(world: World) -> None:  # noqa: F811
    matrix = await world.start_bot()
    room = await world.shared_room()
    sync_messenger = MatrixMessenger(matrix.messenger, asyncio.get_running_loop())
    agenda = Message((Header("Tagesordnung"), Section(("10:00 Begrüßung",))), "Tagesordnung")

    root = await asyncio.to_thread(sync_messenger.post, room, agenda)
    reply = await asyncio.to_thread(
        sync_messenger.post, room, Message.text("Ergänzung <b>nicht fett</b>"), root
    )
    later = MessageRef("matrix", room, reply.message_id, reply.thread_id)
    second = await asyncio.to_thread(sync_messenger.post, room, Message.text("Noch was"), later)
    updated = Message((Header("Tagesordnung (neu)"), Section(("10:30 Begrüßung",))), "neu")
    await asyncio.to_thread(sync_messenger.update, root, updated)
    typo = await asyncio.to_thread(sync_messenger.post, room, Message.text("Tippfehler"))
    await asyncio.to_thread(sync_messenger.delete, typo)

    human = world.human
    edit = await human.wait_for(lambda e: "m.new_content" in e.get("content", {}))
    redaction = await human.wait_for(lambda e: e.get("type") == "m.room.redaction")
    threaded = next(e for e in human.events if e.get("event_id") == reply.message_id)
    nested = next(e for e in human.events if e.get("event_id") == second.message_id)

    assert reply.thread_id == root.message_id == second.thread_id
    assert threaded["content"]["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": root.message_id,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": root.message_id},
    }
    assert nested["content"]["m.relates_to"]["m.in_reply_to"] == {"event_id": reply.message_id}
    assert "&lt;b&gt;nicht fett&lt;/b&gt;" in threaded["content"]["formatted_body"]
    assert edit["content"]["m.relates_to"] == {"rel_type": "m.replace", "event_id": root.message_id}
    assert edit["content"]["m.new_content"]["body"] == "Tagesordnung (neu)\n10:30 Begrüßung"
    assert edit["content"]["body"].startswith("* ")
    assert redaction.get("redacts", redaction["content"].get("redacts")) == typo.message_id


async def test_send_file_goes_into_the_dm_with_hint_rendering(world: World) -> None:  # noqa: F811
    matrix = await world.start_bot()
    sync_messenger = MatrixMessenger(matrix.messenger, asyncio.get_running_loop())
    person = Identity("matrix", world.human.user_id)
    csv = "name;kommune\nAnna;Beißstadt\n".encode()
    comment = Message(
        (
            Section(("Ihr Export",)),
            Actions(
                (Button("Löschen", CommandAction("daten loeschen"), "danger", "daten löschen"),)
            ),
        ),
        "Export",
    )

    ref = await asyncio.to_thread(sync_messenger.send_file, person, "export.csv", csv, comment)
    file_event = await world.human.wait_for(lambda e: e["content"].get("msgtype") == "m.file")
    hint = await world.human.wait_for(body_has(matrix.user_id, "Antworten Sie mit"))

    assert file_event["event_id"] == ref.message_id and file_event["room_id"] == ref.channel_id
    assert file_event["content"]["info"] == {"mimetype": "text/csv", "size": len(csv)}
    downloaded = await world.human.client.download(file_event["content"]["url"])
    assert isinstance(downloaded, DownloadResponse) and downloaded.body == csv
    assert "Löschen — Antworten Sie mit: !stadtlabor daten löschen" in hint["content"]["body"]
    assert hint["room_id"] == ref.channel_id  # the comment went into the same DM


async def test_a_row_sent_again_after_a_crash_is_deduplicated_by_synapse(
    world: World,  # noqa: F811
) -> None:
    """The outbox resends a Matrix row whose lease ran out (the sender died mid-send) instead
    of writing it off as "uncertain": the resend carries the same transaction ids, derived
    from the row's key, so Synapse answers with the first event and shows nothing twice."""
    matrix = await world.start_bot()
    room = await world.shared_room()
    sync_messenger = MatrixMessenger(matrix.messenger, asyncio.get_running_loop())
    assert sync_messenger.deduplicates
    message = Message.text("Agenda: Treffen 2")

    def send() -> tuple[MessageRef, MessageRef, MessageRef, MessageRef]:
        first = sync_messenger.post(room, message, key="agenda:post:7")
        again = sync_messenger.post(room, message, key="agenda:post:7")  # resent after a crash
        other = sync_messenger.post(room, message, key="agenda:post:8")  # another row
        plain = sync_messenger.post(room, message)  # no row key: a fresh id
        return first, again, other, plain

    first, again, other, plain = await asyncio.to_thread(send)
    assert first.message_id == again.message_id
    assert len({first.message_id, other.message_id, plain.message_id}) == 3
    await world.human.wait_for(lambda e: e.get("event_id") == plain.message_id)
    copies = [
        e
        for e in world.human.from_bot(matrix.user_id, room)
        if e["content"].get("body") == "Agenda: Treffen 2"
    ]
    assert sorted(e["event_id"] for e in copies) == sorted(
        [first.message_id, other.message_id, plain.message_id]
    )
