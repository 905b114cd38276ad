""" "Mein Stadtlabor": the participant's own page, from the chat's overview service.

:func:`bot.services.overview.build` is what ``ueberblick`` and the Slack Home tab show; each
part follows its command's row of the permission table, so this page never shows more than
the chat would.
"""

from __future__ import annotations

from bot.services import overview as ov
from bot.services.meetings import span_label
from handlers.web.core import Page, WebDeps, WebRequest, page, require, viewer_of


def mine(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "ueberblick")
        model = ov.build(
            uow,
            viewer.person,
            viewer.cohort,
            role=viewer.role,
            now=now,
            settings=deps.settings,
            language=viewer.formats.language,
        )
        span = None
        location = None
        if model.meeting is not None and viewer.cohort is not None:
            meeting = uow.meetings.get(viewer.cohort.id, model.meeting.number)
            if meeting is not None:
                span = span_label(meeting, deps.settings.tz, viewer.formats.language)
                location = ", ".join(p for p in (meeting.location, meeting.host_city) if p)
        result = page(
            deps,
            viewer,
            "mine.html",
            ov=model,
            span=span,
            location=location,
            may_calendar=viewer.may("kalender") and viewer.cohort is not None,
            may_my_data=viewer.may("meine-daten"),
            may_forget=viewer.may("vergessen"),
        )
        uow.commit()
    return result
