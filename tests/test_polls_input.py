"""Issue 15 Input #2 as a property: an ``umfrage`` line with one misspelt flag or one unquoted
word publishes nothing (no poll row, no outbox row), and the answer names the word."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.commands.poll_input import FLAGS
from bot.router import fold
from storage.models import OutboxMessage, Poll
from tests.helpers import Driver, make_settings, signup

LETTERS = "abcdefghijklmnopqrstuvwxyzäöüßABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ-"
TEXT = st.text(alphabet=LETTERS + " ?!.,0123456789", min_size=1, max_size=30).filter(
    lambda t: t.strip() != ""
)


@pytest.fixture
def driver(sqlite_url: str, clock: SimulatedClock) -> Iterator[Driver]:
    bot: Bot = build_bot(make_settings(sqlite_url, organizers="console:orga"), clock)
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Streng" plaetze=3')
    d.say("anna", signup("anna"))
    yield d
    bot.engine.dispose()


@st.composite
def misspelt_flag(draw: st.DrawFn) -> str:
    """A flag's name with one letter dropped, doubled, swapped or replaced."""
    flag = draw(st.sampled_from(sorted(FLAGS)))
    i = draw(st.integers(0, len(flag) - 1))
    kind = draw(st.sampled_from(["drop", "double", "swap", "replace"]))
    if kind == "drop":
        word = flag[:i] + flag[i + 1 :]
    elif kind == "double":
        word = flag[:i] + flag[i] + flag[i:]
    elif kind == "swap" and i < len(flag) - 1:
        word = flag[:i] + flag[i + 1] + flag[i] + flag[i + 2 :]
    else:
        word = flag[:i] + draw(st.sampled_from("aeiouxyz")) + flag[i + 1 :]
    return word


def _is_flag(word: str) -> bool:
    return fold(word) in FLAGS


BAD_WORD = st.one_of(misspelt_flag(), st.text(alphabet=LETTERS, min_size=1, max_size=15)).filter(
    lambda w: not _is_flag(w) and w.strip("-") != ""
)


def _quote(text: str) -> str:
    return '"' + text.replace('"', "") + '"'


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    question=TEXT.filter(lambda t: any(c.isalpha() for c in t)),  # "3" would mean poll 3
    options=st.lists(TEXT, min_size=2, max_size=4, unique_by=lambda t: fold(t).strip()),
    flags=st.lists(st.sampled_from(sorted(FLAGS)), max_size=2),
    bad=BAD_WORD,
    where=st.integers(0, 10),
)
def test_one_unknown_unquoted_word_publishes_nothing(
    driver: Driver,
    question: str,
    options: list[str],
    flags: list[str],
    bad: str,
    where: int,
) -> None:
    words = [_quote(question), *(_quote(o) for o in options), *flags]
    words.insert(min(where, len(words)), bad)
    outbox_before = _outbox_rows(driver)
    answer = driver.say("orga", "umfrage " + " ".join(words))
    assert f"„{bad[:40]}“" in answer, (words, answer)
    assert "angelegt" not in answer
    with driver.bot.uow_factory() as uow:
        assert uow.session.scalar(select(func.count(Poll.id))) == 0
    assert _outbox_rows(driver) == outbox_before
    assert not any("Umfrage" in t for t in driver.messenger.texts("post"))


def _outbox_rows(driver: Driver) -> int:
    with driver.bot.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count(OutboxMessage.id))) or 0)


def test_the_same_lines_quoted_are_polls(driver: Driver) -> None:
    """The property's counterpart (it must not pass by refusing everything): the same kinds
    of line without the stray word create the poll."""
    assert "Umfrage 1 ist angelegt" in driver.say("orga", 'umfrage "Ja?" "A" "B c" anonym sofort')
    line = 'umfrage "anonm?" "anonm" "x" host-abstain sofort'
    assert "Umfrage 2 ist angelegt" in driver.say("orga", line)
