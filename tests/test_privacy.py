"""DSGVO: access, rectification, erasure (with a scan of every table), retention; CSV import."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from app import Bot
from bot.clock import SimulatedClock
from bot.services.participants import safe_cell
from storage.models import Person
from tests.helpers import Driver, signup


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Datenschutz" plaetze=2')
    return d


def _dump(bot: Bot) -> str:
    """Every value in every table, as one text."""
    meta = MetaData()
    meta.reflect(bot.engine)
    parts = []
    with bot.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(parts)


def test_my_data_sends_everything_by_dm(driver: Driver) -> None:
    driver.say("anna", signup("anna", bueroleitung='"Frau Büro"'))
    answer = driver.say("anna", "meine-daten")
    assert "Direktchat" in answer
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    assert files and files[-1].target == "console:anna" and files[-1].filename == "meine-daten.json"
    assert files[-1].content is not None
    data = json.loads(files[-1].content)
    assert data["person"]["email"] == "anna@example.org"
    assert data["kennungen"] == ["console:anna"]
    assert data["anmeldungen"][0]["bueroleitung"] == "Frau Büro"
    assert "Anna Muster" in files[-1].text  # the readable summary travels with the file
    assert "Geändert: email=neu@example.org" in driver.say(
        "anna", "meine-daten aendern email=neu@example.org"
    )
    assert "keine gültige" in driver.say("anna", "meine-daten aendern email=kaputt")
    driver.say("anna", "meine-daten")
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    assert json.loads(files[-1].content or b"")["person"]["email"] == "neu@example.org"


def test_forget_erases_the_person_from_every_table(driver: Driver, bot: Bot) -> None:
    driver.say("anna", signup("anna", name='"Annegret Vergessen"', email="annegret@vergessen.de"))
    driver.say("ben", signup("ben"))
    driver.say("cara", signup("cara"))  # waitlisted: moves up when Annegret goes
    driver.say("orga", "gastgeber @anna ja")
    driver.say("orga", 'ankuendigen "Willkommen, Annegret Vergessen!" sofort')
    before = _dump(bot)
    assert "Annegret Vergessen" in before and "annegret@vergessen.de" in before
    assert "Wirklich alles löschen" in driver.say("anna", "vergessen")
    assert "Annegret Vergessen" in _dump(bot)  # nothing happened without the confirmation
    assert "gelöscht" in driver.say("anna", "vergessen ja")
    after = _dump(bot)
    for secret in ("Annegret Vergessen", "annegret@vergessen.de", "console:anna"):
        assert secret not in after, secret
    # the seat went to the waitlist, and the bot edits its own post that named her
    assert any("Platz frei geworden" in t for t in driver.messenger.texts("dm"))
    edits = [s for s in driver.messenger.transcript if s.kind == "update"]
    assert edits and "Annegret" not in edits[-1].text and "Person-" in edits[-1].text
    assert "Cara Muster" in driver.say("orga", "teilnehmende")
    log = driver.say("orga", "protokoll")
    assert "vergessen" in log and "Person-" in log and "Annegret" not in log
    # she is a stranger now: a new first contact starts from nothing
    assert "nicht angemeldet" in driver.say("anna", "abmelden")


def test_retention_purges_after_the_cohort_ends(driver: Driver, bot: Bot) -> None:
    from bot.services.privacy import purge_expired

    driver.say("anna", signup("anna"))
    assert "wirklich abschließen" in driver.say("orga", "jahrgang abschliessen")
    assert "abgeschlossen" in driver.say("orga", "jahrgang abschliessen ja")
    assert isinstance(bot.clock, SimulatedClock)
    with bot.uow_factory() as uow:
        assert (
            purge_expired(
                uow,
                now=bot.clock.now() + timedelta(days=364),
                retention_days=365,
                default_language="de",
            )
            == []
        )
        assert purge_expired(
            uow,
            now=bot.clock.now() + timedelta(days=366),
            retention_days=365,
            default_language="de",
        ) == ["Datenschutz"]
        uow.commit()
    dump = _dump(bot)
    assert "anna@example.org" not in dump and "aufbewahrung.loeschen" in dump


def test_csv_import_dry_run_broken_rows_and_execute(
    driver: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the console reads files relative to its directory only
    good = Path("gut.csv")
    good.write_text(
        "name,kommune,funktion,email\nAnna,Aort,Bürgermeisterin,a@x.de\n"
        "Ben,Bort,Beigeordneter,b@x.de\n",
        encoding="utf-8",
    )
    bad = Path("kaputt.csv")
    bad.write_text(
        "name,kommune,funktion,email\nAnna,Aort,Bürgermeisterin,a@x.de\n"
        f"Ben,Bort,{'Amt ' * 30},b@x.de\nCara,Cort,Stabsstelle,kein-mail\n",  # function > 100
        encoding="utf-8",
    )
    report = driver.say("orga", f"import teilnehmende {bad} ja")
    assert "Zeile 3" in report and "Zeile 4" in report and "nichts importiert" in report
    assert "Noch niemand" in driver.say("orga", "teilnehmende")
    dry = driver.say("orga", f"import teilnehmende {good}")
    assert "Neu: 2" in dry and "Probelauf" in dry
    assert "Noch niemand" in driver.say("orga", "teilnehmende")
    assert "Import ausgeführt" in driver.say("orga", f"import teilnehmende {good} ja")
    roster = driver.say("orga", "teilnehmende")
    assert "Anna – Aort – Bürgermeisterin" in roster and "Ben – Bort" in roster  # as typed
    assert "unverändert: 2" in driver.say("orga", f"import teilnehmende {good}")
    assert "nicht lesen" in driver.say("orga", "import teilnehmende nicht-da.csv")


def test_export_is_safe_against_formula_injection(driver: Driver) -> None:
    driver.say("anna", signup("anna", name='"=HYPERLINK(\\"http://x\\")"', kommune='"+1"'))
    driver.say("orga", "export teilnehmende")
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    assert files[-1].target == "console:orga"
    rows = list(csv.reader(io.StringIO((files[-1].content or b"").decode("utf-8-sig"))))
    assert rows[0][:4] == ["name", "kommune", "funktion", "email"]
    assert rows[1][0].startswith("'=") and rows[1][1] == "'+1"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("Anna") == "Anna"


def test_erasing_a_short_handle_leaves_other_words_alone(driver: Driver, bot: Bot) -> None:
    driver.say("ben", signup("ben"))
    driver.say("orga", 'ankuendigen "Bitte geben Sie Feedback, Ben Muster und alle anderen" sofort')
    driver.say("ben", "vergessen ja")
    posts = [s.text for s in driver.messenger.transcript if s.kind == "update"]
    assert posts and "Bitte geben Sie Feedback" in posts[-1]
    assert "Ben Muster" not in posts[-1] and "Person-" in posts[-1]
    assert "Ben Muster" not in _dump(bot) and "ben@example.org" not in _dump(bot)


def test_forget_after_a_whole_year_leaves_no_trace(driver: Driver, bot: Bot) -> None:
    """Registration, attendance, a topic, a named vote, named feedback and a reminder."""
    secret_name, secret_mail = "Hildegard Geheim", "hildegard@geheim.de"
    driver.say("hilde", signup("hilde", name=f'"{secret_name}"', email=secret_mail))
    driver.say("ben", signup("ben"))
    assert "Verstanden" in driver.say(
        "orga",
        'treffen anlegen titel="Auftakt" von="10.12.2026 10 Uhr" '
        'bis="11.12.2026 16 Uhr" ort="Hamburg"',
    )
    driver.say("hilde", 'teilnahme 1 ja essen="Hildegards Spezialdiät"')
    driver.say("hilde", 'thema vorschlagen "Hildegards Quartier"')
    driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" sofort')
    driver.say("hilde", "abstimmen 1 2")
    driver.say("orga", 'feedback starten titel="Musterstadt" fuer=@ben bis="übermorgen" sofort')
    driver.say("hilde", "feedback 1 antworten 1. Gut 2. Risiko 3. Rat von Hildegard", dm=True)
    driver.say("hilde", "erinnern morgen 9 Uhr; Hildegard denkt an die Anreise", dm=True)
    data = driver.say("hilde", "meine-daten")
    assert "Direktchat" in data
    driver.say("orga", "export teilnehmende")  # a file naming her, sent to someone else
    before = _dump(bot)
    assert secret_name in before and secret_mail in before and "Spezialdiät" in before
    assert "gelöscht" in driver.say("hilde", "vergessen ja")
    # the corrections went out (flushed); the next tick drops the rows that carried them
    bot.due.run_due(bot.clock.now())
    after = _dump(bot)
    after += "".join(
        base64.b64decode(b64).decode("utf-8", "replace")
        for b64 in re.findall(r"'content_b64': '([A-Za-z0-9+/=]+)'", after)
    )
    for secret in (
        secret_name,
        secret_mail,
        "console:hilde",
        "Spezialdiät",
        "Hildegard denkt an die Anreise",
    ):
        assert secret not in after, secret


def test_forget_typed_again_leaves_no_new_person_behind(driver: Driver, bot: Bot) -> None:
    """Typed again after the erasure (its answer lost, say) — or by a stranger — "vergessen
    ja" finds nothing to erase and keeps nothing: no new person, no second pseudonym."""
    driver.say("anna", signup("anna"))
    assert "gelöscht" in driver.say("anna", "vergessen ja")
    with bot.uow_factory() as uow:
        persons = uow.session.scalars(select(Person)).all()
        count, pseudonyms = len(persons), [p.pseudonym for p in persons if p.pseudonym]
    assert "nichts gespeichert" in driver.say("anna", "vergessen ja")
    assert "nichts gespeichert" in driver.say("fremd", "vergessen ja")
    with bot.uow_factory() as uow:
        persons = uow.session.scalars(select(Person)).all()
        assert len(persons) == count
        assert [p.pseudonym for p in persons if p.pseudonym] == pseudonyms
        assert uow.persons.get_by_identity("console", "anna") is None
    assert "console:anna" not in _dump(bot)
