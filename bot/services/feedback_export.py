"""A feedback round's export (Markdown and CSV): what ``export feedback N`` sends into the
DM and what the web page offers as downloads — the same files from the same views
(:func:`bot.services.feedback_close.answer_views`: anonymous answers only once published,
without any author)."""

from __future__ import annotations

from collections.abc import Callable

from bot.services import feedback as fb
from bot.services import feedback_close as fb_close
from bot.services import feedback_views as views
from bot.settings import Settings
from storage.models import FeedbackRound
from storage.ports import UnitOfWorkPort


def files(
    uow: UnitOfWorkPort,
    rnd: FeedbackRound,
    language: str,
    settings: Settings,
    translate: Callable[[str], str],
) -> tuple[int, tuple[tuple[str, bytes], ...]]:
    """The number of answers shown, and the files by name."""
    info = fb.info(uow, rnd, language, settings)
    shown = fb_close.answer_views(uow, rnd)
    return len(shown), (
        (f"feedback-{rnd.number}.md", views.export_markdown(info, shown, translate)),
        (f"feedback-{rnd.number}.csv", views.export_csv(rnd, shown, translate)),
    )
