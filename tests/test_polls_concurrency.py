"""20 participants vote at the same moment, then all change their votes: exact counts."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from app import Bot
from bot.services.poll_results import tally
from storage.models import Poll
from tests.helpers import Driver, request, signup

VOTERS = [f"p{i:02d}" for i in range(20)]


def _vote_all(bot: Bot, choices: dict[str, int], dm: bool) -> list[str]:
    barrier = threading.Barrier(len(choices))
    answers: list[str] = []
    lock = threading.Lock()

    def vote(name: str, option: int) -> None:
        barrier.wait()
        replies = bot.dispatcher.handle(request(name, f"abstimmen 1 {option}", dm=dm))
        text = "\n".join(r.message.plain_text() for r in replies if r.message)
        with lock:
            answers.append(text)

    threads = [threading.Thread(target=vote, args=item) for item in choices.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_simultaneous_votes_and_changes_count_exactly(bot: Bot, anonymous: bool) -> None:
    driver = Driver(bot)
    driver.say("orga", 'jahrgang anlegen "Parallel" plaetze=20')
    for name in VOTERS:
        driver.say(name, signup(name))
    flag = " anonym" if anonymous else ""
    driver.say(
        "orga", f'umfrage "Gleichzeitig?" "A" "B" "C"{flag} sofort'
    )  # posted: updates follow

    first = {name: i % 3 + 1 for i, name in enumerate(VOTERS)}
    answers = _vote_all(bot, first, dm=anonymous)  # anonymous: by DM, never in the room
    assert len(answers) == 20 and all("ist gezählt" in a for a in answers), answers
    second = {name: (i + 1) % 3 + 1 for i, name in enumerate(VOTERS)}
    answers = _vote_all(bot, second, dm=anonymous)
    assert len(answers) == 20 and all("ist geändert" in a for a in answers), answers

    with bot.uow_factory() as uow:
        poll = uow.session.query(Poll).one()
        counted = tally(uow, poll)
    assert counted.ballots == 20
    assert counted.counts == dict(Counter(second.values()))
    driver.flush()
    last = driver.messenger.texts("update")[-1]
    assert "20 Stimmzettel abgegeben" in last
    if anonymous:  # the ballot count only until close, then the result
        assert "%" not in last
        driver.say("orga", "umfrage 1 schliessen")
        last = driver.messenger.texts("update")[-1]
    assert "1. A — ▇▇▇░░░░░░░ 30 % (6 Stimmen)" in last  # 6 × A, 7 × B, 7 × C
