"""A realistic cohort built through the chat commands (tests and bench/bench_web.py)."""

from __future__ import annotations

from tests.helpers import Driver, signup

__all__ = ["add", "cohort", "signup"]


def cohort(
    driver: Driver,
    name: str,
    *,
    people: int = 20,
    meetings: int = 3,
    polls: int = 10,
    rounds: int = 6,
    channel: str = "stadtlabor",
) -> list[str]:
    """A cohort with ``people`` confirmed participants, ``meetings`` meetings (half of the
    people answered the first), ``polls`` open polls (a third voted) and ``rounds`` open
    feedback rounds; returns the participants' console names."""
    driver.say("orga", f'jahrgang anlegen "{name}" plaetze={people}', channel=channel)
    users = [f"{channel}-p{i}" for i in range(people)]
    for user in users:
        driver.say(user, signup(user), channel=channel)
    add(driver, users, meetings=meetings, polls=polls, rounds=rounds, channel=channel)
    return users


def add(
    driver: Driver,
    users: list[str],
    *,
    meetings: int = 0,
    polls: int = 0,
    rounds: int = 0,
    channel: str = "stadtlabor",
    first: int = 1,
) -> None:
    """More meetings, polls and rounds for the channel's cohort (numbers from ``first``)."""

    def say(user: str, text: str) -> str:
        return driver.say(user, text, channel=channel)

    for m in range(first, first + meetings):
        say(
            "orga",
            f'treffen anlegen titel="Treffen {m}" von="1.{m + 2}.2027 10:00" '
            f'bis="2.{m + 2}.2027 16:00"',
        )
    for n in range(first, first + polls):
        say("orga", f'umfrage "Frage {n}?" "Ja" "Nein" "Vielleicht" sofort')
    for r in range(first, first + rounds):
        presenter = users[r % len(users)]
        say("orga", f'feedback starten titel="Runde {r}" fuer=@{presenter} bis="in 7 Tagen" sofort')
    for user in users[: len(users) // 2]:
        if meetings:
            say(user, f"teilnahme {first} ja")
    for user in users[: len(users) // 3]:
        for n in range(first, first + polls):
            say(user, f"abstimmen {n} 1")
