"""On ``vergessen``: the words of a person's *named* feedback answers are their personal data.

Each such answer is replaced by the marker „[auf Wunsch gelöscht]“ ("[deleted on request]")
wherever it is kept: the answer row (``{"answers": [], "erased": True}``, the marker is rendered
in the reader's language), the outbox rows of its thread post and of every edit of it (the post
itself is edited through the outbox), the presenters' DMs of a closed round (their answer lines;
the attached file is dropped) and the export files of the round. What a chat client already
showed cannot be taken back (docs/feedback.md).

Runs before the feedback store unlinks the person (:func:`bot.services.feedback.erase_person`):
the author link is how the answers are found.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import translator
from bot.services import feedback_publish as publish
from bot.services import feedback_views as views
from bot.services.cohorts import post_language
from bot.services.feedback import person_label
from storage.models import FeedbackRound, OutboxMessage
from storage.ports import UnitOfWorkPort

INDENT = "   "  # answer lines under their question (feedback_views._qa_lines)


def erase_named_answers(
    uow: UnitOfWorkPort, person_id: int, *, now: datetime, language: str
) -> None:
    """Replace the person's named answers by the marker everywhere (``language``: the one the
    cohort's posts are written in)."""
    person = uow.persons.get(person_id)
    label = person_label(person) if person is not None else None
    for response, rnd in uow.feedback_answers.by_author(person_id, anonymous=False):
        response.answers = {"answers": [], "erased": True}
        erased = views.AnswerView(None, (), erased=True)
        message = views.named_answer(rnd, erased, translator(post_language(rnd, language)))
        key = f"feedback:{rnd.id}:answer:{response.id}"
        publish.replace(uow, key, key, message, now)  # edits the posts, rewrites unsent rows
        for row in _rows(uow, f"{key}:"):  # the sent post and earlier edits keep no copy
            row.payload = {**row.payload, "message": message.to_dict()}
        if label is not None:
            _presenter_copies(uow, rnd, label, language)
        for row in _rows(uow, f"export:feedback:{rnd.id}:"):
            _drop_file(row)


def _rows(uow: UnitOfWorkPort, prefix: str) -> list[OutboxMessage]:
    return uow.outbox.with_prefix(prefix)


def _presenter_copies(uow: UnitOfWorkPort, rnd: FeedbackRound, label: str, language: str) -> None:
    """The presenters' DMs of a closed round: the person's answer lines become the marker (in
    the presenter's language); the file with all answers is dropped."""
    for row in _rows(uow, f"feedback:{rnd.id}:presenter:"):
        presenter_id = int(row.idempotency_key.rsplit(":", 1)[1])
        presenter = uow.persons.get(presenter_id)
        marker = translator((presenter.language if presenter else None) or language)(views.ERASED)
        message = row.payload.get("message")
        if message:
            blocks = [_erase_block(b, label, marker) for b in message.get("blocks", [])]
            row.payload = {**row.payload, "message": {**message, "blocks": blocks}}
        _drop_file(row)


def _erase_block(block: dict[str, Any], label: str, marker: str) -> dict[str, Any]:
    if block.get("kind") != "section" or block.get("label") != label:
        return block
    lines: list[str] = []
    for line in block.get("lines", []):
        if not line.startswith(INDENT):
            lines.append(line)
        elif not lines or lines[-1] != INDENT + marker:
            lines.append(INDENT + marker)
    return {**block, "lines": lines}


def _drop_file(row: OutboxMessage) -> None:
    """A file cannot be edited: its stored copy goes; an unsent one is sent without it."""
    if "content_b64" not in row.payload:
        return
    row.payload = {k: v for k, v in row.payload.items() if k not in ("content_b64", "filename")}
    if row.status != "sent":
        if row.payload.get("message"):
            row.operation = "dm"
        else:
            row.status, row.error = "cancelled", "erased (Art. 17)"
