"""`make demo`: the scripted Stadtlabor year runs through the console and shows every feature."""

from __future__ import annotations

import io
from pathlib import Path

from app import build_bot
from handlers.console_app import start_console
from tests.helpers import make_settings

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "demo" / "jahr.txt"


def test_the_demo_year_runs_without_a_single_error(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = make_settings(f"sqlite:///{tmp_path}/demo.db", organizers="console:orga")
    lines = SCRIPT.read_text(encoding="utf-8").splitlines()
    assert start_console(settings, build_bot, lines, out, echo=True) == 0
    text = out.getvalue()
    for failure in (
        "Unbekannter Befehl",
        "Entschuldigung",
        "Traceback",
        "gibt es nicht",
        "liegt in der Vergangenheit",
        "vorbehalten",
        "nicht verstanden",
    ):
        assert failure not in text, failure
    for milestone in (
        "Warteliste (Position 1)",  # 21 registrations for 20 seats
        "Programmpunkt geändert",  # the agenda post is edited in place …
        "bearbeitet/edited",
        "Zugticket nach Hamburg ausdrucken",  # a reminder fires
        "Umfrage 1 ist geschlossen",  # the poll closes at its deadline
        "Ihre Teilnahme ist jetzt bestätigt",  # the waitlist moves up
        "--- feedback-1.csv ---",  # the feedback export
        "--- meine-daten.json ---",  # data export
        "Ihre Daten sind gelöscht",  # erasure
    ):
        assert milestone in text, milestone
