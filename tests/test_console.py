"""The console backend driven through stdin, as a new user would run it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import build_bot
from handlers.console_app import start_console
from tests.helpers import make_settings

ROOT = Path(__file__).resolve().parents[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STADTLABOR_", "SLACK_", "MATRIX_"))
    }
    env["STADTLABOR_DATABASE_URL"] = f"sqlite:///{tmp_path}/console.db"
    env.update(extra)
    return env


def _stadtlabor(
    tmp_path: Path, stdin: str, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(tmp_path, **extra),
        timeout=60,
        cwd=tmp_path,
    )


def test_piped_help_is_german_and_exits_zero(tmp_path: Path) -> None:
    result = _stadtlabor(tmp_path, "@anna hilfe\n", "run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("[dm @anna]\n")
    assert "was Sie tun können" in result.stdout
    assert "sprache de|en" in result.stdout


def test_help_is_english_with_language_setting(tmp_path: Path) -> None:
    result = _stadtlabor(tmp_path, "@anna /stadtlabor help\n", "console", STADTLABOR_LANGUAGE="en")
    assert result.returncode == 0, result.stderr
    assert "what you can do" in result.stdout
    assert "was Sie tun können" not in result.stdout


def test_state_survives_a_second_run(tmp_path: Path) -> None:
    first = _stadtlabor(tmp_path, "@anna sprache en\n!clock +2d\n", "console")
    assert "English" in first.stdout
    clock_line = next(line for line in first.stdout.splitlines() if line.startswith("[clock]"))
    second = _stadtlabor(tmp_path, "@anna hilfe\n!clock\n", "console")
    assert "what you can do" in second.stdout  # anna's language was kept
    again = next(line for line in second.stdout.splitlines() if line.startswith("[clock]"))
    assert again >= clock_line  # the simulated clock never goes back


@pytest.mark.parametrize(
    "line",
    [
        "",
        "   ",
        "# comment",
        "ohne at",
        "@anna",
        "@anna " + "x" * 100_000,
        "@anna \x00\x07\x1b",
        '@anna umfrage "offen',
        "@anna dm:",
        "@ghost dm: hallo",
        "!clock gestern",
        "!clock +999999w",
        "@anna /stadtlabor",
        "@anna !stadtlabor hilfe",
        "@anna hilfe gibtsnicht",
    ],
)
def test_bad_input_never_crashes(tmp_path: Path, line: str) -> None:
    out = io.StringIO()
    settings = make_settings(f"sqlite:///{tmp_path}/bad.db")
    assert start_console(settings, build_bot, [line, "@anna hilfe"], out) == 0
    text = out.getvalue()
    assert "Traceback" not in text
    assert text.rstrip().endswith(
        "Schreiben Sie „hilfe BEFEHL“ für ein Beispiel, z. B. „hilfe anmelden“."
    )


def test_unknown_command_suggests_the_closest(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = make_settings(f"sqlite:///{tmp_path}/u.db")
    start_console(settings, build_bot, ["@anna hlife"], out)
    assert "Unbekannter Befehl „hlife“. Meinten Sie „hilfe“?" in out.getvalue()
    assert "„hilfe“ zeigt, was möglich ist" in out.getvalue()


def test_clock_moves_forward_and_reports(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = make_settings(f"sqlite:///{tmp_path}/c.db")
    start_console(settings, build_bot, ["!clock 2030-01-01T09:00", "!clock +3h", "!clock"], out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("[clock]")]
    assert lines == [
        "[clock] 2030-01-01T09:00+01:00",
        "[clock] 2030-01-01T12:00+01:00",
        "[clock] 2030-01-01T12:00+01:00",
    ]


def test_clock_set_into_the_past_says_so_and_keeps_the_time(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = make_settings(f"sqlite:///{tmp_path}/c.db")
    lines = ["!clock 2030-01-01T09:00", "!clock 2029-12-31T09:00", "!clock"]
    start_console(settings, build_bot, lines, out)
    text = out.getvalue()
    said = "!clock: 2029-12-31T09:00 liegt vor der simulierten Zeit (2030-01-01T09:00+01:00)"
    assert said in text
    assert "verstehe ich nicht" not in text
    assert text.rstrip().endswith("[clock] 2030-01-01T09:00+01:00")


def test_echo_prints_the_script_as_a_transcript(tmp_path: Path) -> None:
    result = _stadtlabor(tmp_path, "# Teil 1\n@anna hilfe sprache\n", "console", "--echo")
    lines = result.stdout.splitlines()
    assert lines[:3] == ["# Teil 1", "» @anna hilfe sprache", "[dm @anna]"]


def test_export_ics_on_the_command_line(tmp_path: Path) -> None:
    setup = (
        '@orga jahrgang anlegen "J1"\n@orga treffen anlegen titel="Auftakt" '
        'von="12.12.2026 10 Uhr" bis="13.12.2026 16 Uhr" ort="Hamburg"\n'
    )
    assert _stadtlabor(tmp_path, setup, "console").returncode == 0
    out = tmp_path / "j1.ics"
    result = _stadtlabor(tmp_path, "", "export", "ics", "--jahrgang", "J1", "--ausgabe", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in text and "SUMMARY:Stadtlabor: Auftakt" in text
    assert "DTSTART;TZID=Europe/Berlin:20261212T100000" in text
    missing = _stadtlabor(tmp_path, "", "export", "ics", "--jahrgang", "Gibtsnicht")
    assert missing.returncode == 2 and "J1" in missing.stderr


def test_lines_without_a_name_come_from_the_current_person(tmp_path: Path) -> None:
    """A newcomer types commands as in chat; @name switches who is typing, and sticks."""
    out = io.StringIO()
    settings = make_settings(f"sqlite:///{tmp_path}/p.db", organizers=[])
    lines = [
        'jahrgang anlegen "Probe" plaetze=2',  # "ich" creates the first cohort: organiser
        "@anna",
        'anmelden name="Anna A" kommune=Astadt funktion=Bürgermeisterin email=a@a.de zustimmung=ja',
        "dm: meine-daten",
        "@ich teilnehmende",
    ]
    assert start_console(settings, build_bot, lines, out) == 0
    text = out.getvalue()
    assert "Jahrgang „Probe“ angelegt" in text, text
    assert "Sie schreiben jetzt als @anna." in text
    assert "angemeldet: Platz 1 von 2" in text, text
    assert "[dm @anna]" in text and "Anna A" in text.split("[dm @anna]")[-1]
    assert text.count("Anna A") >= 2  # in her data and in the organiser's list
    assert "Bitte beginnen Sie die Zeile mit @name" not in text
