"""Answering by Slack-style modal (a form and its submission) and by numbered DM text."""

from __future__ import annotations

import pytest

from bot.context import Conversation, Request
from bot.errors import UserFacingError
from bot.identity import Identity
from bot.services.feedback_answers import parse_numbered, strip_answer_command
from tests.helpers import Driver
from tests.test_feedback import START_NAMED, driver, thread_texts  # noqa: F401


def modal_request(user: str, text: str) -> Request:
    return Request(
        identity=Identity("console", user),
        conversation=Conversation("console", "stadtlabor"),
        text=text,
        handle=user,
        can_open_forms=True,
    )


def test_modal_opens_prefilled_and_its_submission_is_checked(driver: Driver) -> None:  # noqa: F811
    driver.say("orga", START_NAMED)
    dispatcher = driver.bot.dispatcher
    [reply] = dispatcher.handle(modal_request("ben", "feedback 1 geben"))
    form = reply.form
    assert form is not None and form.form_id == "feedback" and len(form.fields) == 3
    assert {f.kind for f in form.fields} == {"longtext"}
    assert {f.max_length for f in form.fields} == {3000}
    assert any("Namen" in line for line in form.intro)

    values = {"a1": "Gut", "a2": "x" * 3001, "a3": "Mehr"}
    [refused] = dispatcher.submit_form(modal_request("ben", ""), "feedback", values, form.context)
    assert refused.message is not None
    assert "höchstens 3000" in refused.message.plain_text()
    values["a2"] = "Risiko"
    [done] = dispatcher.submit_form(modal_request("ben", ""), "feedback", values, form.context)
    assert done.message is not None and "gespeichert" in done.message.plain_text()
    driver.flush()
    assert "Risiko" in thread_texts(driver)[-1]

    [again] = dispatcher.handle(modal_request("ben", "feedback 1 geben"))
    assert again.form is not None
    assert [f.initial for f in again.form.fields] == ["Gut", "Risiko", "Mehr"]
    [stale] = dispatcher.submit_form(
        modal_request("ben", ""), "feedback", values, {"round_id": "999"}
    )
    assert stale.message is not None and "veraltet" in stale.message.plain_text()


def test_english_speakers_get_english_prompts_and_receipts(driver: Driver) -> None:  # noqa: F811
    driver.say("cara", "sprache en")
    driver.say("orga", START_NAMED)
    prompt = [s.text for s in driver.messenger.transcript if s.target == "console:cara"][-1]
    assert "What convinced you?" in prompt and "feedback 1 geben" in prompt
    receipt = driver.say("cara", "feedback 1 answer\n1. Yes\n2. Money\n3. Start early", dm=True)
    assert "Thank you" in receipt and "Money" in receipt
    assert "What convinced you?" not in thread_texts(driver)[-1]  # the channel speaks German


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. a 2. b 3. c", ["a", "b", "c"]),
        ("1) a\n2) b\n3) c", ["a", "b", "c"]),
        (
            "1. erste Zeile\nzweite Zeile\n2. b\n3. am 2. Dezember",
            ["erste Zeile\nzweite Zeile", "b", "am 2. Dezember"],
        ),
        ("1. Priorität 1. Ordnung\n2. b\n3. c", ["Priorität 1. Ordnung", "b", "c"]),
        ("1. <@U1> *fett* `code`\n2. b\n3. c", ["<@U1> *fett* `code`", "b", "c"]),
    ],
)
def test_numbered_answers_are_split_unambiguously(text: str, expected: list[str]) -> None:
    assert parse_numbered(text, 3) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a 2. b 3. c", "Bitte beginnen Sie mit „1.“"),
        ("1. am 2. Dezember 2. b 3. c", "mehrmals"),
        ("1. a 2. b", "2 von 3"),
        ("1. a\n3. c", "1 von 3"),
    ],
)
def test_unclear_numbering_is_refused(text: str, message: str) -> None:
    with pytest.raises(UserFacingError) as caught:
        parse_numbered(text, 3)
    assert message in str(caught.value) and "nichts gespeichert" in str(caught.value)


def test_the_command_words_are_not_part_of_the_answer() -> None:
    assert strip_answer_command("/stadtlabor feedback 2 antworten 1. a") == "1. a"
    assert strip_answer_command("Feedback #2 Answer\n1. a") == "1. a"
    assert strip_answer_command("1. a 2. b") == "1. a 2. b"
