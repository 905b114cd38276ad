"""Closing a poll on the page: a confirmation page, then the chat's close.

``POST /umfragen/schliessen`` with the poll's number shows the question "really close?";
the same form with ``bestaetigt=ja`` closes through :func:`bot.services.web_polls.close` —
the chat's permission rule (programme team or the poll's creator), the chat's
:func:`~bot.services.poll_close.close_poll` with its audit entry and result post. The poll
number travels in the POST body, as for the CSV export.
"""

from __future__ import annotations

from bot.errors import PermissionDenied, UserFacingError
from bot.i18n import N_
from bot.services import polls as polls_service
from bot.services import web_login, web_polls
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

CLOSED = N_("Umfrage {number} ist geschlossen; das Ergebnis steht im Kanal.")
ALREADY = N_("Umfrage {number} ist bereits geschlossen.")


def close(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "umfrage schliessen")
        check_csrf(viewer, req)
        cohort = viewer.cohort_or(_no_cohort)
        number = _int(req.form.get("umfrage"))
        if number is None:
            raise Refused(400, N_("Welche Umfrage? Bitte laden Sie die Seite neu."))
        try:
            poll = polls_service.get_poll(uow, cohort.id, number)
        except UserFacingError as exc:
            raise Refused(404, exc.msgid, **exc.params) from None
        try:
            web_polls.may_close(poll, viewer.person)
        except PermissionDenied as exc:
            raise Refused(403, exc.msgid, **exc.params) from None
        _ = viewer.formats.gettext
        session_id = viewer.session.id
        if poll.closed_at is not None:
            message = _(ALREADY, number=number)  # twice: say so, change nothing
        elif req.form.get("bestaetigt") != "ja":
            result = page(deps, viewer, "poll_close.html", poll=poll)
            uow.commit()
            return result
        else:
            try:
                check_writable("umfrage schliessen", [], cohort, deps.settings.timezone)
                web_polls.close(uow, poll, viewer.person, now=now, settings=deps.settings)
            except UserFacingError as exc:
                uow.rollback()
                message = exc.render(viewer.formats.gettext)
            else:
                message = _(CLOSED, number=number)
        web_login.set_flash(uow, session_id, message)
        uow.commit()
    return Page(status=303, location=f"/umfragen#u{number}")
