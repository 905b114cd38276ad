"""Feedback rounds on the fake unit of work: start, answer, anonymous batches and threshold,
close, and erasing one person's answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import UserFacingError
from bot.services import feedback as fb
from bot.services import feedback_close as fb_close
from bot.services import feedback_erase as fb_erase
from bot.services import feedback_start
from bot.services import registration as reg
from bot.settings import Settings
from storage.models import Cohort, Dialog, FeedbackResponse, FeedbackRound, Person, Reminder
from tests.unit.conftest import BERLIN, World

SETTINGS = Settings.model_construct(language="de", anonymity_threshold=2)


def _people(world: World, cohort: Cohort, *names: str) -> list[Person]:
    people = []
    for name in names:
        person = world.person(name, municipality=f"{name}stadt")
        reg.register(
            world.uow,
            cohort=cohort,
            person=person,
            details=reg.Details(name, f"{name}stadt", "Stabsstelle", f"{name}@example.org"),
            consent=True,
            now=world.tick(),
            language="de",
            default_language="de",
            tz=BERLIN,
        )
        people.append(person)
    return people


def _open(
    world: World, cohort: Cohort, presenter: Person, *, anonymous: bool, questions: int = 2
) -> FeedbackRound:
    wanted = feedback_start.RoundRequest(
        title="Quartiersentwicklung",
        presenters=[presenter],
        subject=None,
        closes_at=world.now + timedelta(days=7),
        anonymous=anonymous,
        questions=[f"Frage {i}" for i in range(1, questions + 1)],
    )
    return fb.open_round(world.uow, cohort=cohort, wanted=wanted, now=world.now, settings=SETTINGS)


def _answer(world: World, rnd: FeedbackRound, person: Person, *answers: str) -> fb.Submitted:
    return fb.submit(
        world.uow, rnd=rnd, person=person, answers=list(answers), now=world.tick(),
        settings=SETTINGS,
    )  # fmt: skip


def _posts(world: World, rnd: FeedbackRound, kind: str) -> list[str]:
    return [
        " ".join(line for b in m.payload["message"]["blocks"] for line in b.get("lines", []))
        for m in world.outbox(f"feedback:{rnd.id}:{kind}")
    ]


def test_start_prompts_the_others_and_schedules_close_and_reminders(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    anna, ben, cem = _people(world, cohort, "Anna", "Ben", "Cem")
    rnd = _open(world, cohort, anna, anonymous=False)
    assert (rnd.number, fb.who_presents(world.uow, rnd)) == (1, "Anna (Annastadt)")
    assert [p.display_name for p in fb.eligible(world.uow, rnd)] == ["Ben", "Cem"]
    prompts = [m.idempotency_key for m in world.outbox(f"feedback:{rnd.id}:prompt:")]
    assert prompts == [f"feedback:{rnd.id}:prompt:{p.id}" for p in (ben, cem)]
    assert len(world.outbox(f"feedback:{rnd.id}:root")) == 1  # the announcement, in the channel
    due = {r.idempotency_key: r.due_at for r in world.db.rows(Reminder) if r.status == "pending"}
    assert due[f"feedback:{rnd.id}:close"] == rnd.closes_at
    assert due[f"feedback:{rnd.id}:remind:2h"] == rnd.closes_at - timedelta(hours=2)
    assert fb.get_round(world.uow, cohort, 1) is rnd
    with pytest.raises(UserFacingError, match="Feedback-Runde #2 gibt es nicht"):
        fb.get_round(world.uow, cohort, 2)
    twin = feedback_start.open_twin(
        world.uow,
        cohort,
        feedback_start.RoundRequest(
            "Quartiersentwicklung", [anna], None, rnd.closes_at, False, ["Frage 1", "Frage 2"]
        ),
        fb.DEFAULT_QUESTIONS,
    )
    assert twin is rnd  # the same command typed again finds the open round
    assert [r.number for r in fb.waiting_for(world.uow, cohort, ben, world.now)] == [1]
    assert fb.waiting_for(world.uow, cohort, anna, world.now) == []  # she presents


def test_named_answers_are_posted_edited_refused_and_reminded(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    anna, ben, _cem = _people(world, cohort, "Anna", "Ben", "Cem")
    rnd = _open(world, cohort, anna, anonymous=False)
    with pytest.raises(UserFacingError, match="selbst vor"):
        _answer(world, rnd, anna, "a", "b")
    with pytest.raises(UserFacingError, match="2 Fragen; ich habe 1 Antworten"):
        _answer(world, rnd, ben, "nur eine")
    first = _answer(world, rnd, ben, "Gut", "Riskant")
    assert (first.edited, first.anonymous) == (False, False)
    again = _answer(world, rnd, ben, "Sehr gut", "Riskant")
    assert again.edited and len(fb.responses(world.uow, rnd)) == 1
    response = fb.response_of(world.uow, rnd, ben.id)
    assert response is not None and response.answers["answers"] == ["Sehr gut", "Riskant"]
    # unsent post rewritten in place: the thread never shows the first wording
    posts = _posts(world, rnd, f"answer:{response.id}:")
    assert len(posts) == 1 and "Sehr gut" in posts[0] and "Gut Riskant" not in posts[0]
    assert fb_close.remind(world.uow, rnd, "2d", world.now, SETTINGS) == 1  # Cem only
    assert [m.target for m in world.outbox(f"feedback:{rnd.id}:remind:")] == [
        {"identity": "console:cem"}
    ]
    views = fb_close.answer_views(world.uow, rnd)
    assert [(v.label, v.answers) for v in views] == [("Ben (Benstadt)", ("Sehr gut", "Riskant"))]


def test_anonymous_batches_hold_k_back_and_close_seals_without_authors(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    anna, *others = _people(world, cohort, "Anna", "Ben", "Cem", "Dora", "Emil", "Finn")
    rnd = _open(world, cohort, anna, anonymous=True, questions=1)
    world.uow.dialogs.add(
        Dialog(person_id=others[4].id, kind="feedback",
               state={"form": {"context": {"round_id": str(rnd.id)}}}, updated_at=world.now)
    )  # fmt: skip
    for person, text in zip(others[:3], ("eins", "zwei", "drei"), strict=True):
        _answer(world, rnd, person, text)
    # k=2: nothing is published until 2k answers wait
    assert world.outbox(f"feedback:{rnd.id}:batch:") == []
    _answer(world, rnd, others[3], "vier")
    published = [r for r in fb.responses(world.uow, rnd) if r.published_at is not None]
    assert len(published) == 2  # 4 waiting, k=2 held back
    assert sorted(r.answers["slot"] for r in published) == [1, 2]
    batch = _posts(world, rnd, "batch:1")
    assert len(batch) == 1 and sum(w in batch[0] for w in ("eins", "zwei", "drei", "vier")) == 2
    with pytest.raises(UserFacingError, match="bereits anonym im Thread veröffentlicht"):
        person = next(p for p in others if fb.response_of(world.uow, rnd, p.id) in published)
        _answer(world, rnd, person, "anders")
    exported = fb.export_person(world.uow, others[0].id)
    assert exported["feedback_anonym_offen"][0]["runde"] == "Quartiersentwicklung"
    outcome = fb_close.close(world.uow, rnd, world.tick(), SETTINGS)
    assert (outcome.answered, outcome.invited, outcome.withheld) == (4, 5, False)
    rows = world.db.rows(FeedbackResponse)
    assert len(rows) == 4 and all(r.author_person_id is None for r in rows)
    assert sorted((r.answers["batch"], r.answers["slot"]) for r in rows) == [
        (1, 1), (1, 2), (2, 1), (2, 2)
    ]  # fmt: skip
    assert [r.id for r in sorted(rows, key=lambda r: (r.answers["batch"], r.answers["slot"]))] == (
        sorted(r.id for r in rows)
    )  # rewritten in published order: ids tell nothing about who answered first
    assert world.outbox(f"feedback:{rnd.id}:prompt:") == []  # who was asked when: gone
    assert world.uow.dialogs.of_kind("feedback") == []  # the half-filled form too
    assert {r.idempotency_key for r in world.db.rows(Reminder) if r.status == "pending"} == set()
    assert fb.export_person(world.uow, others[0].id)["feedback_anonym_offen"] == []
    presenter_dm = world.outbox(f"feedback:{rnd.id}:presenter:{anna.id}")
    assert len(presenter_dm) == 1 and presenter_dm[0].operation == "file"
    with pytest.raises(UserFacingError, match="bereits geschlossen"):
        fb_close.close(world.uow, rnd, world.now, SETTINGS)


def test_below_the_threshold_nothing_is_passed_on(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    anna, ben, _cem = _people(world, cohort, "Anna", "Ben", "Cem")
    rnd = _open(world, cohort, anna, anonymous=True, questions=1)
    _answer(world, rnd, ben, "allein")
    outcome = fb_close.close(world.uow, rnd, world.tick(), SETTINGS)
    assert outcome.withheld and outcome.answered == 1
    assert [r.answers for r in world.db.rows(FeedbackResponse)] == [
        {"answers": [], "withheld": True}
    ]
    told = {m.target["identity"] for m in world.outbox(f"feedback:{rnd.id}:withheld:")}
    assert told == {"console:ben", "console:cem"}  # everyone invited, not only who answered
    dm = world.outbox(f"feedback:{rnd.id}:presenter:{anna.id}")
    assert len(dm) == 1 and dm[0].operation == "dm"  # no file with answers


def test_erasing_a_person_replaces_named_answers_and_unlinks_them(world: World) -> None:
    orga = world.person("Orga", organiser=True)
    cohort = world.cohort(actor=orga)
    anna, ben, cem = _people(world, cohort, "Anna", "Ben", "Cem")
    rnd = _open(world, cohort, anna, anonymous=False)
    _answer(world, rnd, ben, "Bens Idee", "Bens Sorge")
    _answer(world, rnd, cem, "Cems Idee", "Cems Sorge")
    fb_close.close(world.uow, rnd, world.tick(), SETTINGS)
    presenter = world.outbox(f"feedback:{rnd.id}:presenter:{anna.id}")[0]
    assert "content_b64" in presenter.payload
    fb_erase.erase_named_answers(world.uow, ben.id, now=world.now, language="de")
    ben_row = next(r for r in fb.responses(world.uow, rnd) if r.author_person_id == ben.id)
    assert ben_row.answers == {"answers": [], "erased": True}
    thread = [str(m.payload) for m in world.outbox(f"feedback:{rnd.id}:answer:{ben_row.id}:")]
    assert thread and all("Bens Idee" not in p for p in thread)
    assert "Bens Idee" not in str(presenter.payload) and "Cems Idee" in str(presenter.payload)
    assert "content_b64" not in presenter.payload  # the file with every answer is dropped
    fb.erase_person(world.uow, ben.id, "Person 7")
    assert ben_row.author_person_id is None
    fb.erase_person(world.uow, anna.id, "Person 8")
    assert rnd.subject == "Person 8" and fb.presenters_of(world.uow, rnd) == []
    assert fb.export_person(world.uow, anna.id) == {
        "feedback_vorgestellt": [],
        "feedback_anonym_offen": [],
    }
