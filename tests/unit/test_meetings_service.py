"""Meetings, their agenda and attendance on the fake unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import NotFound, UserFacingError
from bot.scheduling import due as reminders
from bot.services import agenda, attendance, calendar, meetings
from bot.services import registration as reg
from bot.services.attendance import Answer
from storage.models import Cohort, Person, PostedMessage, Reminder
from storage.models_meetings import Attendance
from tests.unit.conftest import BERLIN, World

# Thu/Fri 10 and 11 December 2026, 10:00–16:00 in Berlin (CET, UTC+1)
DAY1 = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def _meeting_data(
    start: datetime = DAY1, days: int = 2, title: str = "Auftakt"
) -> meetings.MeetingData:
    return meetings.MeetingData(title, start, start + timedelta(days=days - 1, hours=6), "Kassel")


def _item(start: datetime, minutes: int, title: str, kind: str | None = None) -> agenda.ItemData:
    return agenda.ItemData(start, start + timedelta(minutes=minutes), title, kind)


def _pending(world: World, prefix: str) -> dict[str, datetime]:
    return {
        r.idempotency_key: r.due_at
        for r in world.db.rows(Reminder)
        if r.idempotency_key.startswith(prefix) and r.status == "pending"
    }


def _register(world: World, cohort: Cohort, person: Person) -> None:
    reg.register(
        world.uow,
        cohort=cohort,
        person=person,
        details=reg.Details(person.display_name or "", "Jena", "Stabsstelle", "x@example.org"),
        consent=True,
        now=world.tick(),
        language="de",
        default_language="de",
        tz=BERLIN,
    )


def _setup(world: World) -> tuple[Person, Cohort]:
    orga = world.person("Orga", organiser=True)
    return orga, world.cohort(actor=orga)


def test_create_numbers_checks_and_schedules_milestones(world: World) -> None:
    orga, cohort = _setup(world)
    first = meetings.create(
        world.uow, cohort, _meeting_data(), actor_id=orga.id, now=world.now, tz=BERLIN
    )
    assert (first.number, first.title, first.sequence) == (1, "Auftakt", 0)
    keys = _pending(world, f"meeting:{first.id}:")
    # three weeks before day 1 at 09:00 Berlin has passed on 25 November: not scheduled
    assert sorted(keys) == [f"meeting:{first.id}:{s}" for s in ("day1", "notes14", "recap1")]
    assert keys[f"meeting:{first.id}:day1"] == datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
    with pytest.raises(UserFacingError, match="überschneidet sich mit Treffen 1 „Auftakt“"):
        meetings.create(
            world.uow,
            cohort,
            _meeting_data(DAY1 + timedelta(days=1), title="Zwei"),
            actor_id=orga.id,
            now=world.now,
            tz=BERLIN,
        )
    with pytest.raises(UserFacingError, match="in der Vergangenheit"):
        meetings.create(
            world.uow, cohort, _meeting_data(world.now - timedelta(days=1)),
            actor_id=orga.id, now=world.now, tz=BERLIN,
        )  # fmt: skip
    with pytest.raises(UserFacingError, match="höchstens 7 Tage"):
        meetings.create(
            world.uow, cohort, _meeting_data(DAY1 + timedelta(days=30), days=9),
            actor_id=orga.id, now=world.now, tz=BERLIN,
        )  # fmt: skip
    second = meetings.create(
        world.uow, cohort, _meeting_data(DAY1 + timedelta(days=60), title=" Zwei "),
        actor_id=orga.id, now=world.now, tz=BERLIN,
    )  # fmt: skip
    assert (second.number, second.title) == (2, "Zwei")
    assert [m.number for m in meetings.active(world.uow, cohort.id)] == [1, 2]
    assert meetings.upcoming(world.uow, cohort.id, world.now) is first
    assert world.audit_actions()[-2:] == ["treffen anlegen", "treffen anlegen"]


def test_move_shifts_agenda_and_milestones_delete_cancels_and_numbers_stay(world: World) -> None:
    orga, cohort = _setup(world)
    meeting = meetings.create(
        world.uow, cohort, _meeting_data(), actor_id=orga.id, now=world.now, tz=BERLIN
    )
    item = agenda.add_item(
        world.uow, meeting, _item(DAY1 + timedelta(hours=1), 60, "Input"), BERLIN
    )
    with pytest.raises(UserFacingError, match="Programmpunkt „Input“ läge dann außerhalb"):
        meetings.update(
            world.uow, meeting, {"ends_at": DAY1 + timedelta(minutes=90)},
            actor_id=orga.id, now=world.now, tz=BERLIN,
        )  # fmt: skip
    week_later = DAY1 + timedelta(days=7)
    meetings.update(
        world.uow, meeting, {"starts_at": week_later, "title": " Neu "},
        actor_id=orga.id, now=world.now, tz=BERLIN,
    )  # fmt: skip
    assert (meeting.starts_at, meeting.ends_at) == (
        week_later,
        week_later + timedelta(days=1, hours=6),
    )
    assert item.starts_at == week_later + timedelta(hours=1)
    # the move raises the SEQUENCE; an agenda item alone does so in agenda.changed (below)
    assert meeting.title == "Neu" and meeting.sequence == 1
    keys = _pending(world, f"meeting:{meeting.id}:")
    assert keys[f"meeting:{meeting.id}:day1"] == datetime(2026, 12, 17, 7, 0, tzinfo=UTC)
    assert f"meeting:{meeting.id}:ask" in keys  # 26 Nov 09:00 lies ahead again
    # moved back: the ask milestone has passed and is cancelled, not left behind
    meetings.update(
        world.uow, meeting, {"starts_at": DAY1}, actor_id=orga.id, now=world.now, tz=BERLIN
    )
    ask = world.uow.reminders.by_key(f"meeting:{meeting.id}:ask")
    assert ask is not None and ask.status == "cancelled"
    meetings.update(
        world.uow, meeting, {"starts_at": week_later}, actor_id=orga.id, now=world.now, tz=BERLIN
    )
    assert ask.status == "pending" and ask.attempts == 0  # re-opened when it lies ahead again
    meetings.delete(world.uow, meeting, actor_id=orga.id, now=world.now)
    assert _pending(world, f"meeting:{meeting.id}:") == {}
    with pytest.raises(NotFound, match="Ein Treffen 1 gibt es nicht"):
        meetings.get(world.uow, cohort.id, 1)
    again = meetings.create(
        world.uow, cohort, _meeting_data(), actor_id=orga.id, now=world.now, tz=BERLIN
    )
    assert again.number == 2  # numbers are never reused
    ics = calendar.build(world.uow, cohort, tz=BERLIN, language="de", now=world.now)
    text = ics.decode()
    assert text.count("BEGIN:VEVENT") == 2 and "STATUS:CANCELLED" in text
    assert world.audit_actions()[-1] == "treffen anlegen"
    assert "treffen loeschen" in world.audit_actions()


def test_agenda_add_edit_reorder_delete_and_render(world: World) -> None:
    orga, cohort = _setup(world)
    meeting = meetings.create(
        world.uow, cohort, _meeting_data(), actor_id=orga.id, now=world.now, tz=BERLIN
    )
    late = agenda.add_item(
        world.uow, meeting, _item(DAY1 + timedelta(hours=3), 60, "Workshop"), BERLIN
    )
    early = agenda.add_item(world.uow, meeting, _item(DAY1, 90, "Begrüßung"), BERLIN)
    pause = agenda.add_item(
        world.uow, meeting, _item(DAY1 + timedelta(hours=1), 30, "Kaffee", "Pause"), BERLIN
    )
    assert [i.title for i in meetings.items_of(world.uow, meeting)] == [
        "Begrüßung",
        "Kaffee",
        "Workshop",
    ]
    assert agenda.item_at(world.uow, meeting, 3) is late
    assert agenda.overlaps_of(world.uow, meeting, early) == []  # breaks never count
    agenda.update_item(
        world.uow, meeting, late, _item(DAY1 + timedelta(minutes=30), 60, "Workshop A"), BERLIN
    )  # now second, and it overlaps the welcome
    assert agenda.item_at(world.uow, meeting, 2) is late and late.title == "Workshop A"
    assert agenda.overlaps_of(world.uow, meeting, early) == [2]
    with pytest.raises(UserFacingError, match="außerhalb von Treffen 1"):
        agenda.add_item(world.uow, meeting, _item(DAY1 - timedelta(hours=1), 30, "Früh"), BERLIN)
    with pytest.raises(NotFound, match="keinen Programmpunkt 4"):
        agenda.item_at(world.uow, meeting, 4)
    lines = [
        line for block in agenda.render(world.uow, meeting, BERLIN, "de").blocks
        for line in getattr(block, "lines", ())
    ]  # fmt: skip
    assert "1. 10:00–11:30 Begrüßung ⚠ überschneidet sich mit 2" in lines
    assert "3. 11:00–11:30 Kaffee (Pause)" in lines and "(noch kein Programm)" in lines
    agenda.delete_item(world.uow, meeting, pause)
    assert [i.title for i in meetings.items_of(world.uow, meeting)] == ["Begrüßung", "Workshop A"]
    assert meeting.sequence == 0  # the items alone: agenda.changed raises it, once
    agenda.changed(world.uow, meeting, now=world.now, tz=BERLIN, default="de")
    assert meeting.sequence == 1  # no invitations by mail here: at once
    # the posted agenda is edited in place, with a note in its thread
    world.db.insert(
        PostedMessage(subject=agenda.subject(meeting), platform="console", channel_id="stadtlabor",
                      message_id="m1")
    )  # fmt: skip
    assert agenda.refresh(world.uow, meeting, now=world.now, tz=BERLIN, language="de",
                          note="Programm von Treffen {n} geändert.") == 1  # fmt: skip
    ops = sorted((m.operation, m.target.get("thread_id")) for m in world.outbox("agenda:"))
    assert ops == [("post", "m1"), ("update", None)]


def test_attendance_answers_needs_head_counts_and_erasure(world: World) -> None:
    orga, cohort = _setup(world)
    people = {}
    for name in ("Anna", "Ben", "Cem", "Dora"):
        people[name] = world.person(name, municipality="Jena")
        _register(world, cohort, people[name])
    meeting = meetings.create(
        world.uow, cohort, _meeting_data(), actor_id=orga.id, now=world.now, tz=BERLIN
    )
    assert attendance.parse_answer(["ja"], meeting, BERLIN) == (1, 2)
    assert attendance.parse_answer(["tag2"], meeting, BERLIN) == (2,)
    with pytest.raises(UserFacingError, match="„tag3“ verstehe ich nicht"):
        attendance.parse_answer(["tag3"], meeting, BERLIN)
    with pytest.raises(UserFacingError, match="nur bestätigte Teilnehmende"):
        attendance.give(world.uow, meeting, orga, Answer((1,)), world.now)
    # needs typed before the answer: kept, but the person still counts as not answered
    attendance.give(world.uow, meeting, people["Anna"], None, world.now, dietary="vegetarisch")
    assert attendance.answer_of(world.uow, meeting, people["Anna"].id) is None
    attendance.give(world.uow, meeting, people["Anna"], Answer((1, 2)), world.now, overnight=True)
    attendance.give(
        world.uow, meeting, people["Ben"], Answer((2,)), world.now, accessibility="Rollstuhl"
    )
    attendance.give(world.uow, meeting, people["Cem"], Answer(()), world.now)
    summary = attendance.summarise(world.uow, meeting, BERLIN)
    assert summary.per_day == {1: 1, 2: 2}
    assert (summary.declined, summary.missing) == (["Cem"], ["Dora"])
    assert summary.needs == ["Anna: vegetarisch", "Ben: Rollstuhl"] and summary.overnight == [
        "Anna"
    ]
    assert [p.display_name for p in attendance.coming(world.uow, meeting)] == [
        "Anna",
        "Ben",
        "Dora",
    ]
    assert [p.display_name for p in attendance.unanswered(world.uow, meeting)] == ["Dora"]
    csv_text = attendance.export_csv(world.uow, meeting).decode()
    assert "Ben,Jena,ja,tag2,,Rollstuhl," in csv_text and "Dora,Jena,offen,,,," in csv_text
    attendance.close(world.uow, meeting, world.now)
    assert attendance.summarise(world.uow, meeting, BERLIN).closed
    with pytest.raises(UserFacingError, match="Rückmeldungen für Treffen 1 sind geschlossen"):
        attendance.give(world.uow, meeting, people["Dora"], Answer((1,)), world.now)
    attendance.close(world.uow, meeting, world.now, closed=False)
    attendance.give(world.uow, meeting, people["Dora"], Answer((1,)), world.now)
    assert attendance.summarise(world.uow, meeting, BERLIN).per_day == {1: 2, 2: 2}
    exported = attendance.export_person(world.uow, people["Anna"].id)
    assert exported["teilnahme"][0]["tage"] == [1, 2]
    assert exported["teilnahme"][0]["essen"] == "vegetarisch"
    attendance.erase_person(world.uow, people["Anna"].id, "Person 1")
    assert attendance.export_person(world.uow, people["Anna"].id) == {"teilnahme": []}
    assert [a.person_id for a in world.db.rows(Attendance)] == [
        people[n].id for n in ("Ben", "Cem", "Dora")
    ]
    assert attendance.summarise(world.uow, meeting, BERLIN).per_day == {1: 1, 2: 1}


def test_scheduling_wakes_the_engine_after_commit_only(world: World) -> None:
    woken: list[int] = []
    remove = reminders.on_change(lambda: woken.append(1))
    try:
        orga, cohort = _setup(world)
        world.uow.commit()
        meetings.create(
            world.uow, cohort, _meeting_data(), actor_id=orga.id, now=world.now, tz=BERLIN
        )
        assert woken == []
        world.uow.rollback()
        world.uow.commit()
        assert woken == []  # the rolled-back schedule announces nothing
        meetings.create(
            world.uow, cohort, _meeting_data(), actor_id=orga.id, now=world.now, tz=BERLIN
        )
        world.uow.commit()
        assert woken == [1]  # three milestones, one wake-up
    finally:
        remove()
