"""The target page as a person uses it: the demo site served on 127.0.0.1 (``make demo`` then ``make serve``'s
script), driven by Debian's headless Chromium through Selenium and Debian's chromedriver (no browser
download). Screenshots go to ``test-screenshots/`` (or ``BHTOM_SCREENSHOTS``) for a person to look at."""
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import debian
from tests.postgres import free_port

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("BHTOM_SCREENSHOTS", REPO / "test-screenshots"))
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
TAB = "survey-light-curves"

# a small target with magnitudes, a limit and a radio flux, to see the two panels apart (written directly, as the
# brokers write them)
ADD_RADIO_TARGET = """
from tom_targets.models import Target
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.store import sync
target, _ = Target.objects.get_or_create(name="radio check", defaults=dict(type="SIDEREAL", ra=10.0, dec=10.0))
sync(target, DataSource.GAIA_DR3, "Gaia DR3", Lightcurve.from_columns(
    mjd=[57000.0, 57050.0, 57100.0, 57150.0], brightness=[15.0, 15.2, 15.1, 14.9], brightness_error=0.01, filter="G"))
sync(target, DataSource.ZTF, "ZTF", Lightcurve.from_columns(
    mjd=[58500.0, 58600.0], limit=[20.5, 20.7], filter="r"))
sync(target, DataSource.FIRST, "FIRST", Lightcurve.from_columns(
    mjd=[50500.0, 51500.0], brightness=[3.2, 2.9], brightness_error=0.15, filter="Flux 1.4GHz", unit="mJy"))
print(target.pk)
"""


def chromium_available():
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo site after ``make demo``, served with its sample archive; yields (base URL, demo database)."""
    try:
        debian.ensure(["chromium", "chromium-driver"], chromium_available)
    except debian.Unavailable as exc:
        pytest.skip(f"headless Chromium unavailable: {exc}")
    db = tmp_path_factory.mktemp("browser") / "demo.sqlite3"
    env = {**os.environ, "DEMO_DB": str(db), "SAMPLE_ARCHIVE_PORT": str(free_port()), "SERVE_PORT": str(free_port())}
    demo = subprocess.run([sys.executable, "example_site/run_demo.py"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    radio = subprocess.run([sys.executable, "manage.py", "shell", "-c", ADD_RADIO_TARGET], cwd=REPO / "example_site",
                           env={**env, "PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "example_site.settings"},
                           capture_output=True, text=True, timeout=120)
    assert radio.returncode == 0, radio.stderr[-2000:]
    server = subprocess.Popen([sys.executable, "example_site/serve_demo.py"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{env['SERVE_PORT']}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/accounts/login/", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                pytest.fail(f"the demo site did not start: {server.stderr.read()[-2000:]}")
            time.sleep(0.3)
    yield url, db
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(site):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,1300",
                     "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    url, _ = site
    driver.get(f"{url}/accounts/login/")
    driver.find_element("name", "login").send_keys("admin")
    driver.find_element("name", "password").send_keys("admin")
    driver.find_element("css selector", "form button[type=submit], form input[type=submit]").click()
    wait(driver, lambda d: "/accounts/login" not in d.current_url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait(driver, condition, seconds=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(condition)


def target_id(db, name):
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT id FROM tom_targets_basetarget WHERE name = ?", (name,)).fetchone()[0]


def stored_bandpasses(db, pk):
    with sqlite3.connect(db) as connection:
        return {row[0] for row in connection.execute(
            "SELECT DISTINCT bandpass FROM tom_dataproducts_photometryreduceddatum WHERE target_id = ?",
            (pk,))}


def open_tab(browser, url, pk):
    browser.get(f"{url}/targets/{pk}/?tab={TAB}")
    plot = wait(browser, lambda d: d.find_element("id", "bhtom-lightcurve-plot"))
    wait(browser, lambda d: plot.get_attribute("data-rendered-traces") or plot.get_attribute("data-error"))
    assert not plot.get_attribute("data-error"), plot.text
    return plot


def traces(browser):
    return browser.execute_script(
        "return document.getElementById('bhtom-lightcurve-plot').data.map("
        "t => ({name: t.name, group: t.legendgroup, type: t.type, yaxis: t.yaxis, symbol: t.marker.symbol}))")


@pytest.mark.slow
def test_demo_target_tab_plot_statuses_and_download(site, browser):
    url, db = site
    pk = target_id(db, "Gaia20fnr")
    open_tab(browser, url, pk)
    shown = traces(browser)
    detections = {t["name"] for t in shown if not t["name"].endswith(" limit")}
    assert detections == stored_bandpasses(db, pk)  # one trace per stored bandpass
    assert {t["type"] for t in shown} == {"scattergl"}
    assert {t["group"] for t in shown} == {"Gaia Alerts", "NEOWISE", "ALLWISE", "ZTF", "Gaia DR3", "CRTS", "ANTARES",
                                           "ATLAS", "AAVSO", "SDSS", "PS1", "FIRST"}
    assert {t["yaxis"] for t in shown if t["group"] == "FIRST"} == {"y2"}  # mJy: the flux panel
    limit_symbols = [t["symbol"] for t in shown if t["name"].endswith(" limit")]
    assert len(limit_symbols) > 1 and set(limit_symbols) == {"triangle-down-open"}
    rows = {row.get_attribute("data-source"): row.text
            for row in browser.find_elements("css selector", "#bhtom-status-table tbody tr")}
    assert len(rows) == 15  # every implemented source; this target has no ASAS-SN URL and no CPCS name
    assert "not applicable" in rows.pop("ASAS-SN") and "not applicable" in rows.pop("CPCS")
    assert "not covered by the public LINEAR sample" in rows.pop("LINEAR")
    assert all(" ok" in text for text in rows.values()), rows
    browser.save_screenshot(str(SCREENSHOTS / "Gaia20fnr_survey_light_curves.png"))

    # the legend is clickable: a click on an entry (the first toggle is its group's title) hides that trace
    from selenium.webdriver.common.action_chains import ActionChains

    entry = browser.find_elements("css selector", "#bhtom-lightcurve-plot .legend .traces .legendtoggle")[1]
    ActionChains(browser).move_to_element(entry).click().perform()
    wait(browser, lambda d: d.execute_script(
        "return document.getElementById('bhtom-lightcurve-plot').data.some(t => t.visible === 'legendonly')"))

    # the CSV link downloads every point, with the browser's session
    link = browser.find_element("id", "bhtom-download-csv").get_attribute("href")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    body = urllib.request.urlopen(urllib.request.Request(link, headers={"Cookie": cookies})).read().decode()
    with sqlite3.connect(db) as connection:
        points = connection.execute("SELECT COUNT(*) FROM tom_dataproducts_photometryreduceddatum WHERE target_id = ?",
                                    (pk,)).fetchone()[0]
    assert body.startswith("source,bandpass,time_utc,mjd,") and len(body.strip().splitlines()) == points + 1


@pytest.mark.slow
def test_magnitudes_and_radio_fluxes_in_separate_panels(site, browser):
    url, db = site
    open_tab(browser, url, target_id(db, "radio check"))
    shown = {t["name"]: t for t in traces(browser)}
    assert shown["Flux 1.4GHz(FIRST)"]["yaxis"] == "y2" and shown["G(Gaia DR3)"]["yaxis"] == "y"
    assert shown["r(ZTF) limit"]["symbol"] == "triangle-down-open"
    magnitudes, fluxes = browser.execute_script(
        "const l = document.getElementById('bhtom-lightcurve-plot')._fullLayout;"
        "return [{range: l.yaxis.range, domain: l.yaxis.domain}, {range: l.yaxis2.range, domain: l.yaxis2.domain}];")
    assert magnitudes["range"][0] > magnitudes["range"][1]  # inverted: brighter is up
    assert fluxes["range"][0] < fluxes["range"][1] and magnitudes["domain"][0] > fluxes["domain"][1]  # fluxes below
    browser.save_screenshot(str(SCREENSHOTS / "radio_and_magnitudes.png"))


@pytest.mark.slow
def test_survey_names_form_and_update_button(site, browser):
    url, db = site
    pk = target_id(db, "FU Ori")
    browser.get(f"{url}/targets/{pk}/?tab={TAB}")
    wait(browser, lambda d: d.find_element("id", "bhtom-edit-names")).click()
    field = wait(browser, lambda d: d.find_element("name", "ztf_name"))
    field.send_keys("ZTF1")
    browser.find_element("id", "bhtom-names-save").click()
    error = wait(browser, lambda d: d.find_element("css selector", ".bhtom-field-error"))
    assert "two digits and seven lower-case letters" in error.text
    browser.save_screenshot(str(SCREENSHOTS / "survey_names_refused.png"))
    field = browser.find_element("name", "ztf_name")
    field.clear()
    field.send_keys("ZTF18abcdefg")
    browser.find_element("id", "bhtom-names-save").click()
    wait(browser, lambda d: TAB in d.current_url)
    assert "Saved: ZTF name" in browser.page_source
    names = browser.find_element("id", "bhtom-survey-names").text
    assert "ZTF18abcdefg" in names

    browser.find_element("css selector", f"a[href='#{TAB}']").click()
    wait(browser, lambda d: d.find_element("id", "bhtom-update-button").is_displayed())
    browser.find_element("id", "bhtom-update-button").click()
    wait(browser, lambda d: "Survey light curves updated" in d.page_source, seconds=60)
    browser.find_element("css selector", f"a[href='#{TAB}']").click()
    statuses = browser.find_element("id", "bhtom-status-table").text
    assert "NEOWISE" in statuses and "never updated" not in statuses
    browser.save_screenshot(str(SCREENSHOTS / "FU_Ori_after_update.png"))
    print(f"\n[browser] screenshots in {SCREENSHOTS}: {sorted(p.name for p in SCREENSHOTS.glob('*.png'))}")
