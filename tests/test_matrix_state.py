"""The Matrix adapter's small persisted state (sync token, device, DM rooms), without a
homeserver: it goes through the state repository of the unit of work."""

from __future__ import annotations

from app import Bot
from handlers.matrix.state import NEXT_BATCH, MatrixState, dm_key


def test_matrix_state_round_trip_and_delete(bot: Bot) -> None:
    """Put, read, delete (twice: a key already gone is no error); the session of one account
    is not handed to another, and a new account starts without the old sync token."""
    state = MatrixState(bot.uow_factory)
    state.put(dm_key("@anna:example.org"), "!dm:example.org")
    assert state.get(dm_key("@anna:example.org")) == "!dm:example.org"
    state.delete(dm_key("@anna:example.org"))
    state.delete(dm_key("@anna:example.org"))
    assert state.get(dm_key("@anna:example.org")) is None
    state.save_session("@bot:example.org", "DEVICE", "token")
    state.put(NEXT_BATCH, "s42")
    assert state.session_for("@bot:example.org") == ("DEVICE", "token", "s42")
    assert state.session_for("@other:example.org") == (None, None, None)
    state.save_session("@other:example.org", "D2", "t2")
    assert state.session_for("@other:example.org") == ("D2", "t2", "")
