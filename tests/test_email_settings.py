"""E-mail settings (STADTLABOR_SMTP_URL, _MAIL_FROM, _MAIL_REPLY_TO, _MAIL_PER_MINUTE) and the
one address check (bot.mail_address.normalise)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import UserFacingError
from bot.i18n import translator
from bot.identity import Identity
from bot.mail_address import ascii_address, domain_of, normalise
from bot.settings import SettingsError, load_settings
from bot.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for key in list(os.environ):
        if key.startswith("STADTLABOR_"):
            monkeypatch.delenv(key)


def test_without_smtp_url_no_mail_is_configured() -> None:
    settings = load_settings()
    assert settings.smtp is None and settings.mail_sender is None
    assert settings.mail_per_minute == 60


def test_starttls_url_with_encoded_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTLABOR_SMTP_URL", "smtp://bot%40stadt.de:p%3Aw%2Fx@mail.stadt.de")
    monkeypatch.setenv("STADTLABOR_MAIL_FROM", "Stadtlabor <stadtlabor@example.org>")
    monkeypatch.setenv("STADTLABOR_MAIL_REPLY_TO", "team@example.org")
    monkeypatch.setenv("STADTLABOR_MAIL_PER_MINUTE", "20")
    settings = load_settings()
    assert settings.smtp == SmtpServer(
        "mail.stadt.de", 587, tls=False, starttls=True, user="bot@stadt.de", password="p:w/x"
    )
    assert "p:w/x" not in repr(settings.smtp)
    assert settings.mail_sender is not None
    assert settings.mail_sender.display_name == "Stadtlabor"
    assert settings.mail_sender.addr_spec == "stadtlabor@example.org"
    assert settings.mail_reply_address is not None
    assert settings.mail_reply_address.addr_spec == "team@example.org"
    assert settings.mail_per_minute == 20


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtps://u:p@mail.example.org",
            SmtpServer("mail.example.org", 465, True, False, "u", "p"),
        ),
        ("smtp://relay.local?starttls=false", SmtpServer("relay.local", 25, False, False)),
        (
            "smtp://relay.local:2525?starttls=true&timeout=5",
            SmtpServer("relay.local", 2525, False, True, timeout=5.0),
        ),
    ],
)
def test_smtp_url_forms(url: str, expected: SmtpServer) -> None:
    settings = load_settings(smtp_url=url, mail_from="stadtlabor@example.org")
    assert settings.smtp == expected


def test_an_umlaut_domain_in_the_sender_is_sent_as_idna() -> None:
    settings = load_settings(mail_from="Rathaus <info@rathaus-müllheim.de>")
    assert settings.mail_sender is not None
    assert settings.mail_sender.domain == "xn--rathaus-mllheim-7vb.de"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "STADTLABOR_SMTP_URL",
            "http://mail.example.org",
            "the scheme must be smtp:// or smtps://",
        ),
        ("STADTLABOR_SMTP_URL", "smtp://", "the host is missing"),
        ("STADTLABOR_SMTP_URL", "smtp://h?starttls=vielleicht", "starttls must be true or false"),
        ("STADTLABOR_SMTP_URL", "smtp://h?tls=1", "unknown parameter tls"),
        ("STADTLABOR_SMTP_URL", "smtps://h?starttls=true", "smtps:// is TLS already"),
        ("STADTLABOR_SMTP_URL", "smtp://h:99999", "not a URL"),
        ("STADTLABOR_MAIL_FROM", "stadtlabor", "STADTLABOR_MAIL_FROM"),
        ("STADTLABOR_MAIL_FROM", "Stadt\r\nBcc: x@y.de <a@b.de>", "no line breaks"),
        ("STADTLABOR_MAIL_REPLY_TO", "team@", "STADTLABOR_MAIL_REPLY_TO"),
        ("STADTLABOR_MAIL_PER_MINUTE", "0", "STADTLABOR_MAIL_PER_MINUTE: allowed is a whole"),
        ("STADTLABOR_MAIL_PER_MINUTE", "viele", "STADTLABOR_MAIL_PER_MINUTE"),
    ],
)
def test_invalid_mail_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    if variable == "STADTLABOR_SMTP_URL":
        monkeypatch.setenv("STADTLABOR_MAIL_FROM", "stadtlabor@example.org")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"Invalid setting {variable}: ")
    assert expected in message
    assert "\n" not in message and "\r" not in message


def test_an_smtp_url_needs_a_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTLABOR_SMTP_URL", "smtp://mail.example.org")
    with pytest.raises(SettingsError, match="STADTLABOR_MAIL_FROM: a sender is needed"):
        load_settings()


def test_the_password_never_appears_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTLABOR_SMTP_URL", "smtp://u:Sup3rS3cret@h?starttls=maybe")
    monkeypatch.setenv("STADTLABOR_MAIL_FROM", "stadtlabor@example.org")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "Sup3rS3cret" not in str(info.value)


def test_an_email_address_is_no_organiser_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTLABOR_ORGANIZERS", "email:anna@example.org")
    with pytest.raises(SettingsError, match="STADTLABOR_ORGANIZERS"):
        load_settings()


def test_invalid_smtp_url_stops_startup_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STADTLABOR_", "SLACK_"))}
    env.update(
        STADTLABOR_DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
        STADTLABOR_SMTP_URL="smtp://u:pw@mail.example.org?starttls=perhaps",
        STADTLABOR_MAIL_FROM="stadtlabor@example.org",
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "console"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "STADTLABOR_SMTP_URL" in lines[0]
    assert "starttls must be true or false" in lines[0]


# --- addresses ---------------------------------------------------------------------------


def test_normalise_keeps_the_address_and_lowers_the_domain() -> None:
    assert normalise("  Anna.Muster@MusterStadt.DE ") == "Anna.Muster@musterstadt.de"
    assert normalise("<anna@musterstadt.de>") == "anna@musterstadt.de"
    assert normalise("mailto:anna@musterstadt.de") == "anna@musterstadt.de"


def test_an_umlaut_domain_is_kept_and_sent_as_punycode() -> None:
    address = normalise("buergermeister@rathaus-müllheim.de")
    assert address == "buergermeister@rathaus-müllheim.de"
    assert ascii_address(address) == "buergermeister@xn--rathaus-mllheim-7vb.de"
    assert domain_of(address) == "xn--rathaus-mllheim-7vb.de"


@pytest.mark.parametrize(
    "text",
    [
        "anna",
        "anna@",
        "@musterstadt.de",
        "anna@@musterstadt.de",
        "anna muster@musterstadt.de",
        "anna@musterstadt",
        "anna@muster_stadt.de",
        "anna@musterstadt.de\r\nBcc: x@y.de",
        "a" * 250 + "@musterstadt.de",
    ],
)
def test_invalid_addresses_get_a_german_message_saying_what_to_do(text: str) -> None:
    with pytest.raises(UserFacingError) as info:
        normalise(text)
    assert "ist keine gültige E-Mail-Adresse" in str(info.value)
    assert "z. B. anna.muster@musterstadt.de" in str(info.value)
    english = info.value.render(translator("en"))
    assert "is not a valid e-mail address" in english


def test_an_empty_address_asks_for_one() -> None:
    with pytest.raises(UserFacingError, match="Bitte geben Sie eine E-Mail-Adresse an"):
        normalise("  ")


def test_email_identities() -> None:
    assert str(Identity.parse("email:anna@musterstadt.de")) == "email:anna@musterstadt.de"
    with pytest.raises(ValueError, match=r"looks like email:anna@example\.org"):
        Identity.parse("email:anna")
