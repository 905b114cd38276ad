"""``GET /healthz``: database reachable, outbox backlog, scheduler leader (PostgreSQL), as
:mod:`bot.services.health` reads them; 503 when the database does not answer."""

from __future__ import annotations

import json

from bot.services import health
from handlers.web.core import Page, WebDeps, WebRequest


def healthz(deps: WebDeps, _req: WebRequest) -> Page:
    report = health.report(deps.uow_factory)
    ok = bool(report["database"])
    return Page(
        status=200 if ok else 503,
        body=json.dumps({"ok": ok, **report}).encode(),
        content_type="application/json",
    )
