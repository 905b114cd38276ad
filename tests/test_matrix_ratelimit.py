"""M_LIMIT_EXCEEDED from a real Synapse with a low rc_message: every message arrives once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.outbox import enqueue
from bot.views import Message
from handlers.matrix.bot import MatrixBot
from storage.models import OutboxMessage
from tests.support.fixtures_matrix import matrix_user, synapse  # noqa: F401
from tests.support.synapse import MatrixUser, SynapseServer
from tests.test_matrix_e2e import bot_config, login_human, make_bot


async def test_rate_limited_sends_are_retried_without_duplicates(
    synapse: SynapseServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    # a second server with a message limit below the outbox pacing (1/s), so that Synapse
    # really answers M_LIMIT_EXCEEDED; `synapse` is only there for skip/fail in CI
    with SynapseServer(venv=synapse.venv, rc_message=(0.5, 1)) as server:
        users: list[MatrixUser] = []
        for name in ("limitbot", "limitanna"):
            user_id, _ = server.register_user(name, f"pw-{name}")
            users.append((user_id, "", f"pw-{name}"))
        human = await login_human(server, users[1])
        bot = make_bot(tmp_path)
        matrix = MatrixBot(bot, bot_config(server, users[0]), flush_interval=0.1, poll_ms=1000)
        try:
            await matrix.start()
            with bot.uow_factory() as uow:
                for i in range(6):
                    enqueue(
                        uow,
                        key=f"burst:{i}",
                        platform="matrix",
                        operation="dm",
                        target={"identity": f"matrix:{human.user_id}"},
                        message=Message.text(f"Nachricht {i}"),
                        now=bot.clock.now(),
                    )
                uow.commit()
            from_bot: Callable[[], list[str]] = lambda: [  # noqa: E731
                e["content"]["body"] for e in human.from_bot(matrix.user_id)
            ]
            await human.wait_for(lambda e: len(from_bot()) >= 6, timeout=90)
            with bot.uow_factory() as uow:
                statuses = {row.status for row in uow.session.query(OutboxMessage)}
        finally:
            await matrix.stop()
            await human.client.close()
            bot.engine.dispose()
    assert sorted(from_bot()) == [f"Nachricht {i}" for i in range(6)]  # each exactly once
    assert matrix.transport.waits and all(0.1 <= w <= 30 for w in matrix.transport.waits)
    assert matrix.direct.created_count == 1 and statuses == {"sent"}
    assert len({e["room_id"] for e in human.from_bot(matrix.user_id)}) == 1
