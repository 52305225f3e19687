"""What the tab and TOM's own screens show, checked on the server side (the browser test looks at them):
colours and markers that tell surveys and bands apart, lists of objects summarised in the status table, the
survey-name rules TOM's target form receives (the same as the tab's form), the navbar script on TOM's pages, and
the Data Services query form's default radius and readable results."""
import re

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from tom_bhtom_brokers.brokers.gaia_alerts import GaiaAlertsBroker
from tom_bhtom_brokers.plot_style import SURVEY_SYMBOLS, colours, filter_of
from tom_bhtom_brokers.sources import SURVEYS, TARGET_NAME_KEYS, bandpass
from tom_bhtom_brokers.survey_names import BROWSER_PATTERNS, RULES, check, form_fields
from tom_bhtom_brokers.target_tab import identifier_summary

#: every (survey, bandpass) the archives may deliver
EVERY_PAIR = [(survey.name, f"{name}({survey.name})") for survey in SURVEYS for name in survey.filters]


def test_bands_of_one_survey_never_share_a_colour_nor_one_hue_across_surveys():
    colour = colours(EVERY_PAIR)
    by_survey, by_filter = {}, {}
    for (survey, band), value in colour.items():
        assert re.fullmatch(r"#[0-9a-f]{6}", value)
        by_survey.setdefault(survey, []).append(value)
        by_filter.setdefault(filter_of(band), []).append((survey, value))
    for survey, values in by_survey.items():
        assert len(values) == len(set(values)), survey  # AAVSO's V, CV, Vis ... all distinct
    for name, pairs in by_filter.items():
        assert len({value for _, value in pairs}) == len(pairs), name  # Gaia Alerts' G is not Gaia DR3's G
    assert colour["Gaia Alerts", "G(Gaia Alerts)"] != colour["Gaia DR3", "G(Gaia DR3)"]
    assert len(set(SURVEY_SYMBOLS.values())) == len(SURVEYS)  # and each survey has its own marker


def test_ps1s_bands_are_told_apart_by_eye():
    """PS1's z and y were two browns with one marker: every pair of a survey's bands differs by a visible amount
    (Euclidean distance in RGB over 60 of 441)."""
    colour = colours(EVERY_PAIR)
    ps1 = [value for (survey, _), value in colour.items() if survey == "PS1"]
    rgb = [tuple(int(value[k:k + 2], 16) for k in (1, 3, 5)) for value in ps1]
    assert len(rgb) == 5
    for first in range(len(rgb)):
        for second in range(first + 1, len(rgb)):
            distance = sum((a - b) ** 2 for a, b in zip(rgb[first], rgb[second])) ** 0.5
            assert distance > 60, (ps1[first], ps1[second])
    z, y = (tuple(int(colour["PS1", f"{band}(PS1)"][k:k + 2], 16) for k in (1, 3, 5)) for band in "zy")
    assert sum((a - b) ** 2 for a, b in zip(z, y)) ** 0.5 > 100  # was 65: two browns


def test_a_surveys_colours_do_not_depend_on_which_other_surveys_are_plotted():
    alone = colours([("Gaia Alerts", "G(Gaia Alerts)")])
    with_dr3 = colours([("Gaia DR3", "G(Gaia DR3)"), ("Gaia Alerts", "G(Gaia Alerts)")])
    assert alone["Gaia Alerts", "G(Gaia Alerts)"] == with_dr3["Gaia Alerts", "G(Gaia Alerts)"]


@pytest.mark.parametrize("source, identifier, summary", [
    ("ZTF", "ZTF DR oid 1352111200004321,1352111300009876,1352111400012345,316211400005678", "4 ZTF objects"),
    ("FIRST", "J060104.0-185803, J060104.2-185806", "2 FIRST objects"),
    ("FIRST", "J0601, J0602", ""),  # short enough for its column
    ("Gaia DR3", "2945521337401118464", ""),
    ("ANTARES", "ZTF20abkfnrq", ""),
])
def test_lists_of_objects_are_summarised_in_the_status_table(source, identifier, summary):
    assert identifier_summary(source, identifier) == summary


VALUES = {
    "Gaia Alerts name": (["Gaia18cbf", "Gaia20fnr"], ["gaia18cbf", "Gaia1abc", "Gaia18cbf x", "Gaia18ABC"]),
    "Gaia DR3 id": (["4043383456173344256", "Gaia DR3 4043383456173344256"], ["DR3 12", "12a", "-1"]),
    "ZTF name": (["ZTF18abcdefg"], ["ZTF1", "ZTF18ABCDEFG", "ZTF18abcdef"]),
    "SDSS objid": (["1237662225682415746"], ["12e3", "x"]),
    "PS1 objID": (["84930902670254137"], ["1.5"]),
    "LINEAR id": (["10003571"], ["abc"]),
    "LSST diaObjectId": (["170587117485817955", "170587117485817955,170000000000000001", "1, 2"],
                         ["1.7e17", "-1", "1,,2", "1,2,3,4,5,6,7,8,9,10,11", "17058711748581795x"]),
    "OGLE EWS name": (["OGLE-2019-BLG-0001", "OGLE-2023-GD-0012"],
                      ["OB190001", "OGLE-2019-BLG-001", "ogle-2019-blg-0001", "OGLE-1999-BLG-0001"]),
    "CPCS name": (["ivo://Gaia19drz", "ivo://a.b-c/d"], ["Gaia19drz", "ivo:/x", "ivo://"]),
    "ASAS-SN URL": (["https://asas-sn.osu.edu/sky-patrol/coordinate/0b1e27e6-5e8c-4bfe-a4d6-8bbd4a6e4f3e",
                     "https://asas-sn.osu.edu/photometry/0b1e27e6-5e8c-4bfe-a4d6-8bbd4a6e4f3e.csv",
                     "https://asas-sn.osu.edu/variables/ASASSN-V_J060000.csv"],
                    ["https://evil.example/sky-patrol/coordinate/0b1e27e6-5e8c-4bfe-a4d6-8bbd4a6e4f3e",
                     "javascript:alert(1)", "https://asas-sn.osu.edu/other"]),
    "ATLAS URL": (["https://fallingstar-data.com/forcedphot/static/results/job123.txt"],
                  ["https://fallingstar-data.com/forcedphot/queue/123/", "http://x.org/job1.txt"]),
    "AAVSO name": (["SS Cyg", "V* AB Aur", "000-BBC-123"], ["<script>", "a" * 61, "x;y"]),
}


def test_the_browser_patterns_of_toms_target_form_agree_with_the_tabs_rules():
    # a rule declared as a pattern (Survey.name_pattern) is held against its own example and two near misses
    values = {**VALUES, **{survey.name_field: ([survey.name_example], [survey.name_example + "x", "x"])
                           for survey in SURVEYS if survey.name_pattern}}
    assert set(BROWSER_PATTERNS) == set(RULES) == set(TARGET_NAME_KEYS.values()) == set(values)
    for label, (good, bad) in values.items():
        pattern = re.compile(BROWSER_PATTERNS[label])  # the browser anchors a pattern as fullmatch does
        for value in good:
            assert check(label, value) is None and pattern.fullmatch(value), (label, value)
        for value in bad:
            assert check(label, value) is not None and not pattern.fullmatch(value), (label, value)
    fields = {field["label"]: field for field in form_fields()}
    assert fields["ZTF name"]["refusal"].startswith("ZTF name is 'ZTF', two digits")
    assert fields["ZTF name"]["help"] == "e.g. ZTF18abcdefg"


@pytest.mark.django_db
def test_every_tom_page_carries_the_script_with_the_name_rules_and_a_site_may_turn_it_off(client, settings):
    client.force_login(User.objects.create_superuser("operator", password="pw"))
    page = client.get("/targets/create/").content.decode()
    assert "tom_bhtom_brokers/tom_pages.js" in page and 'id="bhtom-name-fields"' in page
    assert BROWSER_PATTERNS["ZTF name"].replace("\\", "\\\\") in page  # the rules, as JSON
    settings.BHTOM_BROKERS = {**settings.BHTOM_BROKERS, "tom_pages_script": False}
    assert "tom_pages.js" not in client.get("/targets/create/").content.decode()


@pytest.mark.django_db
def test_the_query_form_shows_the_brokers_radius_and_the_results_readable_columns(client, settings, archive):
    settings.DATA_SERVICES = {**settings.DATA_SERVICES, "Gaia Alerts": {"url": archive.url, "timeout": 5}}
    cache.clear()
    client.force_login(User.objects.create_superuser("operator", password="pw"))
    form = client.get("/tom_dataservices/query/create/", {"data_service": "Gaia Alerts"}).content.decode()
    radius = re.search(r'<input[^>]*name="radius_arcsec"[^>]*>', form).group(0)
    assert 'value="2.0"' in radius and "default 2 arcsec" in form
    settings.DATA_SERVICES["Gaia Alerts"]["radius_arcsec"] = 5
    form = client.get("/tom_dataservices/query/create/", {"data_service": "Gaia Alerts"}).content.decode()
    assert 'value="5.0"' in re.search(r'<input[^>]*name="radius_arcsec"[^>]*>', form).group(0)

    response = client.post("/tom_dataservices/query/create/", {
        "data_service": "Gaia Alerts", "alert_name": "Gaia20fnr", "query_name": "", "radius_arcsec": "2"}, follow=True)
    page = response.content.decode()
    table = re.search(r'<table[^>]*id="bhtom-query-results".*?</table>', page, re.S).group(0)
    heads = re.findall(r"<th>([^<]*)</th>", table)
    assert heads == [head for _, head in GaiaAlertsBroker.result_columns]
    assert "Gaia20fnr" in table and ">Id<" not in table and ">Ra<" not in table
    assert 'name="selected_results" value="0"' in table  # TOM's row id stays the checkbox's value


def test_bandpass_names_are_what_the_colours_are_keyed_on():
    from tom_bhtom_brokers.sources import DataSource

    assert filter_of(bandpass(DataSource.AAVSO, "Vis")) == "Vis"


def test_survey_names_are_listed_in_one_order_everywhere():
    """TOM's target form (EXTRA_FIELDS), the names page and the tab list the survey names alike."""
    from tom_bhtom_brokers.sources import SURVEY_NAME_EXTRA_FIELDS
    from tom_bhtom_brokers.survey_names import RULES, SurveyNamesForm

    order = [field["name"] for field in SURVEY_NAME_EXTRA_FIELDS]
    assert list(RULES) == order
    assert [field.label for field in SurveyNamesForm().fields.values()] == order
