"""OGLE EWS on the real phot.dat excerpt, served as the made-up event OGLE-2019-BLG-9999 at RA 268.0 Dec -29.5
(tests/data/ogle_ews/PROVENANCE.md). HJD -> UTC is computed here with astropy's own ``light_travel_time`` at the
geocentre, not with the package's conversion."""
import numpy as np
import pytest
from astropy.time import Time
from django.core.cache import cache

from tests.brokers.contract import BrokerContract, geocentric_utc_mjd, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.ogle_ews import OgleEwsBroker
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 268.0, -29.5
PHOT = np.loadtxt(DATA_DIR / "ogle_ews" / "phot_2019_sample_first40.dat")


def expected_utc_mjd(hjd):
    return geocentric_utc_mjd(hjd, RA, DEC)


pytestmark = pytest.mark.usefixtures("forget_site_cache")


class TestOgleEwsContract(BrokerContract):
    broker_class = OgleEwsBroker
    covered_target = {"name": "OGLE-2019-BLG-9999", "ra": RA, "dec": DEC, "OGLE EWS name": "OGLE-2019-BLG-9999"}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/ogle/ogle4/ews/2019/blg-9999/phot.dat"
    expected_points = len(PHOT)
    expected_filters = ("I",)
    expected_mjd_range = (expected_utc_mjd(PHOT[:, 0].min()), expected_utc_mjd(PHOT[:, 0].max()))
    fault_path = "/phot.dat"

    def forget_downloads(self):
        cache.clear()


@pytest.mark.django_db
def test_real_excerpt_times_within_a_second_of_astropy_and_extras(archive, make_target):
    target = make_target("microlens", RA, DEC)  # no name: found in the 2019 list by position
    outcome = update(target, OgleEwsBroker)
    assert outcome.status == "ok", outcome.message
    assert target.targetextra_set.get(key="OGLE EWS name").value == "OGLE-2019-BLG-9999"
    points = sorted(stored(target, "OGLE EWS"), key=lambda p: p.timestamp)
    assert len(points) == len(PHOT) == 40
    expected = expected_utc_mjd(PHOT[:, 0])
    for point, row, mjd in zip(points, PHOT, expected):
        assert abs(Time(point.timestamp).mjd - mjd) * 86400 < 1.0
        assert (point.brightness, point.brightness_error) == (row[1], row[2])
        assert (point.value["seeing_px"], point.value["sky"], point.value["time_original"]) == (row[3], row[4], row[0])
        assert point.bandpass == "I(OGLE)" and point.limit is None
    # the light-time correction is real: minutes, not seconds, at this time of year
    assert np.abs(expected - (PHOT[:, 0] - 2400000.5)).max() * 86400 > 60
    assert points[0].value["event_page"] == "https://ogle.astrouw.edu.pl/ogle4/ews/2019/blg-9999.html"


@pytest.mark.django_db
def test_season_lists_are_read_once_and_the_north_is_not_searched(archive, make_target):
    update(make_target("microlens", RA, DEC), OgleEwsBroker, force=False)
    lists = [r["path"] for r in archive.requests if r["path"].endswith("lenses.par")]
    assert "/ogle/ogle4/ews/2019/lenses.par" in lists and "/ogle/ogle4/ews/2020/lenses.par" not in lists
    assert len(lists) == len(set(lists)) == len(OgleEwsBroker().seasons())
    archive.reset()
    update(make_target("another", 268.1, -29.4), OgleEwsBroker, force=False)
    assert not [r for r in archive.requests if r["path"].endswith("lenses.par")]  # from the cache (forced: asked again)
    archive.reset()
    outcome = update(make_target("north", 10.0, 45.0), OgleEwsBroker)
    assert outcome.status == "no_data" and "outside OGLE's fields" in outcome.message and archive.requests == []


@pytest.mark.django_db
def test_an_unknown_event_is_no_data_and_a_wrong_name_is_refused(archive, make_target):
    outcome = update(make_target("x", RA, DEC, **{"OGLE EWS name": "OGLE-2019-BLG-0777"}), OgleEwsBroker)
    assert outcome.status == "no_data" and "no event at /ogle/ogle4/ews/2019/blg-0777" in outcome.message
    archive.reset()
    outcome = update(make_target("y", RA, DEC, **{"OGLE EWS name": "OB190001"}), OgleEwsBroker)
    assert outcome.status == "invalid_name" and archive.requests == []


def parse(text):
    return OgleEwsBroker().parse_response(Response("http://x", 200, {}, text.encode()), TargetInfo(1, "x", RA, DEC))


def test_ogle_iii_files_have_three_columns():
    lightcurve = parse("2452000.12345 16.500 0.010\n2452001.12345 16.520 0.012\n")
    assert len(lightcurve) == 2 and "seeing_px" not in lightcurve.frame


@pytest.mark.parametrize("text, reason", [
    ("2457416.87904 16.674 0.015 6.71 1554.0\n2457424.86944 16.662\n", "fields"),  # a line cut short
    ("2457416.87904 16.674 0.015 6.71 1554.0\n2457424.86944 16.662 0.008 5.69 560.0", "mid-line"),
    ("57416.87904 16.674 0.015 6.71 1554.0\n", "not a full HJD"),
    ("HJD I err seeing sky\n2457416.87904 16.674 0.015 6.71 1554.0\n", "could not read"),
])
def test_odd_files_are_clear_errors(text, reason):
    with pytest.raises(BrokerParseError, match=reason):
        parse(text)


@pytest.mark.django_db
def test_a_broken_season_list_is_a_clear_error_and_not_kept(archive, make_target):
    archive.add_fault(kind="replace", path="/ogle/ogle4/ews/2019/lenses.par", body="<pre>maintenance</pre>\n")
    outcome = update(make_target("microlens", RA, DEC), OgleEwsBroker)
    assert outcome.status == "error" and "does not start with the header" in outcome.message
    archive.reset()
    assert update(make_target("again", RA, DEC), OgleEwsBroker).status == "ok"  # the bad list was not cached


def test_read_daily_in_the_bulge_season_only(settings):
    settings.DATA_SERVICES = {"OGLE EWS": {"season_months": []}}
    assert OgleEwsBroker.cadence_interval() is None
    settings.DATA_SERVICES = {"OGLE EWS": {"season_months": list(range(1, 13))}}
    assert OgleEwsBroker.cadence_interval().days == 1


@pytest.mark.django_db
def test_a_season_list_cut_short_is_read_again_by_a_forced_run(archive, make_target):
    """A list cut after its first event looks whole and is cached; a later event is then "no event" until a forced
    run, which asks for the season lists again (caches filled before it started)."""
    whole = (DATA_DIR / "ogle_ews" / "lenses_2019.par").read_text()
    archive.add_fault(kind="replace", path="/ogle/ogle4/ews/2019/lenses.par",
                      body="".join(whole.splitlines(keepends=True)[:2]))
    target = make_target("microlens", RA, DEC)
    cut = update(target, OgleEwsBroker, force=False)
    assert cut.status == "no_data", cut.message
    archive.reset()
    assert update(target, OgleEwsBroker, force=False).status != "ok"  # not due, or the cached cut list again
    forced = update(target, OgleEwsBroker, force=True)
    assert forced.status == "ok", forced.message
    assert target.targetextra_set.get(key="OGLE EWS name").value == "OGLE-2019-BLG-9999"
