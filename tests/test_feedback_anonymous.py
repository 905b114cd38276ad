"""Anonymous feedback: no author identity in any post, export, log line or service result."""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services import feedback as fb
from bot.services import feedback_close as fb_close
from bot.services import privacy
from storage.models import FeedbackResponse, FeedbackRound, OutboxMessage, Person
from tests.helpers import Driver, request, signup
from tests.test_feedback import dms_to, driver, run_due, thread_texts  # noqa: F401

AUTHORS = ("ben", "cara", "dora", "emil")
START = 'feedback starten titel="Schulcampus" fuer=@anna bis="Freitag 18 Uhr" anonym sofort'


def traces(user: str) -> list[str]:
    """Everything that would identify ``user``: name, municipality, identity, handle, e-mail."""
    return [f"{user.title()} Muster", f"{user.title()}stadt", f"console:{user}", f"{user}@"]


def answer(user: str) -> str:
    return f"1. Idee-{user}\n2. Risiko-{user}\n3. Rat-{user}"


def assert_anonymous(text: str, *, allowed: str | None = None) -> None:
    for user in AUTHORS:
        if user != allowed:
            for trace in traces(user):
                assert trace not in text, (trace, text[:300])


def test_no_identity_of_an_anonymous_author_escapes(
    driver: Driver,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="sqlalchemy")  # SQL echo is off in production
    opened = driver.say("orga", START)
    assert "anonym" in opened
    assert "ohne Namen" in dms_to(driver, "ben")[0] and "Gruppen von 3" in dms_to(driver, "ben")[0]
    for user in ("ben", "cara"):
        assert "ohne Ihren Namen" in driver.say(user, answer(user), dm=True)
    assert thread_texts(driver) == []  # fewer than k: nothing published yet
    driver.say("dora", answer("dora"), dm=True)
    batch = thread_texts(driver)
    assert len(batch) == 1 and "Gruppe 1, 3 Antworten" in batch[0]
    assert all(f"Idee-{u}" in batch[0] for u in ("ben", "cara", "dora"))
    driver.say("emil", answer("emil"), dm=True)
    assert len(thread_texts(driver)) == 1  # emil waits for the next batch
    driver.say("cara", "feedback 1 antworten 1. Neu-cara\n2. b\n3. c", dm=True)
    assert "Neu-cara" in thread_texts(driver)[-1]  # the batch post is edited, not re-posted
    listing = driver.say("orga", "feedback")
    assert "anonym, offen, Antworten: 4" in listing

    with driver.bot.uow_factory() as uow:
        rnd = uow.session.scalars(select(FeedbackRound)).one()
        assert_anonymous(repr(fb_close.answer_views(uow, rnd)))
    run_due(driver, timedelta(days=3))  # past the deadline: closed
    assert "4 von 4 Eingeladenen" in thread_texts(driver)[-1]
    final = thread_texts(driver)[-2]  # emil's late answer joined the last batch: no batch < k
    assert "Gruppe 1, 4 Antworten" in final and "Idee-emil" in final
    assert not any("Gruppe 2" in t for t in thread_texts(driver))
    driver.say("orga", "export feedback 1")

    for sent in driver.messenger.transcript:
        own = sent.target.removeprefix("console:") if sent.kind in ("dm", "file") else None
        assert_anonymous(sent.text + (sent.content or b"").decode(), allowed=own)
    presenter = [s for s in driver.messenger.transcript if s.target == "console:anna"]
    assert presenter and all(f"Idee-{u}" in presenter[0].text for u in ("ben", "dora", "emil"))
    files = {s.filename: s.content or b"" for s in driver.messenger.transcript if s.filename}
    assert b"ohne Namen" in files["feedback-1.md"] and b"Rat-emil" in files["feedback-1.csv"]
    assert_anonymous(caplog.text)

    with driver.bot.uow_factory() as uow:
        rows = list(uow.session.scalars(select(FeedbackResponse)))
        assert len(rows) == 4 and {r.author_person_id for r in rows} == {None}
        assert len({r.submitted_at for r in rows}) == 1  # submission times are gone too
        for row in uow.session.scalars(select(OutboxMessage)):
            if row.operation in ("post", "update"):
                assert_anonymous(json.dumps([row.target, row.payload], ensure_ascii=False))
        rnd = uow.session.scalars(select(FeedbackRound)).one()
        assert_anonymous(repr(fb_close.answer_views(uow, rnd)))
        for user in ("anna", *AUTHORS):
            person = uow.persons.get_by_identity("console", user)
            assert person is not None
            mine = json.dumps(fb.export_person(uow, person.id), ensure_ascii=False)
            mine += json.dumps(privacy.my_data(uow, person), ensure_ascii=False, default=str)
            assert "Idee-" not in mine and "Neu-cara" not in mine


def test_fewer_than_k_answers_are_passed_to_nobody(driver: Driver) -> None:  # noqa: F811
    driver.say("orga", START)
    driver.say("ben", answer("ben"), dm=True)
    driver.say("cara", answer("cara"), dm=True)
    driver.messenger.transcript.clear()
    closed = driver.say("orga", "feedback 1 schliessen")
    assert "Zu wenige" in closed and "2 von 4" in closed
    told = sorted(
        s.target for s in driver.messenger.transcript if s.kind == "dm" and "an niemanden" in s.text
    )
    assert told == ["console:anna", "console:ben", "console:cara"]  # presenter + respondents
    assert "mindestens 3" in thread_texts(driver)[-1]
    assert all("Idee-" not in s.text for s in driver.messenger.transcript)
    driver.messenger.transcript.clear()
    driver.say("orga", "export feedback 1")
    assert all(b"Idee-" not in (s.content or b"") for s in driver.messenger.transcript)
    with driver.bot.uow_factory() as uow:
        texts = [r.answers for r in uow.session.scalars(select(FeedbackResponse))]
        assert texts == [{"answers": [], "withheld": True}] * 2


def test_own_open_anonymous_answer_is_exportable_and_erasable(driver: Driver) -> None:  # noqa: F811
    driver.say("orga", START)
    driver.say("ben", answer("ben"), dm=True)
    with driver.bot.uow_factory() as uow:
        ben = uow.persons.get_by_identity("console", "ben")
        anna = uow.persons.get_by_identity("console", "anna")
        assert isinstance(ben, Person) and isinstance(anna, Person)
        mine = fb.export_person(uow, ben.id)
        assert mine["feedback_anonym_offen"][0]["antworten"][0] == "Idee-ben"
        assert fb.export_person(uow, anna.id)["feedback_vorgestellt"] == [
            {"runde": 1, "titel": "Schulcampus"}
        ]
        fb.erase_person(uow, ben.id, "Person-1")
        fb.erase_person(uow, anna.id, "Person-2")
        uow.commit()
    with driver.bot.uow_factory() as uow:
        assert fb.export_person(uow, ben.id)["feedback_anonym_offen"] == []
        rnd = uow.session.scalars(select(FeedbackRound)).one()
        assert rnd.subject is not None and "Person-2" in rnd.subject
        assert "Anna" not in fb.presenters_label(uow, rnd)


def test_concurrent_answers_form_disjoint_batches_of_k(driver: Driver) -> None:  # noqa: F811
    for extra in ("fritz", "gina"):
        driver.say(extra, signup(extra))
    driver.say("orga", START)
    users = ("ben", "cara", "dora", "emil", "fritz", "gina")
    barrier = threading.Barrier(len(users))

    def answer_now(user: str) -> None:
        barrier.wait()
        driver.bot.dispatcher.handle(request(user, answer(user), dm=True))

    threads = [threading.Thread(target=answer_now, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with driver.bot.uow_factory() as uow:
        rows = list(uow.session.scalars(select(FeedbackResponse)))
        places = sorted((r.answers.get("batch"), r.answers.get("slot")) for r in rows)
    assert len(rows) == 6
    assert places == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    driver.flush()
    batches = thread_texts(driver)
    assert len(batches) == 2 and all("3 Antworten" in b for b in batches)
