"""A whole anonymous round typed into the console backend, clock jumps included."""

from __future__ import annotations

import io
from pathlib import Path

from app import build_bot
from handlers.console_app import start_console
from tests.helpers import make_settings

PEOPLE = {"anna": "Musterstadt", "ben": "Beispielheim", "cara": "Testdorf", "dora": "Probstadt"}


def script() -> list[str]:
    lines = ["!clock 2030-01-07T09:00", '@orga jahrgang anlegen "Stadtlabor 2030" plaetze=10']
    for user, town in PEOPLE.items():
        lines.append(
            f'@{user} anmelden name="{user.title()} Muster" kommune="{town}" '
            f"funktion=Bürgermeisterin email={user}@example.org zustimmung=ja"
        )
    lines.append(
        '@orga feedback starten titel="Schulcampus" fuer=Musterstadt bis="11.1.2030" anonym sofort'
    )
    lines += [f"@{u} dm: 1. Idee-{u} 2. Risiko-{u} 3. Rat-{u}" for u in ("ben", "cara", "dora")]
    lines += ["!clock +2d", "!clock +3d", "@orga export feedback 1"]
    return lines


def blocks(text: str) -> list[tuple[str, str]]:
    """(header, body) of every printed message."""
    parts = text.split("\n\n")
    return [(p.split("\n", 1)[0], p.split("\n", 1)[-1]) for p in parts if p.startswith("[")]


def test_anonymous_round_through_the_console(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = make_settings(f"sqlite:///{tmp_path}/f.db", organizers="console:orga")
    assert start_console(settings, build_bot, script(), out) == 0
    text = out.getvalue()
    assert "Traceback" not in text
    assert "Freitag, 11. Januar 2030, 23:59 Uhr" in text  # a date alone: 23:59
    threads = [body for head, body in blocks(text) if head.startswith("[thread")]
    assert any("Gruppe 1, 3 Antworten" in t for t in threads)
    assert any("3 von 3 Eingeladenen" in t for t in threads)
    assert text.count("Erinnerung:") == 0  # everyone answered before the reminders
    to_anna = [body for head, body in blocks(text) if head.startswith("[dm @anna]")]
    assert any("Idee-ben" in b and "Idee-dora" in b for b in to_anna)
    for head, body in blocks(text):
        if not head.startswith(("[dm @ben", "[dm @cara", "[dm @dora")):
            for user in ("ben", "cara", "dora"):
                assert f"{user.title()} Muster" not in body, head
