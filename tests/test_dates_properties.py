"""Property tests for bot.dates: whatever the text and the moment, the contract holds."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
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


# --- Valid phrases with a reading computed here, independently of the parser (issue 14: the
# tests above pass if parse_when refuses everything; these fail then). ---
DE_DAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@st.composite
def valid_phrases(draw: st.DrawFn, now: datetime) -> tuple[str, datetime]:
    """A phrase a person would type, and the moment it must mean at ``now`` (Berlin)."""
    local = now.replace(tzinfo=None)
    today = local.date()
    hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45]))
    wall = time(hour, minute)
    kind = draw(
        st.sampled_from(["weekday", "tomorrow", "full_date", "hours", "day_month", "spoken"])
    )
    if kind == "weekday":
        day = draw(st.integers(0, 6))
        names = draw(st.sampled_from([DE_DAYS, EN_DAYS]))
        ahead = (day - today.weekday()) % 7
        if ahead == 0 and to_aware(datetime.combine(today, wall), BERLIN) <= now:
            ahead = 7
        return f"{names[day]} {hour}:{minute:02d}", _at(today + timedelta(days=ahead), wall)
    if kind == "tomorrow":
        word, offset = draw(st.sampled_from([("morgen", 1), ("tomorrow", 1), ("übermorgen", 2)]))
        return f"{word} {hour}:{minute:02d} Uhr", _at(today + timedelta(days=offset), wall)
    if kind == "full_date":
        when = today + timedelta(days=draw(st.integers(1, 2000)))
        return f"{when:%d.%m.%Y} {hour}:{minute:02d}", _at(when, wall)
    if kind == "hours":
        hours = draw(st.integers(1, 500))
        return f"in {hours} Stunden", (now.astimezone(UTC) + timedelta(hours=hours)).astimezone(
            BERLIN
        )
    if kind == "day_month":  # ahead, and last year's date over 3 months back: not refused
        target = today + timedelta(days=draw(st.integers(100, 260)))
        assume(not (target.month == 2 and target.day == 29))
        return f"{target.day}.{target.month}. {hour} Uhr", _at(target, time(hour))
    # "morgen halb N": a 12-hour dial read on office hours (1-7 afternoon).
    n = draw(st.integers(1, 12))
    spoken_hour = (n - 1) or 12
    spoken_hour += 12 if spoken_hour <= 7 else 0
    return f"morgen halb {n}", _at(today + timedelta(days=1), time(spoken_hour, 30))


def _at(day: date, wall: time) -> datetime:
    return to_aware(datetime.combine(day, wall), BERLIN)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), now=BERLIN_NOWS)
def test_a_substantial_share_of_valid_phrases_is_accepted_and_read_right(
    data: st.DataObject, now: datetime
) -> None:
    batch = [data.draw(valid_phrases(now)) for _ in range(20)]
    accepted = 0
    for text, expected in batch:
        try:
            result = parse_when(text, now=now)
        except UserFacingError:
            continue
        accepted += 1
        assert result == expected, text  # an accepted reading is the right one
    # Every phrase of this grammar names one future moment; allow nothing to be refused.
    assert accepted == len(batch)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), now=BERLIN_NOWS, upper=st.booleans(), spaces=st.integers(1, 3))
def test_valid_phrases_survive_case_and_spacing(
    data: st.DataObject, now: datetime, upper: bool, spaces: int
) -> None:
    text, expected = data.draw(valid_phrases(now))
    typed = (" " * spaces).join(text.upper().split() if upper else text.split())
    assert parse_when(f"{typed}.", now=now) == expected


# --- Recurrence beyond daily/weekly (issue 15 #4): RFC 5545 rules, 09:00 local across DST ---
ORDINALS_DE = {1: "ersten", 2: "zweiten", 3: "dritten", 4: "vierten", -1: "letzten"}
NTH_DE = {2: "zweiten", 3: "dritten", 4: "vierten"}


@st.composite
def recurrence_phrases(draw: st.DrawFn) -> tuple[str, str, int, frozenset[int], int | None]:
    """(phrase, kind, interval, weekdays, ordinal) for the four forms, in German or English."""
    kind = draw(st.sampled_from(["workdays", "nth_week", "several", "monthly"]))
    day = draw(st.integers(0, 6))
    if kind == "workdays":
        phrase = draw(
            st.sampled_from(["werktags 9 Uhr", "jeden Werktag um 9", "every weekday 9am"])
        )
        return phrase, kind, 1, frozenset(range(5)), None
    if kind == "nth_week":
        n = draw(st.integers(2, 4))
        phrase = f"jeden {NTH_DE[n]} {DE_DAYS[day]} 9 Uhr"
        if n == 2 and draw(st.booleans()):
            phrase = f"every other {EN_DAYS[day]} 9am"
        return phrase, kind, n, frozenset({day}), None
    if kind == "several":
        days = draw(st.sets(st.integers(0, 6), min_size=2, max_size=4))
        names = [DE_DAYS[d] for d in sorted(days)]
        return f"{', '.join(names[:-1])} und {names[-1]} 9 Uhr", kind, 1, frozenset(days), None
    nth = draw(st.sampled_from([1, 2, 3, 4, -1]))
    return f"jeden {ORDINALS_DE[nth]} {DE_DAYS[day]} im Monat 9 Uhr", kind, 1, frozenset({day}), nth


@settings(max_examples=40, deadline=None)
@given(spec=recurrence_phrases(), now=BERLIN_NOWS)
def test_recurrence_rules_fire_at_nine_local_time_on_the_right_days_across_dst(
    spec: tuple[str, str, int, frozenset[int], int | None], now: datetime
) -> None:
    from bot.scheduling.recurrence import next_occurrence, parse_recurring

    phrase, kind, interval, days, ordinal = spec
    rule, first = parse_recurring(phrase, now=now, tz="Europe/Berlin")
    assert rule.startswith("DTSTART:") and first > now
    seen = [first]
    while seen[-1] - seen[0] < timedelta(days=370):  # a year: both DST changes
        seen.append(next_occurrence(rule, seen[-1], "Europe/Berlin"))
    offsets = {moment.utcoffset() for moment in seen}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}  # summer and winter time
    for earlier, moment in pairwise(seen):
        assert moment > earlier
        assert (moment.hour, moment.minute) == (9, 0) and moment.tzinfo == BERLIN
        assert moment.weekday() in days
        gap = (moment.date() - earlier.date()).days
        if kind == "nth_week":
            assert gap == 7 * interval
        elif kind == "workdays":
            assert gap == (3 if earlier.weekday() == 4 else 1)  # no weekday skipped
        elif kind == "several":
            between = {(earlier.date() + timedelta(days=i)).weekday() for i in range(1, gap)}
            assert not between & days  # no named weekday skipped
    if ordinal is not None:
        for moment in seen:
            week_of_month = (moment.day - 1) // 7 + 1
            last = (moment + timedelta(days=7)).month != moment.month
            assert week_of_month == ordinal if ordinal > 0 else last
        months = [m.year * 12 + m.month for m in seen]
        assert all(b - a == 1 for a, b in pairwise(months))


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
