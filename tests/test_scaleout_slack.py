"""Issue 11, scale-out: three ``stadtlabor run --slack-http`` processes on one PostgreSQL.

All traffic goes as signed Slack requests, round robin over the three instances (any load
balancer, no sticky sessions); every answer is checked at the Slack Web API double or in the
database. Modals are opened through instance A and submitted to instance B. While votes are
still arriving the scheduler leader is SIGKILLed; requests that then fail at the HTTP level
are re-sent to a live instance, as a load balancer would. At the end: the tally equals the
votes the test cast, each reminder reached Slack exactly once, and exactly one other instance
took over the scheduling. Runs about 75 s (a typed reminder is due one minute ahead at the
earliest), hence ``slow``: it runs in ``make test-long``.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import Bot, build_bot
from bot.clock import SystemClock
from bot.scheduling import service as reminders
from handlers.slack.forms import FORM_KEY
from storage.models import Participant, PlatformIdentity, PollOption, Reminder, Vote
from tests.helpers import make_settings
from tests.support import slack_requests as sr
from tests.support.slack_cluster import (
    Balancer,
    Instance,
    heard,
    posted,
    start_instance,
    text_of,
    wait_for,
    wait_ready,
)
from tests.support.slack_double import SlackDouble, SlackUser

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ORGA = SlackUser(id="U0ORGA", real_name="Olga Organisatorin", display_name="olga")
PEOPLE = [
    SlackUser(id=f"U0S{i:02d}", real_name=f"Person {i:02d}", display_name=f"s{i:02d}")
    for i in range(24)
]
GENERAL = "C0GENERAL"
OPTIONS = ("Wohnen", "Pflege", "Mobilität")
QUESTION = "Welches Thema zuerst?"
A, B = 0, 1


def _slash(user: SlackUser, text: str, trigger_id: str | None = None) -> sr.SignedRequest:
    return sr.slash_command(
        text, user.id, GENERAL, user_name=user.display_name, trigger_id=trigger_id
    )


def _signup(user: SlackUser, n: int) -> str:
    return (
        f'anmelden name="{user.real_name}" kommune="Kommune {n:02d}" '
        f"funktion=Bürgermeisterin email=s{n:02d}@example.org zustimmung=ja"
    )


def _select(number: int) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": str(number)}}


class Scene:
    """The double, the instances, the balancer and a Bot of the test's own (database reads)."""

    def __init__(self, slack: SlackDouble, lb: Balancer, bot: Bot) -> None:
        self.slack, self.lb, self.bot = slack, lb, bot

    def modal(self, user: SlackUser, command: str, trigger: str, title: str) -> dict[str, Any]:
        """Run ``command`` on instance A; the modal it opened, once its form is stored."""
        _, served = self.lb.send(_slash(user, command, trigger), to=A)
        assert served == "A"
        opened = wait_for(
            lambda: [c for c in self.slack.calls("views.open") if c.args["trigger_id"] == trigger],
            10,
            f"views.open for {command!r}",
        )
        assert opened[0].ok, opened[0].error
        (view,) = [v for v in self.slack.views() if title in text_of(v["title"])]
        key = json.loads(view["private_metadata"]).get("form_key") or FORM_KEY.format(
            view_id=view["id"]
        )
        wait_for(lambda: self.state(key), 10, f"{key} in the database")
        return view

    def submit(self, user: SlackUser, view: dict[str, Any], values: dict[str, Any]) -> str:
        """Submit ``view`` to instance B; the text of the view that replaced the modal."""
        request = sr.view_submission(
            view["callback_id"],
            {name: {"value": value} for name, value in values.items()},
            user_id=user.id,
            private_metadata=view["private_metadata"],
            view_id=view["id"],
            user_name=user.display_name,
        )
        response, served = self.lb.send(request, to=B)
        assert served == "B"
        answer = response.json()
        assert answer.get("response_action") == "update", answer
        return text_of(answer["view"])

    def state(self, key: str) -> str | None:
        with self.bot.uow_factory() as uow:
            return uow.state.get(key)

    def person_id(self, user: SlackUser) -> int:
        with self.bot.uow_factory() as uow:
            person = uow.persons.get_by_identity("slack", user.id)
            assert person is not None
            return int(person.id)

    def remind(self, users: list[SlackUser], label: str, due: datetime) -> list[str]:
        """Reminders created through the reminder service (as ``erinnern`` does)."""
        texts = [f"{label}-{i:02d}" for i in range(len(users))]
        ids = [self.person_id(user) for user in users]
        with self.bot.uow_factory() as uow:
            now = datetime.now(UTC)
            for person, text in zip(ids, texts, strict=True):
                reminders.create(uow, person_id=person, kind="dm", due_at=due, text=text, now=now)
            uow.commit()
        return texts

    def confirmed(self) -> set[str]:
        """Slack user ids of the confirmed participants."""
        with self.bot.uow_factory() as uow:
            rows = uow.session.scalars(
                select(PlatformIdentity.external_id)
                .join(Participant, Participant.person_id == PlatformIdentity.person_id)
                .where(Participant.status == "confirmed", PlatformIdentity.platform == "slack")
            ).all()
        assert len(rows) == len(set(rows)), rows
        return set(rows)

    def ballots(self) -> dict[str, int]:
        """Slack user id → chosen option position, from the votes table."""
        with self.bot.uow_factory() as uow:
            rows = uow.session.execute(
                select(PlatformIdentity.external_id, PollOption.position)
                .join(Vote, Vote.person_id == PlatformIdentity.person_id)
                .join(PollOption, PollOption.id == Vote.option_id)
                .where(PlatformIdentity.platform == "slack")
            ).all()
        assert len(rows) == len({user for user, _ in rows}), f"a voter counted twice: {rows}"
        return {str(user): int(position) for user, position in rows}


@pytest.fixture
def scene(pg_schema_url: str, tmp_path: Path) -> Iterator[Scene]:
    with SlackDouble(users=[ORGA, *PEOPLE]) as slack:
        env = {
            "STADTLABOR_DATABASE_URL": pg_schema_url,
            "STADTLABOR_ORGANIZERS": f"slack:{ORGA.id}",
            "SLACK_BOT_TOKEN": "xoxb-scaleout",
            "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
            "SLACK_API_URL": slack.base_url,
        }
        lb = Balancer([start_instance(name, tmp_path, env) for name in "ABC"])
        bot: Bot | None = None
        try:
            for instance in lb.instances:  # started together: migrations race, safely
                wait_ready(instance)
            bot = build_bot(make_settings(pg_schema_url), SystemClock())
            yield Scene(slack, lb, bot)
        except BaseException:
            for instance in lb.instances:
                print(f"--- instance {instance.name}\n{instance.log_text()[-4000:]}")
            raise
        finally:
            lb.stop()
            if bot is not None:
                bot.engine.dispose()


def _leaders(instances: list[Instance]) -> list[str]:
    return [i.name for i in instances if i.alive and i.leads()]


def test_three_instances_one_database_leader_killed(scene: Scene) -> None:
    slack, lb = scene.slack, scene.lb
    started = time.monotonic()
    (leader,) = wait_for(lambda: _leaders(lb.instances), 15, "one scheduler leader")
    assert sum(i.leads() for i in lb.instances) == 1

    # Typed reminders (one minute ahead is the earliest), one per instance; due after the kill.
    typed = [f"Befehl-Erinnerung-{i:02d}" for i in range(3)]
    for i, text in enumerate(typed):
        lb.send(_slash(PEOPLE[i], f"erinnern in 1 Minute; {text}"), to=i)
    for i in range(3):
        wait_for(partial(heard, slack, PEOPLE[i], "angelegt; ich schreibe"), 10, "erinnern")

    # The cohort through A; registrations round robin (concurrently: the seats are counted
    # in the database); one registration as a modal opened on A and submitted to B.
    lb.send(_slash(ORGA, 'jahrgang anlegen "Stadtlabor Skaliert" plaetze=40'), to=A)
    created = "angelegt: 40 Plätze"
    wait_for(lambda: heard(slack, ORGA, created) or posted(slack, created), 10, "cohort")
    typed_in = PEOPLE[:-1]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda n: lb.send(_slash(typed_in[n], _signup(typed_in[n], n))), range(23)))
    view = scene.modal(PEOPLE[-1], "anmelden", "T-REGISTER", "Anmeldung")
    fields = {"name": "Person 23", "kommune": "Kommune 23", "funktion": _select(1)}
    fields |= {"email": "s23@example.org", "bueroleitung": ""}
    fields["zustimmung"] = {"type": "checkboxes", "selected_options": [{"value": "ja"}]}
    answer = scene.submit(PEOPLE[-1], view, fields)
    assert re.search(r"Sie sind angemeldet: Platz \d+ von 40", answer), answer
    for user in typed_in:
        wait_for(partial(heard, slack, user, "Sie sind angemeldet: Platz"), 10, f"{user.id} in")
    assert scene.confirmed() == {user.id for user in PEOPLE}

    # The poll-creation modal: opened on A, submitted to B, posted to the channel.
    view = scene.modal(ORGA, "umfrage", "T-POLL", "Neue Umfrage")
    fields = {"frage": QUESTION, "optionen": "\n".join(OPTIONS), "mehrfach": ""}
    fields |= {"anonym": _select(2), "ergebnis": _select(1), "bis": ""}
    fields["gastgeber-enthaltung"] = _select(2)
    assert "Umfrage 1 ist angelegt" in scene.submit(ORGA, view, fields)
    (poll,) = wait_for(
        lambda: [m for m in slack.messages(GENERAL) if QUESTION in text_of(m.blocks)],
        10,
        "the poll in the channel",
    )
    buttons = {
        label: (element["action_id"], element["value"])
        for block in poll.blocks or []
        if block["type"] == "actions"
        for element in block["elements"]
        for label in OPTIONS
        if label in element["text"]["text"]
    }
    assert set(buttons) == set(OPTIONS)

    # Reminders through the service: some due before the kill, some after it.
    now = datetime.now(UTC)
    early = scene.remind(PEOPLE[3:9], "Frueh", now + timedelta(seconds=2))
    late = scene.remind(PEOPLE[9:15], "Spaet", now + timedelta(seconds=15))

    # 24 voters, every fourth changes its mind; clicks spread over ~6 s, round robin.
    final = {user.id: OPTIONS[n % 3] for n, user in enumerate(PEOPLE)}
    clicks = {
        user.id: ([OPTIONS[(n + 1) % 3]] if n % 4 == 0 else []) + [final[user.id]]
        for n, user in enumerate(PEOPLE)
    }

    def vote(n: int) -> None:
        user = PEOPLE[n]
        time.sleep(0.25 * n)
        for label in clicks[user.id]:
            click = sr.block_actions(
                *buttons[label],
                user_id=user.id,
                channel_id=GENERAL,
                message_ts=poll.ts,
                user_name=user.display_name,
            )
            lb.send(click)

    with ThreadPoolExecutor(8) as pool:
        voting = [pool.submit(vote, n) for n in range(len(PEOPLE))]
        wait_for(lambda: all(posted(slack, t) for t in early), 10, "early reminders sent")
        wait_for(lambda: sum(f.done() for f in voting) >= 8, 10, "a third of the voters")
        killed_at = datetime.now(UTC)
        victim = next(i for i in lb.instances if i.name == leader)
        victim.kill()
        pending = sum(not f.done() for f in voting)
        for future in voting:
            future.result(timeout=30)
    assert pending >= 6, f"the kill came too late: only {pending} voters left"
    assert killed_at < now + timedelta(seconds=13), "the kill must precede the late reminders"
    assert lb.rerouted >= 1, "no request met the dead instance"

    # Exactly one survivor takes over the scheduling.
    (successor,) = wait_for(lambda: _leaders(lb.instances), 15, "a new leader")
    assert successor != leader and sum(i.leads() for i in lb.instances if i.alive) == 1

    # No vote lost, none doubled: in the database and in the edited poll message.
    assert scene.ballots() == {user: OPTIONS.index(label) + 1 for user, label in final.items()}
    tally = Counter(final.values())
    expected = [f"{label} — " for label in OPTIONS]

    def shown() -> bool:
        text = text_of(next(m for m in slack.messages(GENERAL) if m.ts == poll.ts).blocks)
        counts = [re.search(rf"{re.escape(e)}.*?\((\d+) Stimm", text) for e in expected]
        return "24 Stimmzettel abgegeben" in text and [int(m[1]) if m else -1 for m in counts] == [
            tally[label] for label in OPTIONS
        ]

    wait_for(shown, 15, "the poll message shows the final tally")

    # Every reminder reached Slack exactly once (the typed ones, due a minute after they
    # were typed, were sent by the new leader).
    texts = early + late + typed
    wait_for(lambda: all(posted(slack, t) for t in texts), 80, "every reminder sent")
    time.sleep(2.0)  # a doubled delivery would show up now
    counts = {t: len(posted(slack, t)) for t in texts}
    assert counts == dict.fromkeys(texts, 1), counts
    with scene.bot.uow_factory() as uow:
        rows = uow.session.execute(select(Reminder.text, Reminder.status)).all()
    assert {text: status for text, status in rows if text in texts} == dict.fromkeys(texts, "done")
    assert all(i.alive for i in lb.instances if i.name != leader)
    assert [(c.method, c.error) for c in slack.calls() if not c.ok] == []
    print(
        f"scale-out: {time.monotonic() - started:.1f} s, served {lb.served}, "
        f"rerouted {lb.rerouted}, leader {leader} -> {successor}"
    )
