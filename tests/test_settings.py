from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.identity import Identity
from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for key in list(os.environ):
        if key.startswith("STADTLABOR_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.database_url.startswith("sqlite:///data/")
    assert settings.timezone == "Europe/Berlin"
    assert settings.language == "de"
    assert settings.organizers == []


def test_organizers_are_parsed_as_identities(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "STADTLABOR_ORGANIZERS", "console:anna, slack:U0123ABC,matrix:@anna:example.org"
    )
    settings = load_settings()
    assert settings.organizer_identities == [
        Identity("console", "anna"),
        Identity("slack", "U0123ABC"),
        Identity("matrix", "@anna:example.org"),
    ]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("STADTLABOR_LANGUAGE", "fr", "STADTLABOR_LANGUAGE: allowed is de or en"),
        ("STADTLABOR_TIMEZONE", "Mars/Olympus", "STADTLABOR_TIMEZONE: allowed is an IANA"),
        ("STADTLABOR_ORGANIZERS", "anna", "STADTLABOR_ORGANIZERS: allowed is comma-separated"),
        ("STADTLABOR_ORGANIZERS", "slack:anna", "STADTLABOR_ORGANIZERS"),
        ("STADTLABOR_RETENTION_DAYS", "-3", "STADTLABOR_RETENTION_DAYS"),
    ],
)
def test_invalid_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def _run(env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STADTLABOR_", "SLACK_", "MATRIX_"))
    }
    full.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "console"],
        input=stdin,
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
        cwd=ROOT,
    )


def test_invalid_setting_stops_startup_with_one_line(tmp_path: Path) -> None:
    result = _run(
        {"STADTLABOR_LANGUAGE": "fr", "STADTLABOR_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "STADTLABOR_LANGUAGE" in lines[0]


def test_unopenable_database_stops_startup_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = _run({"STADTLABOR_DATABASE_URL": f"sqlite:///{blocker}/sub/x.db"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "STADTLABOR_DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr


def test_unreachable_postgres_stops_startup_with_one_line() -> None:
    result = _run({"STADTLABOR_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
