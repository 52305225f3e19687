import time

import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.time import Time
import astropy.units as u

from tests.brokers.contract import BrokerContract, stored, update
from tests.data.make_fixtures import ASASSN_EMPTY_JOB, ASASSN_FU_ORI_JOB, ASASSN_PHOTOMETRY_ID
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.asassn import AsassnBroker
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.lightcurve import geocentric_utc_mjd
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 88.0717, 9.0680
HOST = "https://asas-sn.osu.edu"
JOB_URL = f"{HOST}/sky-patrol/coordinate/{ASASSN_FU_ORI_JOB}"
EXPORT = pd.read_csv(DATA_DIR / "asassn" / f"coordinate_{ASASSN_FU_ORI_JOB}.csv", dtype=str)
FAILED = (EXPORT["mag"] == "99.990") & (EXPORT["mag_err"] == "99.990")
LIMITS = EXPORT["mag"].str.startswith(">")
USABLE = EXPORT[~FAILED]


def utc(hjd):
    """HJD (UTC) back to the geocentre, with astropy's own light-travel-time routine: t = HJD - ltt(t)."""
    geocentre = EarthLocation.from_geocentric(0, 0, 0, unit=u.m)
    star = SkyCoord(RA * u.deg, DEC * u.deg)
    arrival = Time(hjd, format="jd", scale="utc", location=geocentre)
    at_earth = arrival
    for _ in range(3):
        at_earth = arrival - at_earth.light_travel_time(star, kind="heliocentric")
    return at_earth.utc.mjd


class TestAsassnContract(BrokerContract):
    transport_faults = True
    broker_class = AsassnBroker
    covered_target = {"name": "FU Ori", "ra": RA, "dec": DEC, "ASAS-SN URL": JOB_URL}
    uncovered_target = {"name": "not yet observed", "ra": RA, "dec": DEC,
                        "ASAS-SN URL": f"{HOST}/sky-patrol/coordinate/{ASASSN_EMPTY_JOB}"}
    expected_path = f"/sky-patrol/coordinate/{ASASSN_FU_ORI_JOB}/export.csv"
    expected_points = len(USABLE)
    expected_filters = ("V", "g")
    fault_path = "/sky-patrol/"

    def test_stored_times_are_utc_and_bandpasses_follow_the_convention(self, archive, make_target):
        hjd = pd.to_numeric(USABLE["HJD"]).to_numpy()
        self.expected_mjd_range = tuple(utc(np.array([hjd.min(), hjd.max()])))
        super().test_stored_times_are_utc_and_bandpasses_follow_the_convention(archive, make_target)


@pytest.mark.django_db
def test_limits_failed_epochs_and_the_heliocentric_correction(archive, make_target):
    target = make_target("FU Ori", RA, DEC, **{"ASAS-SN URL": JOB_URL})
    outcome = update(target, AsassnBroker)
    assert outcome.status == "ok", outcome.message
    points = stored(target, "ASAS-SN")
    limits = points.filter(brightness__isnull=True)
    assert limits.count() == LIMITS.sum() == 3
    assert sorted(limits.values_list("limit", flat=True)) == sorted(EXPORT.loc[LIMITS, "mag"].str[1:].astype(float))
    assert points.count() == len(EXPORT) - FAILED.sum()
    first = points.order_by("timestamp").first()
    hjd = first.value["time_original"]
    shift_s = (hjd - 2400000.5 - Time(first.timestamp).utc.mjd) * 86400
    assert 1 < abs(shift_s) < 500  # the light time to the Sun's centre: seconds to minutes, never zero
    assert abs(Time(first.timestamp).utc.mjd - utc(np.array([hjd]))[0]) * 86400 < 0.01


@pytest.mark.django_db
def test_the_photometry_page_layout_takes_the_band_from_the_camera(archive, make_target):
    target = make_target("x", RA, DEC, **{"ASAS-SN URL": f"{HOST}/photometry/{ASASSN_PHOTOMETRY_ID}"})
    assert update(target, AsassnBroker).status == "ok"
    assert archive.requests[-1]["path"] == f"/photometry/{ASASSN_PHOTOMETRY_ID}.csv"
    bands = set(stored(target, "ASAS-SN").values_list("bandpass", flat=True))
    assert bands == {"V(ASAS-SN)", "g(ASAS-SN)"}
    # no UT column on this page: its HJD is brought back to the geocentre (astropy's light_travel_time)
    first = stored(target, "ASAS-SN").order_by("timestamp").first()
    assert abs(Time(first.timestamp).utc.mjd - utc(np.array([first.value["time_original"]]))[0]) * 86400 < 0.01
    assert "HJD (UTC) converted" in first.value["time_system"]


@pytest.mark.django_db
@pytest.mark.parametrize("url, reason", [
    ("https://evil.example.org/sky-patrol/coordinate/" + ASASSN_FU_ORI_JOB, "must be an address on asas-sn.osu.edu"),
    ("https://asas-sn.osu.edu/about", "is not a page this archive serves"),
    ("https://user:pw@asas-sn.osu.edu/photometry/" + ASASSN_PHOTOMETRY_ID, "must not carry a user name"),
    ("http://127.0.0.1/sky-patrol/coordinate/" + ASASSN_FU_ORI_JOB, "must be an address on asas-sn.osu.edu"),
    ("file:///etc/passwd", "must be an address on asas-sn.osu.edu"),
    ("ASASSN-21qj", "must be an address on asas-sn.osu.edu"),
])
def test_a_wrong_url_is_refused_without_any_request(archive, make_target, url, reason):
    target = make_target("x", RA, DEC, **{"ASAS-SN URL": url})
    outcome = update(target, AsassnBroker)
    assert outcome.status == LightcurveUpdate.Status.INVALID_NAME and reason in outcome.message
    assert archive.requests == []


@pytest.mark.django_db
def test_without_a_url_nor_the_v2_client_the_source_does_not_apply(archive, make_target, settings, monkeypatch):
    from tom_bhtom_brokers.brokers import asassn

    settings.DATA_SERVICES["ASAS-SN"].pop("skypatrol_client")  # the default client, which is not installed
    monkeypatch.setattr(asassn, "DEFAULT_CLIENT", "not_installed.client.SkyPatrolClient")
    outcome = update(make_target("x", RA, DEC), AsassnBroker)
    assert outcome.status == LightcurveUpdate.Status.NOT_APPLICABLE and "paste" in outcome.message
    assert "pip install 'tom-bhtom-brokers[asassn]'" in outcome.message


V2 = pd.read_csv(DATA_DIR / "asassn" / "v2" / "lc_12702.csv", comment="#")
V2_RA, V2_DEC = 80.0, -70.0  # where the recorded client's catalogue puts asas_sn_id 12702 (made up)


@pytest.fixture
def skypatrol():
    from tests.sample_archive.skypatrol import RecordedSkyPatrolClient

    RecordedSkyPatrolClient.calls, RecordedSkyPatrolClient.fail, RecordedSkyPatrolClient.stall = [], None, 0.0
    yield RecordedSkyPatrolClient
    RecordedSkyPatrolClient.calls, RecordedSkyPatrolClient.fail, RecordedSkyPatrolClient.stall = [], None, 0.0


@pytest.mark.django_db
def test_by_position_sky_patrol_v2_through_its_client(archive, make_target, skypatrol):
    target = make_target("VX Men", V2_RA, V2_DEC)
    outcome = update(target, AsassnBroker)
    assert outcome.status == "ok", outcome.message
    assert archive.requests == []  # no HTTP: the client is the transport
    calls = [call[0] for call in skypatrol.calls]
    assert calls == ["connect", "cone_search", "query_list"]
    assert skypatrol.calls[1][1:] == (V2_RA, V2_DEC, 5.0, "arcsec", "master_list")
    assert skypatrol.calls[2][1:] == ((12702,), "master_list", "asas_sn_id", True)
    points = sorted(stored(target, "ASAS-SN"), key=lambda p: p.timestamp)
    expected = V2.sort_values("jd")
    assert len(points) == len(V2) == 1065 and (V2["mag_err"] <= 99).all()  # all detections in this sample
    for point, (_, row) in zip(points, expected.iterrows()):
        assert abs(Time(point.timestamp).jd - row["jd"]) * 86400 < 1.0  # jd stored as a geocentric UTC JD
        assert (point.brightness, point.brightness_error) == (row["mag"], row["mag_err"])
        assert point.bandpass == "g(ASAS-SN)"  # its cameras are all g cameras
        assert point.value["pipeline"] == "Sky Patrol v2" and point.value["camera"] == row["cam"]
        assert point.value["time_original"] == row["jd"]
    # nothing recorded in the URL field (v2 has no page to paste); the next forced update asks the same way
    assert not target.targetextra_set.filter(key="ASAS-SN URL").exclude(value="").exists()
    again = update(target, AsassnBroker)
    assert again.status == "ok" and again.added == 0


@pytest.mark.django_db
def test_v1_and_v2_points_are_told_apart(archive, make_target, skypatrol):
    target = make_target("FU Ori", RA, DEC, **{"ASAS-SN URL": JOB_URL})
    assert update(target, AsassnBroker).status == "ok"
    assert {p.value["pipeline"] for p in stored(target, "ASAS-SN")} == {"Sky Patrol v1"}
    assert skypatrol.calls == []  # a pasted page is read over HTTP, the client is never made


@pytest.mark.django_db
def test_v2_limits_bad_quality_and_an_unreachable_server(archive, make_target, skypatrol):
    frame = V2.rename(columns={"cam": "camera"}).head(4).assign(quality=["G", "B", "G", "G"])
    frame.loc[2, "mag_err"] = 99.99
    lightcurve = AsassnBroker().parse_response(Response("skypatrol-v2:x", 200, {}, frame.to_csv(index=False).encode()),
                                               TargetInfo(1, "x", V2_RA, V2_DEC))
    assert len(lightcurve) == 3 and lightcurve.tallies == {"bad quality": 1}
    row = lightcurve.frame.set_index("time_original").loc[frame.loc[2, "jd"]]
    assert np.isnan(row["brightness"]) and row["limit"] == frame.loc[2, "limit"]
    skypatrol.fail = ConnectionError("port 9006 refused")
    outcome = update(make_target("VX Men", V2_RA, V2_DEC), AsassnBroker)
    assert outcome.status == "error" and "Sky Patrol v2: ConnectionError: port 9006 refused" in outcome.message
    skypatrol.fail = None
    assert update(make_target("empty", 10.0, -10.0), AsassnBroker).status == "no_data"


def test_a_cut_row_is_an_error():
    from tom_bhtom_brokers.exceptions import BrokerParseError
    from tom_bhtom_brokers.transports.http import Response

    text = (DATA_DIR / "asassn" / f"coordinate_{ASASSN_FU_ORI_JOB}.csv").read_text().splitlines()
    text[3] = ",".join(text[3].split(",")[:4])
    with pytest.raises(BrokerParseError, match="empty fields"):
        AsassnBroker().parse_response(Response("http://x", 200, {}, "\n".join(text).encode()),
                                      TargetInfo(1, "x", RA, DEC))


def test_an_epoch_past_the_bundled_earth_rotation_tables_converts_offline(caplog, recwarn):
    """A heliocentric time of 2050: no IERS table is asked for (astropy's light_travel_time would try to download
    one and then refuse the date), and the shift is the light time to the Sun (< 500 s)."""
    hjd = np.array([2470000.5])
    mjd = geocentric_utc_mjd(hjd, 90.0, -18.0, format="jd", scale="utc", centre="heliocentric")
    assert 0 < abs(mjd[0] - (hjd[0] - 2400000.5)) * 86400 < 500
    assert "IERS" not in caplog.text and not [w for w in recwarn if "IERS" in str(w.message)]


@pytest.mark.django_db
def test_a_v2_server_that_never_answers_does_not_hold_the_worker(archive, make_target, skypatrol, settings):
    settings.DATA_SERVICES["ASAS-SN"]["deadline_seconds"] = 0.5
    skypatrol.stall = 30.0  # the client has no timeout of its own
    started = time.monotonic()
    outcome = update(make_target("VX Men", V2_RA, V2_DEC), AsassnBroker)
    assert time.monotonic() - started < 5.0
    assert outcome.status == "error" and "Sky Patrol v2 did not answer within 0.5 s" in outcome.message


@pytest.mark.django_db
def test_a_wrong_skypatrol_client_setting_says_what_is_wrong(archive, settings):
    """A client the site named that cannot be imported: the import's own error, in the status and in
    check_archives (not "pip install ...[asassn]", and not "ok")."""
    from io import StringIO

    from django.core.management import call_command

    settings.DATA_SERVICES["ASAS-SN"]["skypatrol_client"] = "mysite.no_such_module.Client"
    out = StringIO()
    call_command("check_archives", "--source", "ASAS-SN", stdout=out)
    assert "not configured" in out.getvalue() and "cannot be imported" in out.getvalue()
    assert "mysite.no_such_module.Client" in out.getvalue() and "pip install" not in out.getvalue()
