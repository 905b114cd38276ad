"""Anonymous feedback: no author identity in any post, export, log line or service result."""

from __future__ import annotations

import json
import logging
import re
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
LATE = ("fritz", "gina", "hans", "ida")  # more participants: 2k answers, a late one, a silent one
K = 3
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
    driver.say("emil", answer("emil"), dm=True)
    driver.say("cara", "feedback 1 antworten 1. Neu-cara\n2. b\n3. c", dm=True)
    assert thread_texts(driver) == []  # unpublished: changed quietly
    listing = driver.say("orga", "feedback")
    assert "anonym, offen, Antworten: 4" in listing

    with driver.bot.uow_factory() as uow:
        rnd = uow.session.scalars(select(FeedbackRound)).one()
        assert_anonymous(repr(fb_close.answer_views(uow, rnd)))
    run_due(driver, timedelta(days=3))  # past the deadline: closed
    assert "4 von 4 Eingeladenen" in thread_texts(driver)[-1]
    final = thread_texts(driver)[-2]
    assert "Gruppe 1, 4 Antworten" in final and "Neu-cara" in final and "Idee-cara" not in final
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


def first_answers(text: str) -> set[str]:
    """The answers a thread post shows, by the marker of their first answer."""
    return set(re.findall(r"(?:Idee|Neu)-\w+", text))


def test_no_published_change_and_no_stored_trace_singles_out_an_answer(
    driver: Driver,  # noqa: F811
) -> None:
    """Eight people answer at eight distinct moments, some after a reminder or a nudge, one
    late, two edit. Every change of the thread shows at least k answers never shown before
    (an edit or a late answer folded into a published batch would show one), and after the
    close no id, time or outbox row in the database orders, times or names an answer."""
    for extra in LATE:
        driver.say(extra, signup(extra))
    clock = driver.bot.clock
    driver.say("orga", START)  # Wednesday 12:00; reminders Wednesday 18:00, Friday 16:00
    ids_at_submission: set[int] = set()

    def answer_at_a_moment_of_its_own(user: str, text: str | None = None) -> str:
        clock.advance(timedelta(minutes=7))  # type: ignore[attr-defined]
        reply = driver.say(user, text or answer(user), dm=True)
        with driver.bot.uow_factory() as uow:
            ids_at_submission.update(uow.session.scalars(select(FeedbackResponse.id)))
        return reply

    for user in ("ben", "cara", "dora", "emil", "fritz"):
        answer_at_a_moment_of_its_own(user)
    assert thread_texts(driver) == []  # 5 < 2k: nothing yet, so that k can be held back
    run_due(driver, timedelta(hours=6))  # the first reminder: to gina, hans, ida
    answer_at_a_moment_of_its_own("gina")  # the 6th answer: a batch of 3, 3 held back
    batches = thread_texts(driver)
    assert len(batches) == 1 and "Gruppe 1, 3 Antworten" in batches[0]
    published = {a.removeprefix("Idee-") for a in first_answers(batches[0])}
    held = sorted({"ben", "cara", "dora", "emil", "fritz", "gina"} - published)
    assert len(published) == 3 and len(held) == 3

    mine = published.pop()
    refused = answer_at_a_moment_of_its_own(mine, f"1. Neu-{mine}\n2. b\n3. c")
    assert "nicht mehr ändern" in refused and "nichts gespeichert" in refused
    assert "beantwortet und anonym veröffentlicht" in driver.say(mine, "feedback", dm=True)
    changed = answer_at_a_moment_of_its_own(held[0], f"1. Neu-{held[0]}\n2. b\n3. c")
    assert "aktualisiert" in changed
    driver.say("orga", "nachfassen feedback 1")  # nudges hans and ida
    answer_at_a_moment_of_its_own("hans")  # late: held for the close
    assert len(thread_texts(driver)) == 1
    with driver.bot.uow_factory() as uow:
        per_person = [
            r.idempotency_key
            for r in uow.session.scalars(select(OutboxMessage))
            if r.idempotency_key.startswith(("feedback:1:remind:", "nudge:feedback:1:"))
        ]
    # What the close must remove is really there: reminders (gina, hans, ida), nudges (hans, ida).
    assert sum(k.startswith("feedback:1:remind:") for k in per_person) == 3
    assert sum(k.startswith("nudge:") for k in per_person) == 2
    run_due(driver, timedelta(days=3))  # past the deadline: closed (ida never answered)

    seen: set[str] = set()
    for text in thread_texts(driver)[:-1]:  # the last one is the summary
        shown = first_answers(text)
        assert len(shown - seen) >= K, (shown - seen, text[:200])
        seen |= shown
    everyone = {f"Idee-{u}" for u in ("ben", "cara", "dora", "emil", "fritz", "gina", "hans")}
    assert seen == everyone - {f"Idee-{held[0]}"} | {f"Neu-{held[0]}"}  # not Neu-{mine}
    assert [s for s in driver.messenger.transcript if s.kind == "update"] == []

    with driver.bot.uow_factory() as uow:
        rnd = uow.session.scalars(select(FeedbackRound)).one()
        assert rnd.closed_at is not None
        rows = list(uow.session.scalars(select(FeedbackResponse).order_by(FeedbackResponse.id)))
        assert len(rows) == 7 and {r.author_person_id for r in rows} == {None}
        # Eight distinct submission moments and two publication moments are gone:
        assert {r.submitted_at for r in rows} == {rnd.closed_at}
        assert {r.published_at for r in rows} == {rnd.closed_at}
        # The ids of submission order are gone; the ids follow the published (shuffled) order.
        assert ids_at_submission.isdisjoint(r.id for r in rows)
        places = [(r.answers["batch"], r.answers["slot"]) for r in rows]
        assert places == sorted(places) and places[0] == (1, 1)
        authors = {f"console:{u}" for u in (*AUTHORS, *LATE)}
        about_round = [
            (r.idempotency_key, r.target)
            for r in uow.session.scalars(select(OutboxMessage))
            if r.idempotency_key.startswith(("feedback:1:", "nudge:feedback:1:"))
        ]
        assert about_round and all(t.get("identity") not in authors for _k, t in about_round)
        assert not any(
            key.startswith(("feedback:1:prompt:", "feedback:1:remind:", "nudge:"))
            for key, _t in about_round
        )


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
        places = sorted((r.answers.get("batch", 0), r.answers.get("slot", 0)) for r in rows)
    assert len(rows) == 6
    # One batch of 3, and 3 held back for the close (in whichever order the threads came).
    assert places == [(0, 0)] * 3 + [(1, 1), (1, 2), (1, 3)]
    driver.flush()
    batches = thread_texts(driver)
    assert len(batches) == 1 and "3 Antworten" in batches[0]
