"""The programme team's reminders page: what is scheduled, cancel, remind now.

The list is :func:`bot.services.web_reminders.scheduled` (the ``reminders`` table); cancelling
is ``erinnerung NR löschen``'s service, "jetzt erinnern" is ``nachfassen``'s
(:func:`bot.services.overview_nudge.nudge`: a DM to everyone still missing, at most once a day
per person, with the audit entry ``nachfassen``). Ids travel in POST bodies.
"""

from __future__ import annotations

from typing import Literal

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services import overview_nudge, web_login, web_overview, web_reminders
from bot.services.cohort_end import check_writable
from handlers.web.core import (
    Page,
    Refused,
    WebDeps,
    WebRequest,
    check_csrf,
    page,
    require,
    viewer_of,
)
from handlers.web.organiser import _int, _no_cohort

PAGE_KEY = "nachfassen"  # the programme team's row: the page shows the cohort's scheduled work
LABELS = {"umfrage": N_("Umfrage {n}"), "feedback": N_("Feedback-Runde {n}")}


def show(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, PAGE_KEY)
        cohort = viewer.cohort_or(_no_cohort)
        open_items = web_overview.read(uow, cohort, now)
        result = page(
            deps,
            viewer,
            "reminders.html",
            cohort=cohort,
            planned=web_reminders.scheduled(uow, cohort.id, viewer.person.id),
            recent=web_reminders.scheduled(uow, cohort.id, viewer.person.id, planned=False),
            statuses=web_reminders.STATUS_LABELS,
            items=[*open_items.polls, *open_items.rounds],
            labels=LABELS,
            writable=cohort.ended_at is None,
        )
        uow.commit()  # the flash message was shown
    return result


def cancel(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, PAGE_KEY)
        check_csrf(viewer, req)
        cohort = viewer.cohort_or(_no_cohort)
        number = _int(req.form.get("erinnerung"))
        if number is None:
            raise Refused(400, N_("Welche Erinnerung? Bitte laden Sie die Seite neu."))
        _ = viewer.formats.gettext
        session_id = viewer.session.id
        try:
            row = web_reminders.cancel(uow, number, viewer.person.id, cohort.id)
        except UserFacingError as exc:
            uow.rollback()
            message = exc.render(_)
        else:
            message = _(N_("Erinnerung Nr. {id} gelöscht."), id=row.id)
        web_login.set_flash(uow, session_id, message)
        uow.commit()
    return Page(status=303, location="/erinnerungen")


def remind_now(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, PAGE_KEY)
        check_csrf(viewer, req)
        cohort = viewer.cohort_or(_no_cohort)
        kind = req.form.get("art")
        number = _int(req.form.get("nr"))
        if kind not in ("umfrage", "feedback") or number is None:
            raise Refused(400, N_("Unbekannte Aktion. Bitte laden Sie die Seite neu."))
        chosen: Literal["umfrage", "feedback"] = "umfrage" if kind == "umfrage" else "feedback"
        _ = viewer.formats.gettext
        session_id = viewer.session.id
        what = _(LABELS[chosen], n=number)
        try:
            check_writable(PAGE_KEY, [], cohort, deps.settings.timezone)
            done = overview_nudge.nudge(
                uow,
                cohort,
                chosen,
                number,
                actor_id=viewer.person.id,
                now=now,
                settings=deps.settings,
            )
        except UserFacingError as exc:
            uow.rollback()
            message = exc.render(_)
        else:
            msgid, params = overview_nudge.report(done)
            message = _(msgid, what=what, **params)
        web_login.set_flash(uow, session_id, message)
        uow.commit()
    return Page(status=303, location="/erinnerungen")
