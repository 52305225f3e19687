"""The target page as a person uses it: the demo site served on 127.0.0.1 (``make demo`` then ``make serve``'s
script), driven by Debian's headless Chromium through Selenium and Debian's chromedriver (no browser
download). Screenshots go to ``test-screenshots/`` (or ``BHTOM_SCREENSHOTS``) for a person to look at."""
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import debian
from tests.conftest import copy_demo
from tests.postgres import free_port
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("BHTOM_SCREENSHOTS", REPO / "test-screenshots"))
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
TAB = "survey-light-curves"
#: the archive the site fixture points at a host that accepts connections and never answers
SILENT_SOURCE = "NEOWISE"
#: the issue's screen: what an operator's laptop shows
WIDTH, HEIGHT = 1280, 800
RR_LYRAE = REPO / "tests" / "data" / "sdss" / "stripe82_rrlyrae_sesar2010_1013184_light-curve-test-data.csv"
RR_LYRAE_PERIOD = 0.614318300907  # Sesar et al. 2010, Table 2 (see tests/test_period_search.py)

# a small target with magnitudes, a limit and a radio flux, to see the two panels apart, and a real RR Lyrae star's
# SDSS light curve for the period search (written directly, as the brokers write them)
ADD_RADIO_TARGET = """
from tom_targets.models import Target
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.store import sync
RR_LYRAE = {rr_lyrae!r}
target, _ = Target.objects.get_or_create(name="radio check", defaults=dict(type="SIDEREAL", ra=10.0, dec=10.0))
sync(target, DataSource.GAIA_DR3, "Gaia DR3", Lightcurve.from_columns(
    mjd=[57000.0, 57050.0, 57100.0, 57150.0], brightness=[15.0, 15.2, 15.1, 14.9], brightness_error=0.01, filter="G"))
sync(target, DataSource.ZTF, "ZTF", Lightcurve.from_columns(
    mjd=[58500.0, 58600.0], limit=[20.5, 20.7], filter="r"))
sync(target, DataSource.FIRST, "FIRST", Lightcurve.from_columns(
    mjd=[50500.0, 51500.0], brightness=[3.2, 2.9], brightness_error=0.15, filter="Flux 1.4GHz", unit="mJy"))
sync(target, DataSource.ALERCE, "ALeRCE ZTF", Lightcurve.from_columns(
    mjd=[59000.0, 59010.0], brightness=[120.0, -80.0], brightness_error=10.0, filter="r", unit="uJy",
    magnitude_kind="difference"))
sync(target, DataSource.CPCS, "CPCS", Lightcurve.from_columns(
    mjd=[59100.0], brightness=[15.5], brightness_error=0.02, filter='<a href="//x.test">V</a>'))
import pandas as pd
rows = pd.read_csv(RR_LYRAE)
star, _ = Target.objects.get_or_create(name="RR Lyrae 1013184", defaults=dict(type="SIDEREAL", ra=1.0, dec=0.5))
sync(star, DataSource.SDSS, "SDSS", Lightcurve.from_columns(mjd=rows["time"], brightness=rows["mag"],
     brightness_error=rows["magerr"], filter=rows["band"].to_numpy()))
# 200 targets with a change record each (every tenth a departure) for the "Survey changes" page
from datetime import timedelta
from django.utils import timezone
from tom_bhtom_brokers.models import SurveyChange
for i in range(200):
    star_i, _ = Target.objects.get_or_create(name=f"changed {i:03d}", defaults=dict(type="SIDEREAL", ra=i, dec=-5.0))
    sync(star_i, DataSource.ZTF, "ZTF", Lightcurve.from_columns(
        mjd=[61000.0 + k * 3 for k in range(12)], brightness=[15.0 + 0.01 * (k % 3) - (k == 11) * 0.02 * i
                                                            for k in range(12)], brightness_error=0.02, filter="r"))
    newest = star_i.photometryreduceddatum_set.order_by("-timestamp").first().timestamp
    SurveyChange.objects.create(target=star_i, source="ZTF", bandpass="r(ZTF)", new_points=1, first_new=newest,
                                last_new=newest, kind="brightened" if i % 10 == 0 else "new_data", departed=i % 10 == 0,
                                unit="mag", baseline=15.0, scatter=0.01, baseline_points=11, newest=15.0 - 0.02 * i,
                                newest_error=0.02, difference=-0.02 * i, significance=i, recorded_at=timezone.now())
# ten of them private to group B; a viewer outside it (the page must not show her those)
from django.contrib.auth.models import Group, User
from guardian.shortcuts import assign_perm
group_b, _ = Group.objects.get_or_create(name="group B")
for i in range(0, 200, 20):
    hidden = Target.objects.get(name=f"changed {i:03d}")
    hidden.permissions = Target.Permissions.PRIVATE
    hidden.save()
    assign_perm("tom_targets.view_target", group_b, hidden)
if not User.objects.filter(username="viewer").exists():
    User.objects.create_user("viewer", password="viewer-pw")
print(target.pk)
"""


def chromium_available():
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_first_run):
    """The demo site after ``make demo`` (a copy of the session's first demo run), served with its sample
    archive; yields (base URL, demo database)."""
    try:
        debian.ensure(["chromium", "chromium-driver"], chromium_available)
    except debian.Unavailable as exc:
        pytest.skip(f"headless Chromium unavailable: {exc}")
    db = copy_demo(demo_first_run, tmp_path_factory.mktemp("browser"))
    # one archive host accepts connections and never answers (the Update button must not wait for it)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    env = {**os.environ, "DEMO_DB": str(db), "SAMPLE_ARCHIVE_PORT": str(free_port()), "SERVE_PORT": str(free_port()),
           "DEMO_DATA_SERVICES": json.dumps({SILENT_SOURCE: {"url": f"http://127.0.0.1:{silent.getsockname()[1]}",
                                                              "timeout": 3, "retries": 0}})}
    radio = subprocess.run([sys.executable, "manage.py", "shell", "-c",
                            ADD_RADIO_TARGET.replace("{rr_lyrae!r}", repr(str(RR_LYRAE)))], cwd=REPO / "example_site",
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
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={WIDTH},{HEIGHT}",
                     "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    # the page itself (the viewport) 1280x800, as on an operator's laptop: the window adds its own frame
    frame = driver.execute_script(
        "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]")
    driver.set_window_size(WIDTH + frame[0], HEIGHT + frame[1])
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


def click(browser, element):
    """Click ``element`` once scrolled to the middle of the window (TOM's fixed navbar covers the top)."""
    # instant: Bootstrap makes scrolling smooth, and a click during the animation lands elsewhere
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def target_id(db, name):
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT id FROM tom_targets_basetarget WHERE name = ?", (name,)).fetchone()[0]


def stored_sources(db, pk):
    with sqlite3.connect(db) as connection:
        return {row[0] for row in connection.execute(
            "SELECT DISTINCT source_name FROM tom_dataproducts_photometryreduceddatum WHERE target_id = ?", (pk,))}


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
        "t => ({name: t.name, group: t.legendgroup, type: t.type, yaxis: t.yaxis, symbol: t.marker.symbol,"
        " y: Array.from(t.y)}))")


@pytest.mark.slow
def test_demo_target_tab_plot_statuses_and_download(site, browser):
    url, db = site
    pk = target_id(db, "Gaia20fnr")
    open_tab(browser, url, pk)
    shown = traces(browser)
    detections = {t["name"] for t in shown if not t["name"].endswith(" limit")}
    assert detections == stored_bandpasses(db, pk)  # one trace per stored bandpass
    assert {t["type"] for t in shown} == {"scattergl"}
    with_points = stored_sources(db, pk)
    assert {t["group"] for t in shown} == with_points and len(with_points) >= 12  # a trace group per source
    assert {t["yaxis"] for t in shown if t["group"] == "FIRST"} == {"y2"}  # mJy: the flux panel
    limit_symbols = [t["symbol"] for t in shown if t["name"].endswith(" limit")]
    assert len(limit_symbols) > 1 and set(limit_symbols) == {"triangle-down-open"}
    rows = {row.get_attribute("data-source"): row.text
            for row in browser.find_elements("css selector", "#bhtom-status-table tbody tr")}
    assert set(rows) == set(IMPLEMENTED_SOURCE_NAMES)  # this target has no ASAS-SN URL and no CPCS name
    assert "no data" in rows.pop("ASAS-SN").lower() and "not applicable" in rows.pop("CPCS")  # v2: no star there
    assert "not covered by the public LINEAR sample" in rows.pop("LINEAR")
    for source in set(rows) - with_points:  # no object of theirs at Gaia20fnr (LSST, ALeRCE ZTF, OGLE EWS, ...)
        assert "no data" in rows.pop(source).lower(), source
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
    # a difference flux (uJy) is drawn in the flux panel, in its mJy, never on the magnitude axis
    difference = shown["r(ALeRCE) difference"]
    assert difference["yaxis"] == "y2" and sorted(difference["y"]) == pytest.approx([-0.08, 0.12])
    # a bandpass with markup (an upload) is text in the legend, never a live link
    links, legend = browser.execute_script(
        "const p = document.getElementById('bhtom-lightcurve-plot');"
        "return [p.querySelectorAll('.legend a').length, p.querySelector('.legend').textContent];")
    assert links == 0 and '<a href="//x.test">V</a>(CPCS)' in legend
    browser.save_screenshot(str(SCREENSHOTS / "radio_and_magnitudes.png"))


@pytest.mark.slow
def test_survey_names_form_and_update_button(site, browser):
    url, db = site
    pk = target_id(db, "FU Ori")
    browser.get(f"{url}/targets/{pk}/?tab={TAB}")
    click(browser, wait(browser, lambda d: d.find_element("id", "bhtom-edit-names")))
    field = wait(browser, lambda d: d.find_element("name", "ztf_name"))
    field.send_keys("ZTF1")
    click(browser, browser.find_element("id", "bhtom-names-save"))
    error = wait(browser, lambda d: d.find_element("css selector", ".bhtom-field-error"))
    assert "two digits and seven lower-case letters" in error.text
    browser.save_screenshot(str(SCREENSHOTS / "survey_names_refused.png"))
    field = browser.find_element("name", "ztf_name")
    field.clear()
    field.send_keys("ZTF18abcdefg")
    click(browser, browser.find_element("id", "bhtom-names-save"))
    wait(browser, lambda d: TAB in d.current_url)
    assert "Saved: ZTF name" in browser.page_source
    names = browser.find_element("id", "bhtom-survey-names").text
    assert "ZTF18abcdefg" in names

    browser.find_element("css selector", f"a[href='#{TAB}']").click()
    wait(browser, lambda d: d.find_element("id", "bhtom-update-button").is_displayed())
    # tom_setup's immediate task backend: the update runs in the background, the page comes back at once though
    # one archive's host (NEOWISE's, here) never answers
    click(browser, browser.find_element("id", "bhtom-update-button"))
    wait(browser, lambda d: "it runs in the background" in d.page_source, seconds=30)
    # the page came back before the update ended (an update inside the request would end first, after the silent
    # host's 3 s timeout, and the page would show its answers, not a running update): no clock needed
    state = browser.find_element("id", "bhtom-update-state")
    assert state.get_attribute("data-state") == "running" and "Update running since" in state.text
    browser.save_screenshot(str(SCREENSHOTS / "FU_Ori_update_running.png"))
    # the tab reloads itself until the update has ended, then shows every archive's answer
    wait(browser, lambda d: not d.find_elements("id", "bhtom-update-state"), seconds=90)
    browser.find_element("css selector", f"a[href='#{TAB}']").click()
    statuses = browser.find_element("id", "bhtom-status-table").text
    assert "NEOWISE" in statuses and "never updated" not in statuses
    neowise = browser.find_element("css selector", "#bhtom-status-table tr[data-source='NEOWISE']").text
    assert "no answer within" in neowise or "error" in neowise.lower(), neowise
    browser.save_screenshot(str(SCREENSHOTS / "FU_Ori_after_update.png"))
    print(f"\n[browser] screenshots in {SCREENSHOTS}: {sorted(p.name for p in SCREENSHOTS.glob('*.png'))}")


def shot(browser, name, element=None, script=None):
    """A 1280x800 screenshot with ``element`` scrolled to the top of the window (below TOM's fixed navbar)."""
    if element is not None:
        browser.execute_script("window.scrollTo({top: arguments[0].getBoundingClientRect().top + window.scrollY - 70,"
                               " behavior: 'instant'})", element)
    if script:
        browser.execute_script(script)
    time.sleep(0.3)
    browser.save_screenshot(str(SCREENSHOTS / name))


def no_horizontal_scroll(browser):
    return browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.slow
def test_status_table_fits_and_legend_lies_below_the_figure_for_every_source(site, browser):
    url, db = site
    open_tab(browser, url, target_id(db, "Gaia20fnr"))
    sources = stored_sources(db, target_id(db, "Gaia20fnr"))
    assert len(sources) >= 12
    table = browser.find_element("id", "bhtom-status-table")
    assert no_horizontal_scroll(browser)
    assert browser.execute_script("const t = arguments[0]; return t.scrollWidth <= t.parentElement.clientWidth", table)
    ztf = browser.find_element("css selector", "#bhtom-status-table tr[data-source='ZTF'] details")
    assert ztf.text == "4 ZTF objects" and "1352111200004321" in ztf.get_attribute("title")
    click(browser, ztf.find_element("tag name", "summary"))  # the list, on expanding
    assert "316211400005678" in ztf.text and no_horizontal_scroll(browser)
    row = browser.find_element("css selector", "#bhtom-status-table tr[data-source='ZTF']")
    shot(browser, "status_table_multi_id_ztf.png", row, "window.scrollBy({top: -260, behavior: 'instant'})")
    visible = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 56 && r.bottom <= window.innerHeight", row)
    assert visible

    # the legend: below the panels (and their date labels), every survey's group, nothing scrolled inside it
    legend = browser.execute_script(
        "const p = document.getElementById('bhtom-lightcurve-plot'), l = p._fullLayout;"
        "const box = p.querySelector('.legend').getBoundingClientRect(), top = p.getBoundingClientRect().top;"
        "return {groups: new Set(p.data.map(t => t.legendgroup)).size, top: box.top, bottom: box.bottom,"
        " plotBottom: top + l.height - l._size.b,"
        " figureBottom: p.getBoundingClientRect().bottom, scroll: !!p.querySelector('.legend .scrollbar[width]'),"
        " shown: l.showlegend, x2labels: l.xaxis2 ? l.xaxis2.showticklabels : null, x1labels: l.xaxis.showticklabels,"
        " matches: l.xaxis2 ? l.xaxis2.matches : null}")
    assert legend["shown"] and legend["groups"] == len(sources)
    assert browser.execute_script("return [window.innerWidth, window.innerHeight]") == [WIDTH, HEIGHT]
    assert legend["top"] > legend["plotBottom"] and legend["bottom"] <= legend["figureBottom"] + 1
    assert legend["x1labels"] and legend["x2labels"] and legend["matches"] == "x"  # each panel has its dates
    shot(browser, "legend_every_source.png", browser.find_element("css selector", "#bhtom-lightcurve-plot .legend"),
         "window.scrollBy({top: -200, behavior: 'instant'})")


@pytest.mark.slow
def test_a_single_source_plot_keeps_its_legend_and_the_period_panel_folds_it(site, browser):
    url, db = site
    open_tab(browser, url, target_id(db, "RR Lyrae 1013184"))
    names = browser.execute_script(
        "return Array.from(document.querySelectorAll('#bhtom-lightcurve-plot .legend .traces'))"
        ".map(e => e.textContent)")
    assert set(names) == {"SDSS", "u(SDSS)", "g(SDSS)", "r(SDSS)", "i(SDSS)", "z(SDSS)"}  # its title, its bands
    shot(browser, "single_source_with_legend.png", browser.find_element("id", "bhtom-lightcurve-plot"))

    panel = browser.find_element("id", "bhtom-period-panel")
    click(browser, panel.find_element("tag name", "summary"))
    wait(browser, lambda d: d.find_elements("css selector", ".bhtom-period-band"))
    click(browser, browser.find_element("id", "bhtom-period-run"))
    wait(browser, lambda d: panel.get_attribute("data-searched") or panel.get_attribute("data-error"), seconds=60)
    assert not panel.get_attribute("data-error"), browser.find_element("id", "bhtom-period-status").text
    folded = wait(browser, lambda d: d.find_element("id", "bhtom-folded").get_attribute("data-folded-period"))
    assert abs(float(folded) - RR_LYRAE_PERIOD) / RR_LYRAE_PERIOD < 1e-3
    # the default choice is the richest band alone: the exact single-band periodogram with its false-alarm level
    checked = [box.get_attribute("value") for box in browser.find_elements("css selector", ".bhtom-period-band")
               if box.is_selected()]
    assert len(checked) == 1, checked
    text = browser.find_element("id", "bhtom-period-status").text
    assert "LombScargle over" in text and "in 1 band(s)" in text and "1% false-alarm level" in text, text
    shot(browser, "period_panel_folded.png", browser.find_element("id", "bhtom-period-best"),
         "window.scrollBy({top: -330, behavior: 'instant'})")
    # the folded plot's legend lies below its "phase" axis title, not across it
    title, legend = browser.execute_script(
        "const f = document.getElementById('bhtom-folded');"
        "const t = f.querySelector('.xtitle').getBoundingClientRect(), l = f.querySelector('.legend')"
        ".getBoundingClientRect(); return [[t.top, t.bottom], [l.top, l.bottom]];")
    assert legend[0] >= title[1], (title, legend)
    shot(browser, "folded_plot.png", browser.find_element("id", "bhtom-folded"))


@pytest.mark.slow
def test_toms_data_services_menu_keeps_saved_queries_on_screen(site, browser):
    url, _ = site
    browser.get(f"{url}/")
    toggle = next(a for a in browser.find_elements("css selector", ".navbar .dropdown-toggle")
                  if "Data Services" in a.text)
    toggle.click()
    menu = wait(browser, lambda d: toggle.find_element("xpath", "following-sibling::ul"))
    wait(browser, lambda d: menu.is_displayed())
    assert int(menu.get_attribute("data-bhtom-services")) >= 20  # TOM's own and one per archive of ours
    saved = menu.find_element("link text", "Saved Queries")
    bottom = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", saved)
    assert bottom < HEIGHT - 100
    shot(browser, "data_services_menu.png")
    saved.click()
    wait(browser, lambda d: "/query/list" in d.current_url)


SUBMIT = "form input[type=submit], form button[type=submit].btn-primary"


@pytest.mark.slow
def test_toms_target_form_has_one_line_survey_name_fields_with_their_rules(site, browser):
    url, db = site
    browser.get(f"{url}/targets/create/")
    field = wait(browser, lambda d: d.find_element("css selector", "input.bhtom-survey-name[name='ZTF name']"))
    assert not browser.find_elements("css selector", "textarea[name='ZTF name']")
    label = browser.find_element("css selector", f"label[for='{field.get_attribute('id')}']")
    assert label.text == "ZTF name"
    labels = {e.text for e in browser.find_elements("css selector", "label")}
    assert {"Gaia DR3 id", "ASAS-SN URL", "PS1 objID"} <= labels and "Ztf name" not in labels
    browser.find_element("name", "name").send_keys("Form check")
    browser.find_element("name", "ra").send_keys("83.8221")
    browser.find_element("name", "dec").send_keys("-5.3911")
    field.send_keys("ZTF1")
    click(browser, browser.find_element("css selector", SUBMIT))
    error = wait(browser, lambda d: d.find_element("css selector", "input[name='ZTF name'] ~ .bhtom-field-error"))
    assert error.is_displayed() and "two digits and seven lower-case letters" in error.text
    assert "/targets/create/" in browser.current_url  # the browser refused to send the form
    shot(browser, "target_form_survey_names.png",
         browser.find_element("css selector", "input.bhtom-survey-name[name='Gaia Alerts name']"))
    field.clear()
    field.send_keys("  ZTF18abcdefg ")  # pasted with spaces around it: the name, trimmed
    assert browser.execute_script("return arguments[0].checkValidity()", field) and not error.is_displayed()
    click(browser, browser.find_element("css selector", SUBMIT))
    wait(browser, lambda d: "/targets/create/" not in d.current_url)
    pk = target_id(db, "Form check")
    with sqlite3.connect(db) as connection:
        extras = dict(connection.execute("SELECT key, value FROM tom_targets_targetextra WHERE target_id = ?", (pk,)))
    assert extras["ZTF name"] == "ZTF18abcdefg"  # TOM saved what the one-line field held


@pytest.mark.slow
def test_gaia_alerts_query_form_shows_its_radius_and_readable_results(site, browser):
    url, db = site
    browser.get(f"{url}/tom_dataservices/query/create/?data_service=Gaia%20Alerts")
    radius = wait(browser, lambda d: d.find_element("name", "radius_arcsec"))
    assert float(radius.get_attribute("value")) == 2.0 and "default 2 arcsec" in browser.page_source
    browser.find_element("name", "alert_name").send_keys("Gaia14aaa")
    click(browser, radius.find_element("xpath", "ancestor::form").find_element("css selector", "[type=submit]"))
    table = wait(browser, lambda d: d.find_element("id", "bhtom-query-results"))
    heads = [th.text for th in table.find_elements("css selector", "thead th")][1:]
    assert heads == ["Alert", "RA (deg)", "Dec (deg)", "Alert mag (G)", "Class", "Comment"]
    assert "Gaia14aaa" in table.text
    shot(browser, "gaia_alerts_query_results.png")
    # TOM's "Create Targets" takes the ticked row (its id is the checkbox's value): a target with its alert name
    click(browser, table.find_element("css selector", "input[name=selected_results]"))
    click(browser, browser.find_element("css selector", "input[type=submit][value='Create Targets']"))
    wait(browser, lambda d: "/query/" not in d.current_url)
    pk = target_id(db, "Gaia14aaa")
    with sqlite3.connect(db) as connection:
        extras = dict(connection.execute("SELECT key, value FROM tom_targets_targetextra WHERE target_id = ?", (pk,)))
    assert extras["Gaia Alerts name"] == "Gaia14aaa"


@pytest.mark.slow
def test_the_period_search_on_the_richest_target_gives_finite_interior_results(site, browser):
    """The demo's richest target (a dozen sources, bands of one point among them): the default search, and a
    search of every band, show only finite powers and no best period at the edge of the range searched."""
    url, db = site
    open_tab(browser, url, target_id(db, "Gaia20fnr"))
    panel = browser.find_element("id", "bhtom-period-panel")
    click(browser, panel.find_element("tag name", "summary"))
    wait(browser, lambda d: d.find_elements("css selector", ".bhtom-period-band"))
    low, high = (1 / float(browser.find_element("id", name).get_attribute("value"))
                 for name in ("bhtom-max-period", "bhtom-min-period"))
    for every_band in (False, True):
        if every_band:
            for box in browser.find_elements("css selector", ".bhtom-period-band"):
                if not box.is_selected():
                    click(browser, box)
            browser.execute_script("arguments[0].removeAttribute('data-searched')", panel)
        click(browser, browser.find_element("id", "bhtom-period-run"))
        wait(browser, lambda d: panel.get_attribute("data-searched") or panel.get_attribute("data-error"), seconds=90)
        status = browser.find_element("id", "bhtom-period-status").text
        assert not panel.get_attribute("data-error"), status
        powers, best = browser.execute_script(
            "const d = document.getElementById('bhtom-periodogram').data[0];"
            "return [Array.from(d.y), Array.from(document.querySelectorAll('#bhtom-period-best button'))"
            ".map(b => b.textContent)];")
        assert powers and all(p is not None and 0 <= p <= 1.0001 for p in powers), status
        assert best, status
        for label in best:  # "0.614318 d (power 0.512)"
            period = float(label.split(" d ")[0])
            assert low * 1.001 < 1 / period < high * 0.999, (label, status)
    shot(browser, "period_panel_richest_target.png", panel)


@pytest.mark.slow
def test_a_19_digit_gaia_dr3_id_on_the_target_page_stays_in_its_column(site, browser):
    url, db = site
    pk = target_id(db, "Gaia20fnr")
    browser.get(f"{url}/targets/{pk}/")
    value = wait(browser, lambda d: d.find_element("css selector", "dd.bhtom-survey-name-value"))
    ids = [dd for dd in browser.find_elements("css selector", "dd.bhtom-survey-name-value")
           if dd.get_attribute("title").isdigit() and len(dd.get_attribute("title")) == 19]
    assert ids, "the demo's Gaia20fnr has its Gaia DR3 id recorded"
    value = ids[0]
    fits = browser.execute_script(
        "const d = arguments[0], r = d.getBoundingClientRect();"
        "return d.scrollWidth <= d.clientWidth + 1 && r.right <= d.parentElement.getBoundingClientRect().right + 1;",
        value)
    assert fits and value.text.replace("\n", "") == value.get_attribute("title")  # all 19 digits, on hover too
    shot(browser, "gaia_dr3_id_19_digits.png", value)


def test_survey_changes_page_with_200_targets(site, browser):
    """The navbar's "Survey changes" page at 1280x800: departures first, each row's small light curve, the filters;
    its load time is written next to the screenshots."""
    url, _ = site
    browser.get(f"{url}/")
    click(browser, browser.find_element("id", "bhtom-changes-link"))
    wait(browser, lambda d: d.find_elements("css selector", "#bhtom-changes tbody tr"))
    browser.get(f"{url}/bhtom-brokers/changes/?days=30")
    rows = wait(browser, lambda d: d.find_elements("css selector", "#bhtom-changes tbody tr"))
    timing = browser.execute_script("const t = performance.getEntriesByType('navigation')[0];"
                                    "return [t.responseEnd - t.startTime, t.loadEventEnd - t.startTime];")
    (SCREENSHOTS / "survey_changes_timing.txt").write_text(
        f"Survey changes page, {len(rows)} rows: response {timing[0]:.0f} ms, load {timing[1]:.0f} ms\n")
    assert len(rows) >= 200
    departed = [row.get_attribute("class") for row in rows[:20]]
    assert all("bhtom-departed" in classes for classes in departed)
    assert len(browser.find_elements("css selector", "svg.bhtom-spark")) >= 200
    browser.save_screenshot(str(SCREENSHOTS / "survey_changes.png"))
    click(browser, browser.find_element("id", "bhtom-departed"))
    click(browser, browser.find_element("css selector", "#bhtom-changes-filters button[type=submit]"))
    wait(browser, lambda d: "departed=1" in d.current_url)
    rows = browser.find_elements("css selector", "#bhtom-changes tbody tr")
    assert 20 <= len(rows) < 200 and all("bhtom-departed" in row.get_attribute("class") for row in rows)
    browser.save_screenshot(str(SCREENSHOTS / "survey_changes_departures.png"))
    # the row's link opens the target's tab: its newest point ringed, its last departure in the status table
    pk = target_id(site[1], "changed 190")
    open_tab(browser, url, pk)
    rings = [t for t in traces(browser) if t["name"] == "newest points"]
    assert len(rings) == 1 and len(rings[0]["y"]) == 1
    line = browser.find_element("css selector", "tr[data-source='ZTF'] .bhtom-departure").text
    assert line.startswith("last departure · r(ZTF): brightened")
    browser.save_screenshot(str(SCREENSHOTS / "changed_190_tab.png"))


def test_survey_changes_page_shows_a_viewer_none_of_another_groups_targets(site):
    """A second browser, logged in as a viewer outside group B: the ten targets private to B never appear."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    url, _ = site
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={WIDTH},{HEIGHT}",
                     "--disable-gpu"):
        options.add_argument(argument)
    viewer = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        viewer.get(f"{url}/accounts/login/")
        viewer.find_element("name", "login").send_keys("viewer")
        viewer.find_element("name", "password").send_keys("viewer-pw")
        viewer.find_element("css selector", "form button[type=submit], form input[type=submit]").click()
        wait(viewer, lambda d: "/accounts/login" not in d.current_url)
        viewer.get(f"{url}/bhtom-brokers/changes/?days=30&departed=1")
        rows = wait(viewer, lambda d: d.find_elements("css selector", "#bhtom-changes tbody tr"))
        names = {row.get_attribute("data-target") for row in rows}
        assert names == {f"changed {i:03d}" for i in range(10, 200, 20)}  # the private ones (0, 20, ...) left out
        viewer.save_screenshot(str(SCREENSHOTS / "survey_changes_viewer.png"))
    finally:
        viewer.quit()
