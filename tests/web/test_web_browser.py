"""End to end in a real headless Chromium (Debian's chromium + chromedriver, Selenium).

An organiser gets the link from the bot's DM (the transcript the console prints), logs in
and confirms a registration using the keyboard alone; a participant opens "Mein Stadtlabor".
On every page axe-core (tests/web/node_modules, from package-lock.json) must report no
serious or critical violation, the page must not load anything from another host, its
weight (HTML + CSS) must stay under 100 KB, and it contains no script. A second browser with
JavaScript switched off logs in and confirms too (the pages work without JavaScript).

Screenshots go to the test's folder; with STADTLABOR_WEB_SCREENSHOTS=DIR also to DIR (the
ones in docs/web/ were made so).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from app import Bot, build_bot
from bot.clock import SimulatedClock
from handlers.web.app import WebServer, start_web
from tests.helpers import Driver, make_settings
from tests.web import seed
from tests.web.support import login_link, world

HERE = Path(__file__).parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
MAX_PAGE_BYTES = 100 * 1024


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = f"{tool} is needed (apt-get install chromium chromium-driver; npm)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def axe_source() -> str:
    npm = _need("npm")
    lock = Path(tempfile.gettempdir()) / "stadtlabor-web-npm.lock"
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not AXE.exists():
            done = subprocess.run(
                [npm, "ci", "--prefix", str(HERE), "--prefer-offline", "--no-audit", "--no-fund"],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci --prefix {HERE} failed:\n{done.stderr}")
    return AXE.read_text(encoding="utf-8")


def _browser(javascript: bool = True) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = _need("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument("--window-size=1280,1000")
    options.add_argument("--lang=de-DE")
    prefs: dict[str, object] = {"intl.accept_languages": "de-DE,de"}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    return webdriver.Chrome(service=Service(_need("chromedriver")), options=options)


@pytest.fixture
def site(db_url: str, clock: SimulatedClock) -> Iterator[tuple[Bot, WebServer]]:
    settings = make_settings(db_url, organizers="console:orga", web_port=0)
    bot = build_bot(settings, clock)
    server = start_web(bot)  # the path `stadtlabor console --web-port 0` takes
    assert server is not None
    yield bot, server
    server.stop()
    bot.engine.dispose()


class Checks:
    """What every page must pass; screenshots named in order."""

    def __init__(self, browser: WebDriver, base: str, axe: str, folder: Path) -> None:
        self.browser, self.base, self.axe, self.folder = browser, base, axe, folder
        self.pages: list[str] = []

    def page(self, name: str) -> None:
        b = self.browser
        assert b.find_elements(By.TAG_NAME, "script") == [], name
        assert b.execute_script("return document.documentElement.lang") in ("de", "en")
        resources: list[dict[str, Any]] = b.execute_script(
            "return performance.getEntriesByType('resource')"
            ".map(e => ({name: e.name, size: e.transferSize}))"
        )
        assert all(r["name"].startswith(self.base) for r in resources), resources
        html = len(b.page_source.encode("utf-8"))
        css = sum(int(r["size"] or 0) for r in resources)
        assert html + css < MAX_PAGE_BYTES, (name, html, css)
        b.execute_script(self.axe)
        result = b.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done({passed: r.passes.length, violations: r.violations.map(v => ("
            "{id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.html).slice(0, 3)}))}))"
            ".catch(e => done({passed: 0, violations: [{id: 'axe-error', impact: 'critical',"
            " nodes: [String(e)]}]}));"
        )
        assert result["passed"] > 10, (name, result)  # axe really looked at the page
        bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert bad == [], (name, bad)
        self.pages.append(name)
        shot = self.folder / f"{len(self.pages):02d}-{name}.png"
        b.save_screenshot(str(shot))
        target = os.environ.get("STADTLABOR_WEB_SCREENSHOTS")
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(target) / f"{name}.png")


def _tab_to(browser: WebDriver, text: str, limit: int = 40) -> None:
    """Press Tab until the focused element's text contains ``text`` (keyboard only)."""
    for _ in range(limit):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.switch_to.active_element
        name = " ".join(str(focused.get_property("textContent") or "").split())
        if text in name:
            return
    raise AssertionError(f"{text!r} not reachable with Tab")


def _arrive(browser: WebDriver, url: str) -> None:
    WebDriverWait(browser, 10).until(lambda b: b.current_url == url)


def _status(browser: WebDriver) -> str:
    """The one-time message the page shows after a form (waits for the new page)."""
    found = WebDriverWait(browser, 10).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "[role=status]")
    )
    return str(found[0].text)


def _press_enter(browser: WebDriver) -> None:
    ActionChains(browser).send_keys(Keys.ENTER).perform()


def test_an_organiser_logs_in_and_confirms_by_keyboard_and_every_page_passes_axe(
    site: tuple[Bot, WebServer], axe_source: str, tmp_path: Path
) -> None:
    bot, server = site
    driver = Driver(bot)
    world(driver)
    seed.add(driver, ["anna", "bert"], meetings=2, polls=2, rounds=1)  # tables and bars
    driver.say("anna", "abstimmen 1 1")
    driver.say("bert", "abstimmen 1 2")
    link = login_link(driver, "orga")  # from the DM in the transcript
    assert link.startswith(server.url + "/anmelden/")
    browser = _browser()
    try:
        checks = Checks(browser, server.url, axe_source, tmp_path)
        browser.get(link)
        checks.page("anmelden")
        _tab_to(browser, "Jetzt anmelden")
        _press_enter(browser)
        _arrive(browser, server.url + "/jahrgang")  # no token in the URL any more
        assert "Jahrgang „Stadtlabor 2027“" in browser.find_element(By.TAG_NAME, "h1").text
        assert len(browser.find_elements(By.TAG_NAME, "progress")) == 1 + 2 + 2 + 1
        checks.page("jahrgang")
        browser.get(server.url + "/treffen/1")
        assert browser.find_elements(By.CSS_SELECTOR, "details")  # the agenda editor
        checks.page("treffen")
        browser.get(server.url + "/umfragen")
        assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 2
        checks.page("umfragen")
        _tab_to(browser, "Teilnehmende")
        _press_enter(browser)
        _arrive(browser, server.url + "/teilnehmende")
        checks.page("teilnehmende")
        _tab_to(browser, "Bestätigen: Cora Muster")
        _press_enter(browser)
        status = _status(browser)
        assert status == "Cora Muster ist bestätigt (Platz 3)."
        checks.page("teilnehmende-bestaetigt")
        browser.get(server.url + "/gibt-es-nicht")
        assert "404" in browser.page_source
    finally:
        browser.quit()
    assert "Cora Muster" in driver.say("orga", "teilnehmende").split("Warteliste")[0]

    browser = _browser()
    try:
        checks = Checks(browser, server.url, axe_source, tmp_path)
        browser.get(login_link(driver, "anna"))
        browser.find_element(By.CSS_SELECTOR, "button.primary").click()
        WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/mein"))
        checks.page("mein-stadtlabor")
        browser.get(server.url + "/jahrgang")
        assert "dem Programmteam vorbehalten" in browser.page_source
        checks.page("verweigert")
        browser.get(server.url + "/mein/vergessen")
        checks.page("vergessen")
        _tab_to(browser, "Endgültig löschen")  # without the tick: refused, nothing erased
        _press_enter(browser)
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "fehlt"))
        checks.page("vergessen-ohne-haekchen")
    finally:
        browser.quit()
    assert "Anna" in driver.say("orga", "teilnehmende")


def test_the_pages_work_with_javascript_switched_off(site: tuple[Bot, WebServer]) -> None:
    bot, server = site
    driver = Driver(bot)
    world(driver)
    browser = _browser(javascript=False)
    try:
        browser.get(login_link(driver, "orga"))
        browser.find_element(By.CSS_SELECTOR, "button.primary").click()
        _arrive(browser, server.url + "/jahrgang")
        browser.find_element(By.LINK_TEXT, "Teilnehmende").click()
        _arrive(browser, server.url + "/teilnehmende")
        row = browser.find_element(By.XPATH, "//tr[th[contains(., 'Dora Muster')]]")
        row.find_element(By.CSS_SELECTOR, "button.danger").click()
        status = _status(browser)
        assert status == "Dora Muster ist abgelehnt und wurde benachrichtigt."
    finally:
        browser.quit()


def _downloads(browser: WebDriver, folder: Path) -> None:
    """Let the headless browser save downloads into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    browser.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )


def test_an_organiser_closes_a_poll_downloads_the_csv_and_the_new_pages_pass_axe(
    site: tuple[Bot, WebServer], axe_source: str, tmp_path: Path
) -> None:
    bot, server = site
    driver = Driver(bot)
    world(driver)
    seed.add(driver, ["anna", "bert"], polls=1)
    driver.say("anna", "abstimmen 1 2")
    driver.say("orga", "erinnern kanal morgen 9 Uhr; Bitte Berichte schicken")
    browser = _browser()
    downloads = tmp_path / "downloads"
    try:
        _downloads(browser, downloads)
        checks = Checks(browser, server.url, axe_source, tmp_path)
        browser.get(login_link(driver, "orga"))
        browser.find_element(By.CSS_SELECTOR, "button.primary").click()
        _arrive(browser, server.url + "/jahrgang")
        browser.get(server.url + "/umfragen")
        _tab_to(browser, "Abstimmung schließen: Umfrage 1")  # keyboard only
        _press_enter(browser)
        WebDriverWait(browser, 10).until(lambda b: "Umfrage 1 schließen?" in b.page_source)
        checks.page("umfrage-schliessen")
        _tab_to(browser, "Ja, Abstimmung schließen")
        _press_enter(browser)
        status = _status(browser)
        assert status == "Umfrage 1 ist geschlossen; das Ergebnis steht im Kanal."
        assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 1
        assert "Abstimmung schließen" not in browser.page_source
        checks.page("umfrage-geschlossen")
        _tab_to(browser, "Auswertung als CSV: Umfrage 1")
        _press_enter(browser)
        csv_file = downloads / "umfrage-1.csv"
        WebDriverWait(browser, 10).until(lambda _b: csv_file.exists())
        content = csv_file.read_text(encoding="utf-8-sig")
        assert "Frage 1?" in content and "stimmzettel,1" in content

        browser.get(server.url + "/teilnehmende?status=bestaetigt&sortierung=name")
        assert "Cora Muster" not in browser.find_element(By.TAG_NAME, "main").text
        checks.page("teilnehmende-filter")
        _tab_to(browser, "Ändern: Anna Muster")
        _press_enter(browser)
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "p-kommune"))
        checks.page("teilnehmende-aendern")
        browser.get(server.url + "/teilnehmende")
        _tab_to(browser, "Entfernen: Bert Muster")
        _press_enter(browser)
        WebDriverWait(browser, 10).until(lambda b: "Bert Muster entfernen?" in b.page_source)
        checks.page("teilnehmende-entfernen")
        browser.get(server.url + "/erinnerungen")
        assert "Bitte Berichte schicken" in browser.page_source
        checks.page("erinnerungen")
    finally:
        browser.quit()
    driver.flush()
    posts = driver.messenger.texts("post")
    assert any("Umfrage 1 ist geschlossen: Frage 1?" in p for p in posts), posts
