"""bot.dates.parse_when against the phrase table (tests/dates_cases.py) and the API around it."""

from __future__ import annotations

import string
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.dates import describe_when, parse_deadline, parse_when
from bot.dates import messages as msg
from bot.errors import UserFacingError
from bot.i18n import translator
from tests.dates_cases import BERLIN, CASES, NOWS, Case

WED = NOWS["wed"]


def _id(case: Case) -> str:
    return f"{case.now}:{case.text[:40]!r}"


def test_table_is_big_enough_and_covers_both_languages_and_errors() -> None:
    assert len(CASES) >= 150
    errors = {case.expected for case in CASES if not case.expected[0].isdigit()}
    assert {"PAST", "IMPOSSIBLE_DATE", "IMPOSSIBLE_TIME", "EMPTY", "NOT_UNDERSTOOD"} <= errors
    assert set(NOWS) == {case.now for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_phrase_table(case: Case) -> None:
    now = NOWS[case.now]
    if case.expected[0].isdigit():
        result = parse_when(case.text, now=now)
        assert result.isoformat(timespec="minutes") == case.expected
        assert result.tzinfo == BERLIN
        assert result > now
    else:
        with pytest.raises(UserFacingError) as caught:
            parse_when(case.text, now=now)
        assert caught.value.msgid == getattr(msg, case.expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Freitag", "2026-11-27T23:59"),
        ("heute", "2026-11-25T23:59"),  # today's end is still ahead at noon
        ("Ende des Monats", "2026-11-30T23:59"),
        ("morgen 12 Uhr", "2026-11-26T12:00"),  # an explicit time still wins
        ("3. März", "2027-03-03T23:59"),
        ("in 2 Stunden", "2026-11-25T14:00"),
    ],
)
def test_deadline_means_end_of_day(text: str, expected: str) -> None:
    assert parse_deadline(text, now=WED).isoformat(timespec="minutes") == expected + "+01:00"


def test_default_time_is_used_for_dates_without_time() -> None:
    result = parse_when("morgen", now=WED, default_time=time(7, 15))
    assert result.isoformat(timespec="minutes") == "2026-11-26T07:15+01:00"


def test_other_timezone_and_now_in_another_zone() -> None:
    now = WED.astimezone(ZoneInfo("UTC"))  # the same instant, expressed in UTC
    result = parse_when("morgen 9 Uhr", now=now, tz="America/New_York")
    assert result.isoformat(timespec="minutes") == "2026-11-26T09:00-05:00"
    assert result.tzinfo == ZoneInfo("America/New_York")


def test_naive_now_is_a_programming_error_not_a_user_error() -> None:
    with pytest.raises(ValueError, match="aware") as caught:
        parse_when("morgen", now=datetime(2026, 11, 25, 12, 0))
    assert not isinstance(caught.value, UserFacingError)


def test_error_is_a_value_error_with_german_and_english_text() -> None:
    with pytest.raises(ValueError) as caught:
        parse_when("blabla", now=WED)
    err = caught.value
    assert isinstance(err, UserFacingError)
    assert "„blabla“" in str(err) and "morgen 14 Uhr" in str(err)
    english = err.render(translator("en"))
    assert english.startswith("I did not understand “blabla”") and "tomorrow 2pm" in english


def test_long_text_is_truncated_in_the_message() -> None:
    text = "Sitzung " * 20 + "irgendwann"
    with pytest.raises(UserFacingError) as caught:
        parse_when(text, now=WED)
    quoted = caught.value.params["text"]
    assert len(quoted) <= msg.QUOTE_LENGTH and quoted.endswith("…")


def test_too_long_message_states_the_limit() -> None:
    with pytest.raises(UserFacingError) as caught:
        parse_when("morgen " * 100, now=WED)
    assert "200" in str(caught.value) and "200" in caught.value.render(translator("en"))


def test_every_message_has_an_english_translation() -> None:
    english = translator("en")
    msgids = [value for name, value in vars(msg).items() if name.isupper() and "{" in str(value)]
    msgids.append(msg.EMPTY)
    for msgid in msgids:
        assert english(msgid) != msgid, msgid
        # Same placeholders in both languages, or render() would raise a KeyError.
        assert sorted(_placeholders(english(msgid))) == sorted(_placeholders(msgid))


def _placeholders(text: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(text) if field]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", "Verstanden: Dienstag, 1. Dezember 2026, 14:00 Uhr"),
        ("en", "Understood: Tuesday, 1 December 2026, 14:00"),
    ],
)
def test_describe_when_echoes_in_the_callers_language(language: str, expected: str) -> None:
    moment = parse_when("nächsten Dienstag um 14 Uhr", now=WED)
    assert describe_when(moment, language) == expected


def test_the_echo_parses_back_to_the_same_moment() -> None:
    moment = parse_when("12.03.2027 14:30", now=WED)
    for language in ("de", "en"):
        echoed = describe_when(moment, language).split(": ", 1)[1]
        assert parse_when(echoed, now=WED) == moment
