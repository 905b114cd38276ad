"""``vergessen``: the words of a person's named feedback answers are gone everywhere — every
table, every outbox row, the latest version of every posted message — open or closed round."""

from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import MetaData, select

from app import Bot
from bot.i18n import translator
from bot.services import feedback_views as views
from tests.helpers import Driver, signup
from tests.test_feedback import START_NAMED, driver  # noqa: F401

ANSWER = "1. Rat von Hildegard Zwiebelmeier\n2. Bauhof-Geheimtipp\n3. Zwiebelturm-Idee"
EDITED = "feedback 1 antworten 1. Rat von Hildegard Zwiebelmeier\n2. Bauhof-Neu\n3. Zwiebelturm"
HER_WORDS = ("Rat von", "Bauhof-", "Zwiebelturm", "Zwiebelmeier")
MARKER = "[auf Wunsch gelöscht]"


def dump(bot: Bot) -> str:
    """Every value in every table, files (base64 in the outbox) decoded."""
    meta = MetaData()
    meta.reflect(bot.engine)
    parts = []
    with bot.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    text = "\n".join(parts)
    for b64 in re.findall(r'"content_b64": "([A-Za-z0-9+/=]+)"', text.replace("\\", "")):
        text += base64.b64decode(b64).decode("utf-8", "replace")
    return text


def latest_versions(driver: Driver) -> dict[str, str]:  # noqa: F811
    """What each posted message shows now: its last post or edit."""
    shown: dict[str, str] = {}
    for sent in driver.messenger.transcript:
        if sent.ref is not None and sent.kind in ("post", "thread", "update"):
            shown[sent.ref.message_id] = sent.text
    return shown


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_forget_replaces_the_words_of_named_answers(
    driver: Driver,  # noqa: F811
    closed: bool,
) -> None:
    driver.say("hilde", signup("hilde", name='"Hildegard Zwiebelmeier"'))
    driver.say("orga", START_NAMED)
    driver.say("ben", "1. Idee-ben\n2. Risiko-ben\n3. Rat-ben", dm=True)
    assert "gespeichert" in driver.say("hilde", ANSWER, dm=True)
    assert "aktualisiert" in driver.say("hilde", EDITED, dm=True)
    if closed:
        driver.say("orga", "feedback 1 schliessen")
        driver.say("orga", "export feedback 1")
        to_anna = [s for s in driver.messenger.transcript if s.target == "console:anna"]
        assert to_anna and "Bauhof-Neu" in to_anna[0].text
    before = dump(driver.bot)
    assert all(word in before for word in HER_WORDS)  # the scan sees what it looks for

    assert "gelöscht" in driver.say("hilde", "vergessen ja")
    driver.flush()

    after = dump(driver.bot)
    for word in HER_WORDS:
        assert word not in after, word
    now_shown = latest_versions(driver)
    for text in now_shown.values():
        assert not any(word in text for word in HER_WORDS), text[:300]
    erased_posts = [t for t in now_shown.values() if MARKER in t]
    assert len(erased_posts) == 1 and "(gelöschte Person)" in erased_posts[0]
    assert any("Idee-ben" in t and "Ben Muster" in t for t in now_shown.values())

    driver.messenger.transcript.clear()
    driver.say("orga", "export feedback 1")
    files = {s.filename: (s.content or b"").decode() for s in driver.messenger.transcript}
    assert f"(gelöschte Person),{MARKER},{MARKER},{MARKER}" in files["feedback-1.csv"]
    assert "Ben Muster (Benstadt),Idee-ben" in files["feedback-1.csv"]
    assert not any(word in files["feedback-1.md"] for word in HER_WORDS)


def test_the_marker_is_english_for_english_readers() -> None:
    assert translator("en")(views.ERASED) == "[deleted on request]"
    assert translator("de")(views.ERASED) == MARKER
