"""The fake unit of work's own rules: ids, defaults, unique constraints, commit and rollback."""

from __future__ import annotations

import pytest

from storage.memory import DuplicateRow, MemoryDatabase
from storage.models import Cohort, Dialog, KeyValue, Participant, Person
from tests.unit.conftest import START


def _person(name: str) -> Person:
    return Person(display_name=name, created_at=START)


def test_ids_and_column_defaults_are_assigned_on_add() -> None:
    with MemoryDatabase()() as uow:
        anna, ben = _person("Anna"), _person("Ben")
        uow.persons.add(anna)
        uow.persons.add(ben)
        assert (anna.id, ben.id) == (1, 2)
        assert anna.is_organiser is False  # the model's default
        programme = uow.cohorts.programme("P")
        cohort = Cohort(programme_id=programme.id, name="C", created_at=START)
        uow.cohorts.add(cohort)
        assert (cohort.capacity, cohort.moderated, cohort.seat_version) == (20, False, 0)


def test_unique_constraints_of_the_schema_are_enforced() -> None:
    with MemoryDatabase()() as uow:
        uow.persons.add(_person("Anna"))
        row = dict(cohort_id=1, person_id=1, status="confirmed", registered_at=START)
        uow.participants.add(Participant(**row, updated_at=START))
        with pytest.raises(DuplicateRow, match="cohort_id"):
            uow.participants.add(Participant(**row, updated_at=START))


def test_rollback_restores_the_last_committed_state() -> None:
    db = MemoryDatabase()
    with db() as uow:
        anna = _person("Anna")
        uow.persons.add(anna)
        uow.state.put("k", "eins")
        uow.commit()
        anna.display_name = "Geändert"
        uow.persons.add(_person("Ben"))
        uow.state.delete("k")
        uow.rollback()
        assert anna.display_name == "Anna"  # the same object, its committed values again
        assert [p.display_name for p in db.rows(Person)] == ["Anna"]
        assert uow.state.get("k") == "eins"  # a removed row comes back
    with db() as uow:  # leaving without commit rolls back
        uow.state.put("k", "zwei")
        uow.persons.add(_person("Cem"))
    with db() as uow:
        assert uow.state.get("k") == "eins"
        assert len(db.rows(Person)) == 1
        assert db.rows(KeyValue)[0].value == "eins"


def test_json_values_are_copied_at_commit() -> None:
    db = MemoryDatabase()
    with db() as uow:
        person = _person("Anna")
        uow.persons.add(person)
        dialog = Dialog(person_id=person.id, kind="form", state={"step": 1}, updated_at=START)
        uow.dialogs.add(dialog)
        uow.commit()
        dialog.state["step"] = 2  # changed in place, not committed
        uow.rollback()
        assert dialog.state == {"step": 1}
