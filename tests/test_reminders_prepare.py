"""The engine's batch path (bot.scheduling.batch + prepare) writes exactly what the kinds'
handlers write, and a plan made ahead of time never outlives a delete or a move of its row —
on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from app import Bot
from bot.clock import SimulatedClock
from bot.commands import build_due_handlers
from bot.identity import Identity
from bot.messenger import MessageRef, RecordingMessenger
from bot.scheduling import prepare
from bot.scheduling import service as svc
from bot.scheduling.batch import run_batch, run_due
from bot.scheduling.due import DueHandlers, schedule
from bot.views import Message
from storage.models import KeyValue, OutboxMessage, Participant, Reminder
from tests.helpers import Driver


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    assert "angelegt" in d.say("orga", 'jahrgang anlegen "Stadtlabor 2027"')
    assert "gehört jetzt" in d.say("orga", 'jahrgang verbinden "Stadtlabor 2027"')
    d.say("bea", "hilfe", dm=True)
    d.say("anna", "hilfe", dm=True)
    with bot.uow_factory() as uow:  # bea is anna's office contact (a copy of her reminders)
        anna = uow.persons.get_by_identity("console", "anna")
        bea = uow.persons.get_by_identity("console", "bea")
        cohort = uow.cohorts.get_by_name("Stadtlabor 2027")
        assert anna and bea and cohort
        bea.language = "en"
        now = bot.clock.now()
        uow.session.add(
            Participant(
                cohort_id=cohort.id,
                person_id=anna.id,
                status="confirmed",
                registered_at=now,
                updated_at=now,
                delegate_person_id=bea.id,
            )
        )
        uow.commit()
    return d


def _advance(bot: Bot, delta: timedelta) -> None:
    assert isinstance(bot.clock, SimulatedClock)
    bot.clock.advance(delta)


class _Deduplicating(RecordingMessenger):
    """Takes the row key (like Matrix): the hand-over claims every row of the batch."""

    deduplicates = True

    def send_dm(self, user: Identity, message: Message, key: str | None = None) -> MessageRef:
        return super().send_dm(user, message)

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None, key: Any = None
    ) -> MessageRef:
        return super().post(channel_id, message, thread)


def _batch(bot: Bot) -> list[Any]:
    """What the engine does for a due row: run the batch, claim its outbox rows, hand over."""
    sender = bot.sender({"console": _Deduplicating()})
    now = bot.clock.now()
    claimed: list[Any] = []
    run_batch(
        bot.uow_factory,
        HANDLERS,
        bot.settings,
        now,
        before_commit=lambda uow: claimed.extend(sender.claim_enqueued(uow, now)),
    )
    sender.deliver_claimed(claimed)
    return claimed


HANDLERS = build_due_handlers()


def _handlers_only() -> DueHandlers:
    """The same kinds, each handler wrapped: the batch does not know them as plannable, so
    every row runs its kind's handler (what the plans must match)."""
    handlers = DueHandlers()
    for kind in HANDLERS.kinds:
        handler = HANDLERS.get(kind)
        assert handler is not None
        handlers.add(kind, lambda ctx, handler=handler: handler(ctx))  # type: ignore[misc]
    return handlers


BY_HANDLERS = _handlers_only()
OCCURRENCE = r"^reminder:\d+:[^:]+:\d\d:\d\d(\+00:00)?"


def _written(bot: Bot, marker: str) -> list[tuple[Any, ...]]:
    """The outbox rows of reminders whose text contains ``marker``, keys without row id/time."""
    with bot.uow_factory() as uow:
        rows = uow.session.query(OutboxMessage).order_by(OutboxMessage.id).all()
        out = []
        for row in rows:
            text = str(row.payload.get("message"))
            if marker not in text:
                continue
            key = re.sub(
                r"^reminder:\d+:[^:]+:\d\d:\d\d(\+00:00)?", "reminder:X", row.idempotency_key
            )
            payload = re.sub(marker, "M", str(row.payload))
            out.append((key, row.platform, row.operation, row.target, payload, row.status))
        return sorted(out)


def _create(driver: Driver, marker: str) -> None:
    assert "Nr." in driver.say("anna", f"erinnern in 1 Stunde; {marker} eins", dm=True)
    assert "Nr." in driver.say("anna", f"erinnern täglich 8 Uhr; {marker} täglich", dm=True)
    assert "Nr." in driver.say("orga", f"erinnern kanal in 1 Stunde; {marker} für alle")


def test_the_batch_path_writes_what_the_handlers_write(driver: Driver) -> None:
    bot = driver.bot
    _create(driver, "Alt")
    _advance(bot, timedelta(minutes=61))
    run_due(bot.uow_factory, BY_HANDLERS, bot.settings, bot.clock.now())  # no plans
    driver.flush()
    _create(driver, "Neu")
    _advance(bot, timedelta(minutes=61))
    assert len(_batch(bot)) == 3  # anna, her copy to bea, the post; not the daily one yet
    old, new = _written(bot, "Alt"), _written(bot, "Neu")
    assert len(old) == 3 and old == new  # (both sent; the daily ones are due tomorrow)
    with bot.uow_factory() as uow:
        rows = {r.text: r for r in uow.session.query(Reminder) if r.text}
        assert {t: r.status for t, r in rows.items()} == {
            "Alt eins": "done",
            "Alt täglich": "pending",
            "Alt für alle": "done",
            "Neu eins": "done",
            "Neu täglich": "pending",
            "Neu für alle": "done",
        }
        anna = uow.persons.get_by_identity("console", "anna")
        assert anna is not None
        last = uow.session.get(KeyValue, svc.LAST_KEY.format(person_id=anna.id))
        assert last is not None and last.value == str(rows["Neu eins"].id)
    _advance(bot, timedelta(days=1))
    _batch(bot)
    bot.due.run_due(bot.clock.now())
    with bot.uow_factory() as uow:
        daily = {r.text: r.due_at for r in uow.session.query(Reminder) if "täglich" in str(r.text)}
    assert daily["Alt täglich"] == daily["Neu täglich"] > bot.clock.now()
    assert _written(bot, "Alt täglich") == _written(bot, "Neu täglich") != []


def test_a_plan_made_ahead_never_outlives_a_delete_or_a_move(
    driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = driver.bot
    for text in ("bleibt", "gelöscht", "verschoben", "neuer Text"):
        driver.say("anna", f"erinnern in 1 Stunde; {text}", dm=True)
    prepared = prepare.register(bot.uow_factory, HANDLERS, bot.settings)
    _advance(bot, timedelta(minutes=59, seconds=55))
    assert prepare.prepare_ahead(bot.uow_factory, bot.clock.now(), timedelta(seconds=10)) == 4
    assert prepare.prepare_ahead(bot.uow_factory, bot.clock.now(), timedelta(seconds=10)) == 0
    with bot.uow_factory() as uow:
        rows = {r.text: r for r in uow.session.query(Reminder)}
        anna = uow.persons.get_by_identity("console", "anna")
        assert anna is not None
        svc.remove(uow, rows["gelöscht"].id, anna.id, organiser=False)
        moved = rows["verschoben"]
        schedule(
            uow,
            key=moved.idempotency_key,
            due_at=moved.due_at + timedelta(hours=1),
            kind="dm",
            now=bot.clock.now(),
            person_id=anna.id,
            text="verschoben",
        )
        changed = rows["neuer Text"]
        schedule(
            uow,
            key=changed.idempotency_key,
            due_at=changed.due_at,
            kind="dm",
            now=bot.clock.now(),
            person_id=anna.id,
            text="ganz neuer Text",
        )
        uow.commit()
    planned_now: list[int] = []
    plan_rows = prepare.plan_rows

    def spy(session: Any, settings: Any, rows: Any) -> dict[int, prepare.Plan]:
        planned_now.extend(r.id for r in rows)
        return plan_rows(session, settings, rows)

    monkeypatch.setattr(prepare, "plan_rows", spy)
    _advance(bot, timedelta(seconds=6))
    claimed = _batch(bot)
    texts = sorted(_head(row) for row in claimed)
    assert texts == sorted(
        [
            "Erinnerung: bleibt",
            "Copy of a reminder for —: bleibt",
            "Erinnerung: ganz neuer Text",
            "Copy of a reminder for —: ganz neuer Text",
        ]
    )
    assert planned_now == [rows["neuer Text"].id]  # the unchanged row used its plan
    assert len(prepared) == 2  # stale plans of the deleted and the moved row: never used

    _advance(bot, timedelta(hours=1))
    assert sorted(_head(row) for row in _batch(bot)) == [
        "Copy of a reminder for —: verschoben",
        "Erinnerung: verschoben",
    ]


def _head(row: Any) -> str:
    return str(row.payload["message"]["blocks"][0]["lines"][0])
