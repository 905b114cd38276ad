"""The answer links in a real headless Chromium: a participant answers a poll (keyboard only),
the attendance question and a feedback round from the links in the bot's DMs, without
logging in; every page passes axe-core (no serious or critical violation), loads nothing from
elsewhere, has no script and stays under 100 KB (the checks of test_web_browser.py)."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from app import Bot
from handlers.web.app import WebServer
from tests.helpers import Driver
from tests.web.support import world
from tests.web.test_web_answers import answer_link
from tests.web.test_web_browser import (  # noqa: F401  (fixtures)
    Checks,
    _browser,
    _press_enter,
    _status,
    _tab_to,
    axe_source,
    site,
)


def _tab_to_radio(browser: WebDriver, limit: int = 40) -> None:
    for _ in range(limit):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.switch_to.active_element.get_attribute("type") == "radio":
            return
    raise AssertionError("no radio button reachable with Tab")


def test_a_participant_answers_poll_attendance_and_feedback_by_link(
    site: tuple[Bot, WebServer],  # noqa: F811
    axe_source: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    bot, server = site
    driver = Driver(bot)
    world(driver)
    driver.say(
        "orga", 'umfrage "Welches Thema zuerst?" "Wohnen" "Mobilität" bis="Freitag 12 Uhr" sofort'
    )
    driver.say("orga", 'treffen anlegen titel="Auftakt" von="1.3.2027 10:00" bis="2.3.2027 16:00"')
    driver.say("orga", "nachfassen umfrage 1")
    poll = answer_link(driver, "anna")
    driver.say("orga", "nachfassen teilnahme 1")
    meeting = answer_link(driver, "anna")
    driver.say("orga", 'feedback starten titel="Quartier" fuer=@bert bis="in 7 Tagen" sofort')
    feedback = answer_link(driver, "anna")
    assert poll.startswith(server.url + "/antwort/")
    browser = _browser()
    try:
        checks = Checks(browser, server.url, axe_source, tmp_path)
        browser.get(poll)
        checks.page("antwort-umfrage")
        _tab_to_radio(browser)  # keyboard only: the first option, then the second
        ActionChains(browser).send_keys(Keys.ARROW_DOWN).perform()
        _tab_to(browser, "Abstimmen")
        _press_enter(browser)
        assert _status(browser) == "Ihre Stimme ist gezählt: 2. Mobilität"
        checks.page("antwort-umfrage-gezaehlt")

        browser.get(meeting)
        checks.page("antwort-teilnahme")
        browser.find_element(By.ID, "essen").send_keys("vegetarisch")
        browser.find_element(By.CSS_SELECTOR, "button.primary").click()
        assert _status(browser) == "Treffen 1 „Auftakt“: Sie kommen (Tag 1, 2)."

        browser.get(feedback)
        for i in (1, 2, 3):
            browser.find_element(By.ID, f"antwort-{i}").send_keys(f"Antwort {i}")
        checks.page("antwort-feedback")
        browser.find_element(By.CSS_SELECTOR, "button.primary").click()
        assert _status(browser) == "Danke! Ihre Antworten sind gespeichert."
    finally:
        browser.quit()
    assert "Sie kommen (Tag 1, 2). Essen: vegetarisch" in driver.say("anna", "teilnahme 1")
    assert "Sie haben abgestimmt" in driver.say("anna", "umfragen")
