"""Answering a prompt from its one-time link: ``GET /antwort/<token>``, ``POST /antwort``.

No login: the link is the credential for one person and one item (a poll, a meeting's
attendance question, a feedback round). The GET only shows the question with the owner's
current answer — chat platforms fetch links for previews, so a GET never changes anything.
The POST carries the token in its body with the form's CSRF value (bound to the link) and
stores the answer through the chat's services (:mod:`bot.services.web_answers`). The item
comes from the token alone: nothing in the form can name another item or person. The page
speaks the link owner's chat language.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services import web_answers
from bot.services.answer_links import LinkTarget, csrf_for, csrf_matches, resolve
from bot.services.feedback_start import MAX_QUESTIONS
from bot.services.poll_votes import VoteOutcome
from handlers.web.core import Page, Refused, WebDeps, WebRequest, error_page, formats_for
from handlers.web.render import Formats, render
from storage.uow import UnitOfWork

UNKNOWN = N_(
    "Dieser Link ist ungültig oder abgelaufen. Bitte nutzen Sie den Link genau so, wie er in "
    "Ihrer Nachricht steht, oder antworten Sie im Chat. Einen Überblick über Offenes gibt "
    "Ihnen der Bot mit „ueberblick“."
)
STALE_FORM = N_(
    "Das Formular war veraltet oder unvollständig. Bitte öffnen Sie den Link aus Ihrer "
    "Nachricht noch einmal."
)
NEEDS = {"essen": "dietary", "barrierefreiheit": "accessibility"}
MAX_DAYS = 14


def show(deps: WebDeps, req: WebRequest) -> Page:
    token = req.match.get("token", "")
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        target = _target(uow, token, now)
        formats = _formats(deps, uow, target, req)
        return _page(deps, uow, formats, target, token, now)


def answer(deps: WebDeps, req: WebRequest) -> Page:
    token = req.form.get("token", "")
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        target = _target(uow, token, now)
        formats = _formats(deps, uow, target, req)
        if not csrf_matches(token, req.form.get("csrf")):
            return error_page(deps, formats, 403, formats.gettext(STALE_FORM))
        try:
            notice = _store(deps, uow, formats, target, req)
        except UserFacingError as exc:
            uow.rollback()
            problem = exc.render(formats.gettext)
            return _page(
                deps, uow, formats, target, token, now, problem=problem, status=400, typed=req.form
            )
        uow.commit()
        return _page(deps, uow, formats, target, token, now, notice=notice)


def _target(uow: UnitOfWork, token: str, now: datetime) -> LinkTarget:
    from_link = resolve(uow, token, now)
    if from_link is None:
        raise Refused(403, UNKNOWN)
    return from_link


def _formats(deps: WebDeps, uow: UnitOfWork, target: LinkTarget, req: WebRequest) -> Formats:
    """The owner's chat language; a sealed link (no owner any more) follows the browser."""
    person = uow.persons.get(target.person_id) if target.person_id is not None else None
    if person is None:
        return formats_for(deps, None, req.accept_language)
    return formats_for(deps, person.language or "", req.accept_language)


def _store(
    deps: WebDeps, uow: UnitOfWork, formats: Formats, target: LinkTarget, req: WebRequest
) -> str:
    """Store the posted answer through the chat's service; the confirmation to show."""
    now = deps.clock.now()
    if target.kind == "umfrage":
        withdraw = req.form.get("aktion") == "zurueckziehen"
        positions = () if withdraw else _positions(req)
        outcome = web_answers.vote(uow, target, positions, now, deps.settings, withdraw=withdraw)
        return _vote_text(formats, outcome)
    if target.kind == "feedback":
        return _feedback(deps, uow, formats, target, req)
    coming = req.form.get("aktion") != "absagen"
    days = _days(req) if coming else ()
    if coming and not days:
        raise UserFacingError(
            N_(
                "Bitte kreuzen Sie die Tage an, an denen Sie kommen – oder wählen Sie "
                "„Ich komme nicht“."
            )
        )
    meeting, _row = web_answers.attend(uow, target, days, _needs(req), now)
    if not days:
        return formats.gettext(
            N_("Treffen {n} „{title}“: Sie sagen ab."), n=meeting.number, title=meeting.title
        )
    return formats.gettext(
        N_("Treffen {n} „{title}“: Sie kommen (Tag {days})."),
        n=meeting.number,
        title=meeting.title,
        days=", ".join(str(d) for d in days),
    )


def _feedback(
    deps: WebDeps, uow: UnitOfWork, formats: Formats, target: LinkTarget, req: WebRequest
) -> str:
    """The answers, one field per question (``antwort-1`` …); the count is checked by the
    chat's service (every question answered, the length limit)."""
    given = [
        req.form[f"antwort-{i}"] for i in range(1, MAX_QUESTIONS + 1) if f"antwort-{i}" in req.form
    ]
    done = web_answers.give_feedback(uow, target, given, deps.clock.now(), deps.settings)
    if done.edited:
        return formats.gettext(N_("Ihre Antworten sind geändert."))
    return formats.gettext(N_("Danke! Ihre Antworten sind gespeichert."))


def _numbers(req: WebRequest, prefix: str, limit: int) -> tuple[int, ...]:
    """Checked boxes named ``<prefix><n>``; anything else in the form is ignored."""
    found = set()
    for name in req.form:
        rest = name.removeprefix(prefix)
        if rest != name and rest.isascii() and rest.isdigit() and 1 <= int(rest) <= limit:
            found.add(int(rest))
    return tuple(sorted(found))


def _positions(req: WebRequest) -> tuple[int, ...]:
    single = req.form.get("option", "")
    if single:
        if not (single.isascii() and single.isdigit() and len(single) < 4):
            raise UserFacingError(N_("Bitte wählen Sie eine der Optionen aus."))
        return (int(single),)
    return _numbers(req, "option-", 99)


def _days(req: WebRequest) -> tuple[int, ...]:
    return _numbers(req, "tag-", MAX_DAYS)


def _needs(req: WebRequest) -> dict[str, str | bool | None]:
    needs: dict[str, str | bool | None] = {
        field: req.form[key].strip() or None for key, field in NEEDS.items() if key in req.form
    }
    overnight = req.form.get("uebernachtung")
    if overnight in ("ja", "nein"):
        needs["overnight"] = overnight == "ja"
    return needs


def _vote_text(formats: Formats, outcome: VoteOutcome) -> str:
    """The chat's receipt texts (bot/commands/polls.py), without the poll's number."""
    labels = outcome.labels
    choice = ", ".join(f"{p}. {labels[p]}" for p in outcome.positions)
    if outcome.status == "neu":
        return formats.gettext(N_("Ihre Stimme ist gezählt: {choice}"), choice=choice)
    if outcome.status == "geaendert":
        return formats.gettext(N_("Ihre Stimme ist geändert: {choice}"), choice=choice)
    if outcome.status == "zurueckgezogen":
        return formats.gettext(N_("Ihre Stimme ist zurückgezogen."))
    return formats.gettext(N_("Unverändert: {choice}"), choice=choice or "–")


def _page(
    deps: WebDeps,
    uow: UnitOfWork,
    formats: Formats,
    target: LinkTarget,
    token: str,
    now: datetime,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status: int = 200,
    typed: Mapping[str, str] | None = None,
) -> Page:
    """The page; ``typed``: a refused form's fields, shown again (nothing typed is lost)."""
    try:
        shown = web_answers.view(uow, target, now, deps.settings, formats.language)
    except UserFacingError as exc:
        return error_page(deps, formats, 410, exc.render(formats.gettext))
    html = render(
        deps.templates,
        "answer.html",
        formats,
        viewer=None,
        link=shown,
        token=token,
        link_csrf=csrf_for(token),
        notice=notice,
        problem=problem,
        threshold=deps.settings.anonymity_threshold,
        typed=typed or {},
    )
    return Page(status=status, html=html)
