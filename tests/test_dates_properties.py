"""Property tests for bot.dates: whatever the text and the moment, the contract holds."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.dates import describe_when, parse_deadline, parse_when
from bot.dates.lexicon import MONTHS, PART_OF_DAY_WORDS, WEEKDAYS
from bot.dates.resolve import to_aware
from bot.errors import UserFacingError

BERLIN = ZoneInfo("Europe/Berlin")
ZONES = st.sampled_from([BERLIN, ZoneInfo("UTC"), ZoneInfo("America/New_York")])
NOWS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2090, 12, 31), timezones=ZONES
)
BERLIN_NOWS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(BERLIN)
)
SETTINGS = settings(max_examples=300, deadline=None)

# Words the rules know, so that generated phrases reach deep into the pipeline, mixed with
# numbers, punctuation and junk so that they also hit its error paths.
VOCABULARY = sorted(
    {*WEEKDAYS, *MONTHS, *PART_OF_DAY_WORDS}
    | {"heute", "morgen", "übermorgen", "tomorrow", "today", "tonight", "nächsten", "next"}
    | {"in", "um", "am", "at", "uhr", "h", "pm", "vor", "ago", "ein", "zwölf", "a", "twelve"}
    | {"week", "woche", "ende", "des", "monats", "end", "of", "the", "month"}
    | {"stunden", "tagen", "minutes", "14", "9", "0", "25", "2027", "99999", "3pm"}
    | {"12.03.", "12.03", "31.02.", "14:30", "14.30", "2027-03-12", "ß", "🙂"}
    | {",", ".", "-", "  ", "\t", "\x00"}
)
PHRASES = st.lists(st.sampled_from(VOCABULARY), max_size=7).map(" ".join)


def _check(text: str, now: datetime, tz: str = "Europe/Berlin") -> None:
    """The contract: an aware moment in ``tz`` after ``now``, or the user-facing error."""
    try:
        result = parse_when(text, now=now, tz=tz)
    except UserFacingError as err:
        assert str(err)  # a message the user can read
        return
    assert result.tzinfo == ZoneInfo(tz)
    assert result.utcoffset() is not None
    assert result > now


@SETTINGS
@given(text=st.text(max_size=250), now=NOWS)
def test_arbitrary_text_returns_future_or_raises_user_error(text: str, now: datetime) -> None:
    _check(text, now)


@SETTINGS
@given(text=PHRASES, now=NOWS, tz=st.sampled_from(["Europe/Berlin", "UTC", "America/New_York"]))
def test_phrases_of_known_words_return_future_or_raise(text: str, now: datetime, tz: str) -> None:
    _check(text, now, tz)


@SETTINGS
@given(text=PHRASES, now=NOWS)
def test_deadlines_obey_the_same_contract(text: str, now: datetime) -> None:
    try:
        result = parse_deadline(text, now=now)
    except UserFacingError:
        return
    assert result.tzinfo == BERLIN and result > now


@SETTINGS
@given(now=NOWS, hours=st.integers(min_value=1, max_value=2000))
def test_hours_are_elapsed_time(now: datetime, hours: int) -> None:
    result = parse_when(f"in {hours} Stunden", now=now)
    # Via UTC: subtracting two datetimes of the same zone would compare wall clocks.
    assert result.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=hours)


@SETTINGS
@given(now=BERLIN_NOWS, days=st.integers(min_value=1, max_value=400))
def test_days_are_calendar_steps_that_keep_the_local_time(now: datetime, days: int) -> None:
    result = parse_when(f"in {days} Tagen", now=now)
    local_now = now.replace(tzinfo=None)
    expected_wall = local_now + timedelta(days=days)
    assert result == to_aware(expected_wall, BERLIN)
    # Outside the spring gap the wall-clock time of day is exactly the same.
    assume(to_aware(expected_wall, BERLIN).replace(tzinfo=None) == expected_wall)
    assert result.time() == now.time()


@SETTINGS
@given(now=BERLIN_NOWS, weekday=st.sampled_from(sorted(WEEKDAYS)))
def test_a_weekday_alone_is_the_next_such_day_after_today(now: datetime, weekday: str) -> None:
    result = parse_when(weekday, now=now)
    assert result.weekday() == WEEKDAYS[weekday]
    assert 1 <= (result.date() - now.date()).days <= 7
    assert (result.hour, result.minute) == (9, 0)


@SETTINGS
@given(now=BERLIN_NOWS, hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_a_time_alone_is_the_next_such_time(now: datetime, hour: int, minute: int) -> None:
    result = parse_when(f"{hour}:{minute:02d}", now=now)
    assert now < result <= now + timedelta(hours=25)
    assert (result.date() - now.date()).days in (0, 1)


@SETTINGS
@given(
    now=BERLIN_NOWS,
    ahead=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=3000)),
    language=st.sampled_from(["de", "en"]),
)
def test_the_echo_parses_back_to_the_same_moment(
    now: datetime, ahead: timedelta, language: str
) -> None:
    moment = (now.astimezone(UTC) + ahead).astimezone(BERLIN).replace(second=0, microsecond=0)
    assume(moment > now)
    # The echo shows a wall time; in the autumn repeat hour it names the first occurrence.
    assume(to_aware(moment.replace(tzinfo=None), BERLIN) == moment)
    echoed = describe_when(moment, language).split(": ", 1)[1]
    assert parse_when(echoed, now=now) == moment


@pytest.mark.parametrize(
    "text",
    [
        "x" * 100_000,
        "morgen " * 20_000,
        "9" * 100_000,
        "\x00\x01\x1b[31m" * 1000,
        "🙂" * 50_000,
        "99999999",
        "in 999999 Monaten",
        "in 999999 Tagen um 25 Uhr",
        "1" * 199,
        "31.12.9999 23:59",
    ],
)
def test_extreme_inputs_fail_fast_with_the_user_facing_error(text: str) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN)
    started = clock.perf_counter()
    try:
        result = parse_when(text, now=now)
    except UserFacingError:
        pass
    else:
        assert result > now  # only "31.12.9999 23:59" is a real (if distant) moment
    assert clock.perf_counter() - started < 0.5
