"""A DM fan-out against the rate-limiting Slack double, shared by the benchmark
(``bench/bench_fanout.py``) and its correctness test (``tests/test_fanout.py``).

A cohort bound to a Slack channel has ``people`` confirmed participants plus one presenter
(municipality "Musterstadt"). The organiser types ``/stadtlabor feedback starten …`` as a signed
slash command to the running bot (bolt over HTTP, the production :class:`SlackRuntime` with its
outbox flusher on the real clock); the bot announces the round in the channel and DMs a prompt
to each of the ``people``. Everything is judged at the double: which DMs arrived, how often,
which calls were refused with 429, and whether every refused call was later sent successfully.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app import Bot
from bot.services.cohorts import create_cohort
from handlers.slack.runner import SlackConfig, SlackRuntime
from storage.models import OutboxMessage, Participant, Person, PlatformIdentity
from tests.support import slack_requests as sr
from tests.support.slack_double import Call, SlackDouble, SlackUser

ORGA = SlackUser(id="U0ORGA", real_name="Olga Organisatorin", display_name="olga")
CHANNEL = "C0FANOUT"
PROMPT_KEY = "feedback:%:prompt:%"
COMMAND = 'feedback starten titel="Fan-out" fuer=Musterstadt bis="in 7 Tagen" sofort'


def user_id(i: int) -> str:
    return f"U1{i:07d}"


@dataclass(frozen=True)
class Limits:
    """What ``SlackDouble.enforce_rate_limits`` is given (workspace burst = the per-minute
    figure unless set, as in the double)."""

    per_channel_per_sec: float = 1.0
    burst: int = 3
    per_workspace_per_min: int = 300
    workspace_burst: int | None = None

    @property
    def workspace_capacity(self) -> int:
        return (
            self.workspace_burst if self.workspace_burst is not None else self.per_workspace_per_min
        )

    def floor(self, per_channel: Counter[str]) -> float:
        """Earliest possible time of the last of these chat.postMessage calls, all ready at
        t=0 with full buckets: the k-th call of a bucket (rate r, capacity b) cannot go before
        (k - b) / r; the workspace bucket sees every call, a channel's bucket its own."""
        total = sum(per_channel.values())
        bounds = [(total - self.workspace_capacity) / (self.per_workspace_per_min / 60.0)]
        bounds += [(n - self.burst) / self.per_channel_per_sec for n in per_channel.values()]
        return max(0.0, *bounds)


@dataclass
class FanoutResult:
    people: int
    command_s: float  # slash command sent → its HTTP answer (the listener commits, then acks)
    enqueued_s: float  # slash command sent → the prompts' outbox rows seen committed (±0.1 s)
    first_dm_s: float  # slash command sent → first prompt DM accepted
    wall_s: float  # slash command sent → last prompt DM accepted by the double
    floor_s: float
    ratio: float
    posts_ok: int  # successful chat.postMessage calls (prompts + announcement)
    conversations_open: int
    delivered: int  # people who got the prompt
    lost: int
    duplicated: int
    rate_limited_429: int  # by the double's limiter
    injected_429: int
    retried_ok: int  # 429s followed by a successful call of the same message
    outbox: dict[str, int] = field(default_factory=dict)
    prompt_rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def populate(bot: Bot, people: int) -> None:
    """The cohort, bound to ``CHANNEL``: ``people`` participants and the presenter."""
    now = bot.clock.now()
    with bot.uow_factory() as uow:
        organiser = uow.session.scalar(
            select(Person)
            .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
            .where(PlatformIdentity.platform == "slack", PlatformIdentity.external_id == ORGA.id)
        )
        assert organiser is not None, "configure organizers=slack:U0ORGA"
        cohort = create_cohort(
            uow,
            actor_id=organiser.id,
            name="Fan-out",
            capacity=people + 1,
            moderated=False,
            deadline=None,
            platform="slack",
            channel_id=CHANNEL,
            now=now,
        )
        uow.session.flush()
        persons = [
            Person(display_name=f"Person {i}", municipality=f"Kommune {i}", created_at=now)
            for i in range(people)
        ]
        persons.append(Person(display_name="Presenter", municipality="Musterstadt", created_at=now))
        uow.session.add_all(persons)
        uow.session.flush()
        for i, person in enumerate(persons):
            external = user_id(i) if i < people else "U0PRESENT"
            uow.session.add(
                PlatformIdentity(person_id=person.id, platform="slack", external_id=external)
            )
            uow.session.add(
                Participant(
                    cohort_id=cohort.id,
                    person_id=person.id,
                    status="confirmed",
                    registered_at=now,
                    updated_at=now,
                )
            )
        uow.commit()


def start_runtime(bot: Bot, slack: SlackDouble, **options: Any) -> tuple[SlackRuntime, str]:
    config = SlackConfig(
        bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
    )
    runtime = SlackRuntime(bot, config, **options)
    return runtime, runtime.start_http("127.0.0.1", 0)


def _prompt_user(call: Call) -> str | None:
    channel = str(call.args.get("channel", ""))
    if channel.startswith("D"):
        return "U" + channel[1:]
    return channel if channel.startswith("U") else None


def outbox_status(bot: Bot) -> dict[str, int]:
    with bot.uow_factory() as uow:
        rows = uow.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    return {str(status): int(count) for status, count in rows}


def _settled(bot: Bot) -> bool:
    status = outbox_status(bot)
    return status.get("pending", 0) == 0 and status.get("sending", 0) == 0


def run(
    bot: Bot, slack: SlackDouble, url: str, people: int, limits: Limits, timeout: float
) -> FanoutResult:
    """Send the command, wait until every prompt is out (or ``timeout``), judge the result."""
    started = time.time()
    response = sr.post_signed(
        url, sr.slash_command(COMMAND, ORGA.id, CHANNEL, user_name=ORGA.display_name)
    )
    answered = time.time()
    if response.status != 200:
        raise RuntimeError(f"slash command failed: {response.status} {response.text[:200]}")
    deadline = started + timeout
    enqueued = float("nan")
    while time.time() < deadline:
        if enqueued != enqueued and sum(outbox_status(bot).values()) >= people:
            enqueued = time.time()
        delivered = {_prompt_user(c) for c in slack.calls("chat.postMessage") if c.ok}
        if len(delivered - {None}) >= people and _settled(bot):
            break
        time.sleep(0.1)
    result = judge(bot, slack, people, limits, started, answered)
    result.enqueued_s = round(enqueued - started, 3)
    return result


def judge(
    bot: Bot, slack: SlackDouble, people: int, limits: Limits, started: float, answered: float
) -> FanoutResult:
    posts = [c for c in slack.calls("chat.postMessage") if c.time >= started]
    ok = [c for c in posts if c.ok]
    per_user = Counter(u for c in ok if (u := _prompt_user(c)) is not None)
    wanted = {user_id(i) for i in range(people)}
    last = max((c.time for c in ok if _prompt_user(c) in wanted), default=float("nan"))
    refused = [(i, c) for i, c in enumerate(posts) if c.status == 429]
    retried = sum(
        1
        for i, c in refused
        if any(
            later.ok
            and later.args.get("channel") == c.args.get("channel")
            and later.args.get("text") == c.args.get("text")
            for later in posts[i + 1 :]
        )
    )
    per_channel = Counter(str(c.args.get("channel")) for c in ok)
    floor = limits.floor(per_channel)
    first = min((c.time for c in ok if _prompt_user(c) in wanted), default=float("nan"))
    with bot.uow_factory() as uow:
        prompt_rows = int(
            uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.idempotency_key.like(PROMPT_KEY))
            )
            or 0
        )
    wall = last - started
    return FanoutResult(
        people=people,
        command_s=round(answered - started, 3),
        enqueued_s=float("nan"),
        first_dm_s=round(first - started, 3),
        wall_s=round(wall, 3),
        floor_s=round(floor, 3),
        ratio=round(wall / floor, 3) if floor > 0 else float("nan"),
        posts_ok=len(ok),
        conversations_open=sum(1 for c in slack.calls("conversations.open") if c.time >= started),
        delivered=sum(1 for u in wanted if per_user[u] >= 1),
        lost=sum(1 for u in wanted if per_user[u] == 0),
        duplicated=sum(1 for u in wanted if per_user[u] > 1),
        rate_limited_429=sum(1 for _i, c in refused if not c.injected),
        injected_429=sum(1 for _i, c in refused if c.injected),
        retried_ok=retried,
        outbox=outbox_status(bot),
        prompt_rows=prompt_rows,
    )


def spread(count: int, calls: int, first: int = 2) -> list[int]:
    """``count`` call numbers spread evenly over the first ``calls`` calls."""
    if count <= 0:
        return []
    step = max(1, (calls - first) // count)
    return [first + k * step for k in range(count)]


def stamp() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
