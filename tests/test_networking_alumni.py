"""The alumni circle through the console, on SQLite and PostgreSQL: the question when a cohort
closes, ``alumni ja|nein``, ``wer kennt sich aus`` across cohorts, the retention purge that
keeps an alumnus' profile, and attacker-style privacy checks (nein, vergessen)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from app import Bot
from bot.clock import SimulatedClock
from bot.services.privacy import purge_expired
from tests.helpers import Driver, signup

NEW = "neu"  # the channel of the second cohort


@pytest.fixture
def driver(bot: Bot) -> Driver:
    """Cohort "Stadtlabor 2026" with anna and ben (profiles with Mobilität), closed; a second
    cohort "Stadtlabor 2027" in another channel with cara and dora."""
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026" plaetze=5')
    for user in ("anna", "ben"):
        d.say(user, signup(user))
    d.say("anna", 'profil aendern themen="ÖPNV, Pflege" vorhaben="Bürgerbus im Landkreis"')
    d.say("ben", 'profil aendern themen="Mobilität"')
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2027" plaetze=5', channel=NEW)
    for user in ("cara", "dora"):
        d.say(user, signup(user), channel=NEW)
    d.say("dora", 'profil aendern themen="Mobilität"', channel=NEW)
    return d


def _close_first(driver: Driver) -> None:
    assert "ist abgeschlossen" in driver.say("orga", "jahrgang abschliessen ja")


def _dms(driver: Driver, user: str, phrase: str) -> list[str]:
    return [
        s.text
        for s in driver.messenger.transcript
        if s.target == f"console:{user}" and phrase in s.text
    ]


def _count(bot: Bot, sql: str) -> int:
    with bot.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def test_closing_asks_each_participant_once_with_buttons(driver: Driver) -> None:
    _close_first(driver)
    for user in ("anna", "ben"):
        asked = _dms(driver, user, "Alumni-Kreis des Stadtlabors")
        assert len(asked) == 1
        assert "[Ja] → alumni ja" in asked[0] and "[Nein] → alumni nein" in asked[0]
    assert not _dms(driver, "cara", "Alumni-Kreis")  # the other cohort is still running


def test_alumni_ja_nein_and_state(driver: Driver, bot: Bot) -> None:
    early = driver.say("anna", "alumni ja", dm=True)
    assert "sobald Ihr Jahrgang abgeschlossen ist" in early
    assert _count(bot, "select count(*) from alumni") == 0
    _close_first(driver)
    assert "nicht im Alumni-Kreis. Beitreten: alumni ja" in driver.say("anna", "alumni", dm=True)
    assert "Willkommen im Alumni-Kreis" in driver.say("anna", "alumni ja", dm=True)
    assert "Jahrgang 2026" in driver.say("anna", "alumni ja", dm=True)  # twice: one row
    assert _count(bot, "select count(*) from alumni") == 1
    assert "seit" in driver.say("anna", "alumni", dm=True)
    assert "versteht „ja“ oder „nein“" in driver.say("anna", "alumni vielleicht", dm=True)
    left = driver.say("anna", "alumni nein", dm=True)
    assert "ausgetreten" in left and "Eintrag ist gelöscht" in left
    assert _count(bot, "select count(*) from alumni") == 0
    assert _count(bot, "select count(*) from alumni_topic_keys") == 0
    assert "es ist nichts gespeichert" in driver.say("anna", "alumni nein", dm=True)


def test_english_alumni(driver: Driver) -> None:
    _close_first(driver)
    driver.say("ben", "sprache en", dm=True)
    assert "Welcome to the alumni circle" in driver.say("ben", "alumni yes", dm=True)
    assert "You have left the alumni circle" in driver.say("ben", "alumni no", dm=True)


def test_who_knows_finds_alumni_after_members(driver: Driver) -> None:
    _close_first(driver)
    driver.say("anna", "alumni ja", dm=True)
    # ben did not opt in: never found by the other cohort
    answer = driver.say("cara", "wer kennt sich aus mit Mobilität", channel=NEW)
    lines = [line for line in answer.splitlines() if line.startswith("• ")]
    # equal strength (both typed or folded onto Mobilität): the current member first
    assert lines == [
        "• Dora Muster (Dorastadt) – Expertise: Mobilität",
        "• Anna Muster (Annastadt; Alumni, Jahrgang 2026) – Expertise: Mobilität",
    ]
    assert "Ben" not in answer
    care = driver.say("cara", "wer kennt sich aus mit Altenpflege", channel=NEW)
    assert "Anna Muster (Annastadt; Alumni, Jahrgang 2026) – Expertise: Pflege (verwandtes" in care
    assert "Dora" not in care
    assert 'vorstellen "Anna Muster"' in care
    # a profile change (rectification: allowed in the closed cohort's channel) reaches the
    # alumni keys at once
    assert "gespeichert" in driver.say("anna", 'profil aendern themen="Hitzeschutz"')
    assert "Anna" not in driver.say("cara", "wer kennt sich aus mit Pflege", channel=NEW)
    assert "Anna" in driver.say("cara", "wer kennt sich aus mit Klimaanpassung", channel=NEW)


def test_only_members_of_a_cohort_may_ask(driver: Driver) -> None:
    _close_first(driver)
    driver.say("anna", "alumni ja", dm=True)
    outsider = driver.say("eve", "wer kennt sich aus mit Mobilität", channel=NEW)
    assert "Anna" not in outsider


def test_purge_keeps_an_alumnus_profile_only(driver: Driver, bot: Bot) -> None:
    _close_first(driver)
    driver.say("anna", "alumni ja", dm=True)
    assert isinstance(bot.clock, SimulatedClock)
    with bot.uow_factory() as uow:
        purged = purge_expired(
            uow,
            now=bot.clock.now() + timedelta(days=400),
            retention_days=365,
            default_language="de",
        )
        uow.commit()
    assert purged == ["Stadtlabor 2026"]
    # ben's data is gone; anna keeps profile, name and route, not her registration
    assert _count(bot, "select count(*) from profiles") == 2  # anna's and dora's
    assert _count(bot, "select count(*) from persons where email = 'ben@example.org'") == 0
    assert _count(bot, "select count(*) from persons where email = 'anna@example.org'") == 1
    assert _count(bot, "select count(*) from participants where status = 'confirmed'") == 2
    answer = driver.say("cara", "wer kennt sich aus mit Pflege", channel=NEW)
    assert "Anna Muster (Annastadt; Alumni, Jahrgang 2026)" in answer
    # leaving after the retention period: everything goes at once
    gone = driver.say("anna", "alumni nein", dm=True)
    assert "alle übrigen Daten jetzt gelöscht" in gone
    assert _count(bot, "select count(*) from persons where email = 'anna@example.org'") == 0
    assert _count(bot, "select count(*) from profiles") == 1
    assert "Anna" not in driver.say("cara", "wer kennt sich aus mit Pflege", channel=NEW)


def test_meine_daten_and_vergessen_cover_the_alumni_row(driver: Driver, bot: Bot) -> None:
    _close_first(driver)
    driver.say("anna", "alumni ja", dm=True)
    driver.say("anna", "meine-daten", dm=True)
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    exported = json.loads(files[-1].content or b"")["alumni"]
    assert exported["jahrgang"] == "Stadtlabor 2026" and exported["einwilligung"] == "ja"
    assert exported["quelle"] == "cohort" and exported["jahr"] == 2026
    driver.say("anna", "vergessen ja", dm=True)
    assert _count(bot, "select count(*) from alumni") == 0
    assert _count(bot, "select count(*) from alumni_topic_keys") == 0
    for query in ("Mobilität", "ÖPNV", "Pflege", "Landkreis"):
        assert "Anna" not in driver.say("cara", f"wer kennt sich aus mit {query}", channel=NEW)


def test_an_erased_person_row_is_never_found_even_with_keys_left(driver: Driver, bot: Bot) -> None:
    """Attacker-style: even if an alumni row outlived its person's erasure (a bug elsewhere),
    the lookup refuses rows whose person is erased."""
    _close_first(driver)
    driver.say("anna", "alumni ja", dm=True)
    with bot.engine.begin() as conn:
        conn.execute(
            text("update persons set erased_at = created_at where email = :e"),
            {"e": "anna@example.org"},
        )
    assert "Anna" not in driver.say("cara", "wer kennt sich aus mit ÖPNV", channel=NEW)


def test_closed_cohort_still_reads_tandem_status_and_checkins(driver: Driver) -> None:
    _close_first(driver)
    assert "nicht mehr möglich" not in driver.say("orga", "tandems stand")
    assert "nicht mehr möglich" not in driver.say("anna", "checkins")
    assert "nicht mehr möglich" in driver.say("orga", "tandems starten")


MEETING = (
    'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr" '
    'ort="Rathaus" gastgeber="Bonn"'
)


def test_meeting_opened_for_alumni_invites_and_counts_them_apart(driver: Driver) -> None:
    _close_first(driver)
    driver.say("anna", "alumni ja", dm=True)
    driver.say("orga", MEETING, channel=NEW)
    refused = driver.say("cara", "treffen 1 oeffnen fuer alumni", channel=NEW)
    assert "Programmteam vorbehalten" in refused
    opened = driver.say("orga", "treffen 1 oeffnen fuer alumni", channel=NEW)
    assert "für Alumni geöffnet; 1 Alumni sind eingeladen" in opened
    assert "bereits für Alumni geöffnet" in driver.say(
        "orga", "treffen 1 oeffnen fuer alumni", channel=NEW
    )
    invited = _dms(driver, "anna", "Einladung für Alumni")
    assert len(invited) == 1 and "„Auftakt“" in invited[0] and "Rathaus, Bonn" in invited[0]
    assert not _dms(driver, "ben", "Einladung für Alumni")  # did not opt in
    number = invited[0].split("alumni treffen ")[1].split()[0]
    assert f"[Ja] → alumni treffen {number} ja" in invited[0]
    assert "angemeldet" in driver.say("anna", f"alumni treffen {number} ja", dm=True)
    assert "nicht im Alumni-Kreis" in driver.say("ben", f"alumni treffen {number} ja", dm=True)
    assert "Nummer aus der Einladung" in driver.say("anna", "alumni treffen eins ja", dm=True)
    overview = driver.say("orga", "teilnahme 1 uebersicht", channel=NEW)
    assert "Alumni-Gäste (nicht im Jahrgang gezählt)" in overview
    assert "Alumni, die kommen: Anna Muster (Annastadt, 2026)" in overview
    assert "Tag 1: 0 kommen" in overview  # the cohort's head count does not include her
    closed = driver.say("orga", "treffen 1 schliessen fuer alumni", channel=NEW)
    assert "nicht mehr für Alumni geöffnet; 1 eingeladene" in closed
    assert _dms(driver, "anna", "Ihre Einladung entfällt")
    assert "Alumni-Gäste" not in driver.say("orga", "teilnahme 1 uebersicht", channel=NEW)
    assert "nicht (mehr) eingeladen" in driver.say("anna", f"alumni treffen {number} nein", dm=True)
    assert "nicht für Alumni geöffnet" in driver.say(
        "orga", "treffen 1 schliessen fuer alumni", channel=NEW
    )


def test_alumni_nein_removes_meeting_answers(driver: Driver, bot: Bot) -> None:
    _close_first(driver)
    driver.say("anna", "alumni ja", dm=True)
    driver.say("orga", MEETING, channel=NEW)
    driver.say("orga", "treffen 1 oeffnen fuer alumni", channel=NEW)
    assert _count(bot, "select count(*) from alumni_guests") == 1
    driver.say("anna", "alumni nein", dm=True)
    assert _count(bot, "select count(*) from alumni_guests") == 0
    assert "Anna" not in driver.say("orga", "teilnahme 1 uebersicht", channel=NEW)


def test_alumni_room_link_by_dm_and_removal_notice(driver: Driver) -> None:
    _close_first(driver)
    driver.say("anna", "alumni ja", dm=True)
    assert "Programmteam vorbehalten" in driver.say("anna", "alumni raum #alumni", dm=True)
    assert "kein Alumni-Raum" in driver.say("orga", "alumni raum", channel=NEW)
    assert "genau einen Kanal" in driver.say("orga", "alumni raum #a #b", channel=NEW)
    done = driver.say("orga", "alumni raum #alumni", channel=NEW)
    assert "Der Alumni-Raum ist #alumni. 1 Alumni erhalten den Link" in done
    links = _dms(driver, "anna", "eigenen Raum")
    assert len(links) == 1 and "#alumni" in links[0]
    driver.say("ben", "alumni ja", dm=True)  # joining later: the link comes with the welcome
    assert len(_dms(driver, "ben", "eigenen Raum")) == 1
    assert "Alumni-Raum: #alumni" in driver.say("orga", "alumni raum", channel=NEW)
    driver.say("anna", "alumni nein", dm=True)
    notice = _dms(driver, "orga", "aus dem Alumni-Kreis ausgetreten")
    assert len(notice) == 1 and "Anna Muster" in notice[0] and "#alumni" in notice[0]
    driver.say("ben", "vergessen ja", dm=True)
    erased = _dms(driver, "orga", "mit „vergessen“ ihre Daten löschen lassen")
    assert len(erased) == 1 and "Ben" not in erased[0]  # the erasure leaves no name behind
    assert "nicht mehr festgelegt" in driver.say("orga", "alumni raum aus", channel=NEW)


def test_room_links_per_platform() -> None:
    from bot.networking.alumni import parse_room, room_link

    assert parse_room("<#C0123|alumni>") == "C0123"
    assert room_link("slack", "C0123") == "https://slack.com/app_redirect?channel=C0123"
    assert parse_room("#alumni:example.org") == "#alumni:example.org"
    assert room_link("matrix", "!abc:example.org") == "https://matrix.to/#/!abc:example.org"


IMPORT = (
    "name,kommune,email,themen,einwilligung\n"
    'Gerd Alt,Altdorf,gerd@altdorf.de,"Bürgerbus, Dorfladen",ja\n'
    "Hanna Geheim,Geheimstadt,hanna@geheim.de,Mobilität,nein\n"
    "Ida Ohne,Ohnestadt,ida@ohne.de,Pflege,NEIN\n"
)


def test_import_previews_names_errors_and_never_stores_rows_without_consent(
    driver: Driver, bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("netzwerk.csv").write_text(IMPORT, encoding="utf-8")
    Path("kaputt.csv").write_text(
        IMPORT + "Jan,Jort,keine-mail,Pflege,ja\nKai,Kort,kai@k.de,Pflege,vielleicht\n",
        encoding="utf-8",
    )
    Path("falsch.csv").write_text("name,kommune,funktion,email\n", encoding="utf-8")
    assert "muss „name,kommune,email,themen,einwilligung“" in driver.say(
        "orga", "alumni import falsch.csv", channel=NEW
    )
    broken = driver.say("orga", "alumni import kaputt.csv ja", channel=NEW)
    assert "Zeile 5: „keine-mail“ ist keine gültige E-Mail-Adresse" in broken
    assert "Zeile 6: Einwilligung ist „ja“ oder „nein“, nicht „vielleicht“" in broken
    assert "Es wurde nichts importiert" in broken
    preview = driver.say("orga", "alumni import netzwerk.csv", channel=NEW)
    assert "Mit Einwilligung: 1" in preview and "ohne Einwilligung: 2" in preview
    assert "Probelauf" in preview and "alumni import netzwerk.csv ja" in preview
    assert _count(bot, "select count(*) from alumni") == 0
    assert "Import ausgeführt" in driver.say("orga", "alumni import netzwerk.csv ja", channel=NEW)
    assert _count(bot, "select count(*) from alumni") == 1
    again = driver.say("orga", "alumni import netzwerk.csv ja", channel=NEW)
    assert "schon vorhanden: 1" in again
    assert _count(bot, "select count(*) from alumni") == 1
    found = driver.say("cara", "wer kennt sich aus mit Mobilität", channel=NEW)
    assert "Gerd Alt (Altdorf; Alumni, früheres Netzwerk) – Expertise: Mobilität" in found
    # never findable, never stored: the rows without consent
    for query in ("Mobilität", "Pflege", "Hanna", "Ida", "Geheimstadt"):
        answer = driver.say("cara", f"wer kennt sich aus mit {query}", channel=NEW)
        assert "Hanna Geheim" not in answer and "Ida Ohne" not in answer
        assert "Geheimstadt (" not in answer
    with bot.engine.connect() as conn:
        dump = " ".join(
            str(row)
            for table in ("alumni", "alumni_topic_keys", "alumni_imports", "audit_entries")
            for row in conn.execute(text(f"select * from {table}"))
        )
    assert "Hanna" not in dump and "hanna@geheim.de" not in dump and "Ida" not in dump
    members = driver.say("orga", "alumni mitglieder", channel=NEW)
    assert "Alumni-Kreis: 1 Personen" in members and "Gerd Alt (Altdorf)" in members
    assert "4 importierte Kontakte ohne Einwilligung" in members  # two imports counted


def test_imported_alumni_are_invited_by_email(
    driver: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("netzwerk.csv").write_text(IMPORT, encoding="utf-8")
    driver.say("orga", "alumni import netzwerk.csv ja", channel=NEW)
    driver.say("orga", MEETING, channel=NEW)
    assert "1 Alumni sind eingeladen" in driver.say(
        "orga", "treffen 1 oeffnen fuer alumni", channel=NEW
    )
    with driver.bot.engine.connect() as conn:
        targets = [
            str(t)
            for (t,) in conn.execute(
                text("select target from outbox where idempotency_key like 'alumni-meeting:%'")
            )
        ]
    assert len(targets) == 1 and "email:gerd@altdorf.de" in targets[0]


def test_the_privacy_notice_names_the_alumni_consent(db_url: str) -> None:
    from bot.services.welcome import privacy_notice
    from tests.helpers import make_settings

    settings = make_settings(db_url)
    assert "„alumni ja“" in privacy_notice(settings, "de")
    assert "“alumni yes”" in privacy_notice(settings, "en")


def test_an_imported_contact_is_removed_on_request(
    driver: Driver, bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("netzwerk.csv").write_text(IMPORT, encoding="utf-8")
    driver.say("orga", "alumni import netzwerk.csv ja", channel=NEW)
    assert "keinen importierten" in driver.say("orga", "alumni entfernen x@y.de", channel=NEW)
    assert "ist gelöscht" in driver.say("orga", "alumni entfernen Gerd@Altdorf.de", channel=NEW)
    assert _count(bot, "select count(*) from alumni") == 0
    assert _count(bot, "select count(*) from alumni_topic_keys") == 0
    assert "Gerd" not in driver.say("cara", "wer kennt sich aus mit Mobilität", channel=NEW)
