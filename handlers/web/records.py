"""The programme team's records: the audit log (``protokoll``) and the feedback rounds with
their exports (``export feedback N``) — the chat's services, the chat's permission rows."""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.services import audit, feedback_export
from bot.services import feedback as fb
from handlers.web.core import Page, Refused, WebDeps, WebRequest, page, require, viewer_of
from handlers.web.organiser import _int, _no_cohort

AUDIT_LIMIT = 200
EXPORTS = {"md": "text/markdown; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def audit_log(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "protokoll")
        cohort = viewer.cohort_or(_no_cohort)
        entries = audit.lines(uow, cohort.id, limit=AUDIT_LIMIT)
        result = page(
            deps, viewer, "audit.html", cohort=cohort, entries=entries, system=audit.SYSTEM
        )
        uow.commit()  # the flash message was shown
    return result


def rounds(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "export feedback")
        cohort = viewer.cohort_or(_no_cohort)
        language = viewer.formats.language
        infos = [
            fb.info(uow, rnd, language, deps.settings)
            for rnd in sorted(uow.feedback_rounds.of_cohort(cohort.id), key=lambda r: -r.number)
        ]
        result = page(deps, viewer, "feedback.html", cohort=cohort, infos=infos, now=now)
        uow.commit()
    return result


def round_export(deps: WebDeps, req: WebRequest) -> Page:
    """``/feedback/N.md`` or ``.csv``: the files ``export feedback N`` sends."""
    now = deps.clock.now()
    kind = req.match.get("format", "")  # the route admits md and csv only
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "export feedback")
        cohort = viewer.cohort_or(_no_cohort)
        number = _int(req.match.get("nr"))
        try:
            rnd = fb.get_round(uow, cohort, number or 0)
        except UserFacingError as exc:
            raise Refused(404, exc.msgid, **exc.params) from exc
        _count, files = feedback_export.files(
            uow, rnd, viewer.formats.language, deps.settings, viewer.formats.gettext
        )
    name, body = next((n, b) for n, b in files if n.endswith("." + kind))
    return Page(body=body, content_type=EXPORTS.get(kind, "text/plain"), filename=name)
