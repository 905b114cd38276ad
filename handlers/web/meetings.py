"""One meeting for the programme team: the agenda editor and the attendance table.

Adding, changing or deleting an agenda item runs the chat's services
(:mod:`bot.services.agenda`: the same checks and limits, and :func:`~bot.services.agenda.
changed`, which edits every posted copy of the agenda in place), so the page and
``programmpunkt …`` cannot disagree. Times are typed as HH:MM on a chosen day of the meeting
— a form needs no date parsing. A refused change shows the form again with what was typed.
"""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services import agenda, attendance, web_login, web_meeting
from bot.services.cohort_end import check_writable
from handlers.web.core import (
    Page,
    Refused,
    Viewer,
    WebDeps,
    WebRequest,
    check_csrf,
    page,
    require,
    viewer_of,
)
from handlers.web.organiser import _int, _no_cohort
from storage.uow import UnitOfWork

FIELDS = ("tag", "von", "bis", "titel", "art", "wer", "raum", "beschreibung")


def _not_found(exc: UserFacingError) -> Refused:
    return Refused(404, exc.msgid, **exc.params)


def _render(
    deps: WebDeps,
    uow: UnitOfWork,
    viewer: Viewer,
    req: WebRequest,
    *,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    editing: int | None = None,
) -> Page:
    cohort = viewer.cohort_or(_no_cohort)
    try:
        meeting = web_meeting.find(uow, cohort.id, req.match.get("nr"))
    except UserFacingError as exc:
        raise _not_found(exc) from exc
    data = web_meeting.page_data(
        uow,
        meeting,
        deps.settings.tz,
        viewer.formats.language,
        with_attendance=viewer.may("teilnahme uebersicht"),
    )
    result = page(
        deps,
        viewer,
        "meeting.html",
        meeting=data.meeting,
        span=data.span,
        days=data.days,
        items=data.items,
        rows=data.rows,
        summary=data.summary,
        kinds=agenda.KINDS,
        may_edit=viewer.may("programmpunkt"),
        error=error,
        typed=typed or {},
        editing=editing,
    )
    if error is not None:
        result.status = 400
    return result


def show(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "agenda")
        result = _render(deps, uow, viewer, req)
        uow.commit()  # the flash message was shown
    return result


def attendance_csv(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "teilnahme uebersicht")
        try:
            meeting = web_meeting.find(uow, viewer.cohort_or(_no_cohort).id, req.match.get("nr"))
        except UserFacingError as exc:
            raise _not_found(exc) from exc
        body = attendance.export_csv(uow, meeting)
        number = meeting.number
    return Page(
        body=body,
        content_type="text/csv; charset=utf-8",
        filename=f"teilnahme-treffen-{number}.csv",
    )


def change(deps: WebDeps, req: WebRequest) -> Page:
    """Add (``aktion=neu``), change (``aendern``) or delete (``loeschen``) an agenda item."""
    now = deps.clock.now()
    tz = deps.settings.tz
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "programmpunkt")
        check_csrf(viewer, req)
        cohort = viewer.cohort_or(_no_cohort)
        try:
            meeting = web_meeting.find(uow, cohort.id, req.match.get("nr"))
        except UserFacingError as exc:
            raise _not_found(exc) from exc
        action = req.form.get("aktion")
        if action not in ("neu", "aendern", "loeschen"):
            raise Refused(400, N_("Unbekannte Aktion. Bitte laden Sie die Seite neu."))
        _ = viewer.formats.gettext
        session_id = viewer.session.id
        try:
            check_writable("programmpunkt", [], cohort, deps.settings.timezone)
            msgid, title = web_meeting.apply(uow, meeting, action, req.form, tz)
            message = _(msgid, title=title)
            if agenda.changed(uow, meeting, now=now, tz=tz, default=deps.settings.language):
                message += " " + _(N_("Die gepostete Agenda wird aktualisiert."))
        except UserFacingError as exc:
            uow.rollback()
            typed = {k: req.form.get(k, "") for k in FIELDS}
            editing = _int(req.form.get("nr")) if action != "neu" else None
            error = exc.render(viewer.formats.gettext)
            return _render(deps, uow, viewer, req, error=error, typed=typed, editing=editing)
        web_login.set_flash(uow, session_id, message)
        number = meeting.number
        uow.commit()
    return Page(status=303, location=f"/treffen/{number}")
