"""Native Matrix polls (MSC3381): ``m.poll.start`` with the stable and the unstable
(``org.matrix.msc3381.*``) content, votes from ``m.poll.response`` and replies, ``m.poll.end``.

Only messages whose view carries a :class:`bot.views.NativePoll` become native polls (named
polls with live results). Element computes a native poll's result from the responses it sees,
which are Matrix votes only; the official tally, counting every platform, is the *companion*
message: a notice replying to the poll, edited in place after every vote. Answer ids are the
option positions (``"1"``, ``"2"``, …), the same in both forms.

The functions here are pure (event JSON in, event JSON or a typed vote out) except
:func:`poll_for_events`, which asks :mod:`bot.services.polls`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.actions import VoteAction
from bot.services.polls import PollTarget as PollTarget
from bot.services.polls import poll_for_messages
from bot.views import NativePoll
from handlers.matrix.events import START_TOLERANCE_MS
from handlers.matrix.render import neutralise, strip_reply_fallback
from storage.uow import UnitOfWork

START = "m.poll.start"
END = "m.poll.end"
UNSTABLE_START = "org.matrix.msc3381.poll.start"
UNSTABLE_END = "org.matrix.msc3381.poll.end"
UNSTABLE_RESPONSE = "org.matrix.msc3381.poll.response"
RESPONSE_TYPES = ("m.poll.response", UNSTABLE_RESPONSE)
UNSTABLE_TEXT = "org.matrix.msc1767.text"
_NUMBERS = re.compile(r"^\s*#?\d{1,3}(\s*[,;\s]\s*#?\d{1,3})*\s*,?\s*$")


def poll_key(event_id: str) -> str:
    """bot_state: a poll start or companion event → our poll id."""
    return f"matrix:poll-of:{event_id}"


def companion_key(start_id: str) -> str:
    """bot_state: a poll start event → its companion (official tally) event."""
    return f"matrix:poll-companion:{start_id}"


def posted_key(poll_id: int, room_id: str) -> str:
    """bot_state: our poll in a room → its start event (a retried post does not repeat it)."""
    return f"matrix:poll-start:{poll_id}:{room_id}"


def ended_key(start_id: str) -> str:
    return f"matrix:poll-ended:{start_id}"


def _text(body: str) -> list[dict[str, str]]:
    return [{"body": body}]


def fallback_text(poll: NativePoll) -> str:
    """What clients without polls show: the question, numbered options and how to answer."""
    n = len(poll.options)
    lines = [poll.question, *(f"{i}. {label}" for i, label in enumerate(poll.options, 1))]
    if poll.max_choices > 1:
        lines.append(
            f"Abstimmen: antworten Sie mit 1–{n} (bis zu {poll.max_choices}, z. B. 1,2)"
            f" — Reply with 1–{n}"
        )
    else:
        lines.append(f"Abstimmen: antworten Sie mit 1–{n} — Reply with 1–{n}")
    return neutralise("\n".join(lines))


def start_content(poll: NativePoll) -> dict[str, Any]:
    """An ``m.poll.start`` content carrying the stable and the unstable poll."""
    question = neutralise(poll.question)
    labels = [neutralise(label) for label in poll.options]
    fallback = fallback_text(poll)
    return {
        "m.poll": {
            "kind": "m.disclosed",
            "max_selections": poll.max_choices,
            "question": {"m.text": _text(question)},
            "answers": [
                {"m.id": str(i), "m.text": _text(label)} for i, label in enumerate(labels, 1)
            ],
        },
        "m.text": _text(fallback),
        UNSTABLE_START: {
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": poll.max_choices,
            "question": {UNSTABLE_TEXT: question},
            "answers": [{"id": str(i), UNSTABLE_TEXT: label} for i, label in enumerate(labels, 1)],
        },
        UNSTABLE_TEXT: fallback,
        "body": fallback,
        "msgtype": "m.text",
        "m.mentions": {},
    }


def end_content(start_id: str, results: str) -> dict[str, Any]:
    """An ``m.poll.end`` content (stable and unstable) with the results as text."""
    text = neutralise(results)
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_id},
        "m.text": _text(text),
        UNSTABLE_END: {},
        UNSTABLE_TEXT: text,
        "body": text,
        "msgtype": "m.text",
        "m.mentions": {},
    }


def companion_content(base: dict[str, Any], start_id: str) -> dict[str, Any]:
    """The official tally as a notice replying to the poll."""
    return {**base, "m.relates_to": {"m.in_reply_to": {"event_id": start_id}}}


@dataclass(frozen=True)
class PollVote:
    """A vote for a poll that arrived as an event: which event it relates to, what it says."""

    targets: tuple[str, ...]  # event ids that may be the poll (start, companion, thread root)
    selections: tuple[str, ...] | None  # native answer ids (None: a text reply)
    text: str = ""  # a text reply's option numbers


def poll_response(source: dict[str, Any], *, own_user: str, started_ms: int) -> PollVote | None:
    """An ``m.poll.response`` in either form, or None."""
    content = source.get("content")
    if not isinstance(content, dict) or not _fresh(source, own_user, started_ms):
        return None
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.reference":
        return None
    start = relates.get("event_id")
    stable = content.get("m.selections")
    unstable = content.get(UNSTABLE_RESPONSE)
    if isinstance(stable, list):
        answers: Any = stable
    elif isinstance(unstable, dict) and isinstance(unstable.get("answers"), list):
        answers = unstable["answers"]
    else:
        return None
    if not isinstance(start, str):
        return None
    return PollVote((start,), tuple(str(a) for a in answers if isinstance(a, str)))


def poll_reply(source: dict[str, Any], *, own_user: str, started_ms: int) -> PollVote | None:
    """A text reply (or a message in the poll's thread) that is only option numbers."""
    content = source.get("content")
    if not isinstance(content, dict) or not _fresh(source, own_user, started_ms):
        return None
    if content.get("msgtype") != "m.text" or "m.new_content" in content:
        return None
    relates = content.get("m.relates_to")
    body = content.get("body")
    if not isinstance(relates, dict) or not isinstance(body, str):
        return None
    targets: list[str] = []
    if relates.get("rel_type") == "m.thread" and isinstance(relates.get("event_id"), str):
        targets.append(relates["event_id"])
    reply = relates.get("m.in_reply_to")
    if isinstance(reply, dict) and isinstance(reply.get("event_id"), str):
        targets.append(reply["event_id"])
    text = strip_reply_fallback(body).strip()
    if not targets or not _NUMBERS.match(text):
        return None
    return PollVote(tuple(targets), None, text)


def _fresh(source: dict[str, Any], own_user: str, started_ms: int) -> bool:
    sender = source.get("sender")
    if not isinstance(sender, str) or sender == own_user:
        return False
    return int(source.get("origin_server_ts") or 0) >= started_ms - START_TOLERANCE_MS


def vote_action(target: PollTarget, vote: PollVote) -> VoteAction | None:
    """The typed vote for a native response or a numeric reply; None for a spoiled native
    response.

    Either is the voter's whole choice (it replaces the ballot). A native response without
    selections withdraws; unknown ids are dropped, and more than the poll allows are cut to
    the first ``max_selections`` (as MSC3381 says). A reply's numbers are taken as typed (one
    out of range is refused with a message, as a typed vote would be)."""
    if vote.selections is None:
        typed: list[int] = []
        for part in re.split(r"[,;\s]+", vote.text):
            number = part.lstrip("#")
            if number.isdigit() and int(number) not in typed:
                typed.append(int(number))
        return VoteAction(target.poll_id, tuple(typed), "replace") if typed else None
    if not vote.selections:
        return VoteAction(target.poll_id, (), "replace")
    positions: list[int] = []
    for answer in vote.selections:
        valid = answer.isdigit() and 1 <= int(answer) <= target.n_options
        if valid and int(answer) not in positions:
            positions.append(int(answer))
    if not positions:
        return None
    return VoteAction(target.poll_id, tuple(positions[: target.max_choices]), "replace")


def poll_for_events(
    uow_factory: Callable[[], UnitOfWork], event_ids: Iterable[str]
) -> PollTarget | None:
    """Our poll for a native start/companion event or a posted (text) poll message."""
    ids = list(event_ids)
    with uow_factory() as uow:
        return poll_for_messages(uow, "matrix", ids, [poll_key(e) for e in ids])
