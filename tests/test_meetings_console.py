"""End to end through the console backend: a meeting with a two-day agenda, posted, edited,
answered, summarised, exported and reminded — one scripted run of ``app.py console``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from icalendar import Calendar

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
@orga jahrgang anlegen "Stadtlabor 2026/27" plaetze=5
@anna anmelden name="Anna Muster" kommune=Annastadt funktion=Stabsstelle email=a@example.org zustimmung=ja
@ben anmelden name="Ben Muster" kommune=Benstadt funktion=Stabsstelle email=b@example.org zustimmung=ja
@orga treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr" ort="Hamburg, KörberForum" gastgeber="Musterstadt"
@orga programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung" art=Input wer="Programmteam"
@orga programmpunkt 1 tag=2 von="9 Uhr" bis="12 Uhr" titel="Vor-Ort-Besuch Musterstadt" art=Vor-Ort-Besuch
@orga agenda posten
@orga programmpunkt 1 1 verschieben von="10:30"
@anna teilnahme 1 ja essen=vegetarisch uebernachtung=ja
@ben teilnahme 1 tag2
@orga teilnahme 1 uebersicht
@orga export teilnahme 1
@anna kalender
!clock 2027-03-26T09:00
""".lstrip()  # noqa: E501


def test_console_meeting_year(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STADTLABOR_", "SLACK_", "MATRIX_"))
    }
    env["STADTLABOR_DATABASE_URL"] = f"sqlite:///{tmp_path}/console.db"
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "console"],
        input=SCRIPT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr and "Fehler aufgetreten" not in out
    assert "Treffen 1 „Auftakt“ ist angelegt" in out
    assert "[#stadtlabor] (#" in out and "bearbeitet/edited)" in out
    edited = out[out.index("bearbeitet/edited)") :]
    assert "1. 10:30–12:00 Begrüßung (Input; Programmteam)" in edited
    assert "Agenda geändert" in out  # the note in the thread
    assert "Tag 1: 1 kommen" in out and "Tag 2: 2 kommen" in out
    assert "--- teilnahme-treffen-1.csv ---" in out and "Anna Muster,Annastadt,ja" in out
    ics = out[
        out.index("--- stadtlabor.ics ---\n") + 23 : out.index("--- end ---", out.index(".ics"))
    ]
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert event.decoded("DTSTART").isoformat() == "2027-03-27T10:00:00+01:00"
    assert event.decoded("DTEND").isoformat() == "2027-03-28T16:00:00+02:00"
    assert "Morgen beginnt Treffen 1" in out  # the recap DM the day before
