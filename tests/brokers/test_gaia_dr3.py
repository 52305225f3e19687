import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.time import Time
import astropy.units as u

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR, as_votable
from tom_bhtom_brokers.brokers.gaia_dr3 import GaiaDR3Broker
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 90.26701, -18.96770            # Gaia20fnr: the one-row-per-transit layout (CSV)
STAR = "2945521337401118464"
OLD_RA, OLD_DEC = 304.7108, 55.1547      # Gaia19dke: the one-row-per-band layout (VOTable)
OLD_STAR = "2188191553213987072"


def members(source_id):
    with zipfile.ZipFile(DATA_DIR / "gaia_dr3" / f"epoch_photometry_{source_id}.zip") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


CURRENT = pd.read_csv(io.BytesIO(next(iter(members(STAR).values()))), dtype=str, keep_default_na=False)
# 3 bands per transit, less the empty BP/RP cells, the photometry-rejected transit and one variability-rejected G
USABLE = {band: int(((CURRENT[mag] != "") & (CURRENT[reject] != "true") & (CURRENT["rejected_by_photometry"] != "true"))
                    .sum())
          for band, mag, reject in (("G", "g_transit_mag", "variability_flag_g_reject"),
                                    ("BP", "bp_mag", "variability_flag_bp_reject"),
                                    ("RP", "rp_mag", "variability_flag_rp_reject"))}
TIMES = pd.to_numeric(pd.concat([CURRENT["g_transit_time"], CURRENT["bp_obs_time"], CURRENT["rp_obs_time"]]),
                      errors="coerce")


def naive_mjd(time):
    return time + 55197.0


class TestGaiaDR3Contract(BrokerContract):
    transport_faults = True
    broker_class = GaiaDR3Broker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 10.0, "dec": 10.0}
    expected_path = "/data-server/data"
    expected_params = {"RETRIEVAL_TYPE": "EPOCH_PHOTOMETRY", "ID": STAR, "RELEASE": "Gaia DR3",
                       "DATA_STRUCTURE": "INDIVIDUAL", "USE_ZIP_ALWAYS": "true"}
    expected_points = sum(USABLE.values())
    expected_filters = ("G", "BP", "RP")
    # the first and last stored transits are not rejected; their UTC MJDs are ~5 min off the naive reading
    expected_mjd_range = (0.0, 0.0)
    fault_path = "/data-server/data"

    def test_stored_times_are_utc_and_bandpasses_follow_the_convention(self, archive, make_target):
        lightcurve = GaiaDR3Broker().fetch(TargetInfo(1, "x", RA, DEC)).lightcurve
        self.expected_mjd_range = (lightcurve.frame["mjd"].min(), lightcurve.frame["mjd"].max())
        assert abs(self.expected_mjd_range[0] - naive_mjd(TIMES.min())) < 10 / 1440
        super().test_stored_times_are_utc_and_bandpasses_follow_the_convention(archive, make_target)


@pytest.mark.django_db
def test_cone_uses_proper_motion_and_records_the_id(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, GaiaDR3Broker)
    assert outcome.status == "ok", outcome.message
    cone = next(r for r in archive.requests if r["path"] == "/tap-server/tap/sync")
    assert "gaiadr3.gaia_source" in cone["params"]["QUERY"]
    # the cone is widened by 16 yr x 0.5"/yr: the star is 2.4" away at J2016.0
    assert "CIRCLE('ICRS', 90.2670100, -18.9677000, 0.00250000)" in cone["params"]["QUERY"]
    assert target.targetextra_set.get(key="Gaia DR3 id").value == STAR
    row = LightcurveUpdate.objects.get(target=target, source="Gaia DR3")
    assert row.matched_identifier == STAR and row.queried_with == f"Gaia DR3 id={STAR}"
    points = stored(target, "Gaia DR3")
    for band, count in USABLE.items():
        assert points.filter(bandpass=f"{band}(Gaia DR3)").count() == count
    assert points.filter(value__other_flags=4097).count() == 1
    assert {p.value["solution_id"] for p in points} == {"375316653866487564"}
    errors = points.filter(bandpass="G(Gaia DR3)").values_list("brightness_error", flat=True)
    assert np.allclose(list(errors), np.hypot(1.0857362 / 180.0, 0.0027553202), rtol=1e-5)
    # the next update goes by id: no cone
    archive.requests.clear()
    update(target, GaiaDR3Broker)
    assert [r["path"] for r in archive.requests] == ["/data-server/data"]


def test_the_match_moves_each_candidate_to_the_targets_epoch():
    """The star moves 150 mas/yr north: 2.4" from the J2000 position by J2016.0; a still neighbour sits 1.5"
    away. Read at the target's epoch the star is the match; ignoring proper motion it would be missed, or,
    with a 2" radius, the neighbour would be taken instead."""
    cone = as_votable((DATA_DIR / "gaia_dr3" / "cone_Gaia20fnr.csv").read_bytes())  # as the TAP service sends it
    broker = GaiaDR3Broker()
    source_id, separation, has_epoch_photometry = broker.nearest(cone, TargetInfo(1, "x", RA, DEC, epoch=2000.0))
    assert (source_id, has_epoch_photometry) == (STAR, True) and separation < 0.1
    assert broker.nearest(cone, TargetInfo(1, "x", RA, DEC, epoch=2016.0)) is None
    broker._radius_override = 2 * u.arcsec
    assert broker.nearest(cone, TargetInfo(1, "x", RA, DEC, epoch=2016.0))[0] == "2945521337401118592"


@pytest.mark.django_db
def test_the_old_per_band_layout_in_votable(archive, make_target):
    target = make_target("Gaia19dke", OLD_RA, OLD_DEC)
    outcome = update(target, GaiaDR3Broker)
    assert outcome.status == "ok", outcome.message
    points = stored(target, "Gaia DR3")
    assert outcome.added == 3 * 36 - 1  # one G transit rejected by the variability processing
    assert set(points.values_list("bandpass", flat=True)) == {"G(Gaia DR3)", "BP(Gaia DR3)", "RP(Gaia DR3)"}


@pytest.mark.django_db
def test_a_source_without_epoch_photometry_is_no_data_with_its_id(archive, make_target):
    target = make_target("Gaia18cbf", 268.8875, -31.2472)
    outcome = update(target, GaiaDR3Broker)
    assert outcome.status == LightcurveUpdate.Status.NO_DATA and "4043383456173344256" in outcome.message
    assert "no epoch photometry" in outcome.message
    assert not any(r["path"] == "/data-server/data" for r in archive.requests)


@pytest.mark.django_db
def test_a_wrong_id_is_refused_without_a_request(archive, make_target):
    target = make_target("x", RA, DEC, **{"Gaia DR3 id": "Gaia DR3 12ab"})
    outcome = update(target, GaiaDR3Broker)
    assert outcome.status == "invalid_name" and "Gaia DR3 id is a Gaia DR3 source_id" in outcome.message
    assert archive.requests == []


@pytest.mark.django_db
def test_an_error_page_from_the_tap_service_is_an_error(archive, make_target):
    archive.add_fault(path="/tap-server/", kind="html")
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, GaiaDR3Broker)
    assert outcome.status == "error" and "HTML page" in outcome.message and "/tap-server/" in outcome.url


def test_utc_of_a_known_transit_differs_from_the_naive_reading_by_tcb_and_light_time():
    """time + 55197 reads BJD(TCB) as if it were UTC MJD. The stored UTC must be earlier by TCB-UTC
    (85.6-88.9 s over 2014-2017) plus the light travel time from the Earth to the barycentre towards the star,
    both computed here with astropy's own routines, independently of the broker's code path."""
    lightcurve = GaiaDR3Broker().parse_response(
        Response("http://x", 200, {}, (DATA_DIR / "gaia_dr3" / f"epoch_photometry_{STAR}.zip").read_bytes()),
        TargetInfo(1, "x", RA, DEC))
    frame = lightcurve.frame
    stored_utc = Time(frame["mjd"].to_numpy(dtype=float), format="mjd", scale="utc")
    geocentre = EarthLocation.from_geocentric(0, 0, 0, unit=u.m)
    light_time = Time(stored_utc, location=geocentre).light_travel_time(
        SkyCoord(RA * u.deg, DEC * u.deg), kind="barycentric").to_value(u.s)
    tcb_minus_utc = (stored_utc.tcb.mjd - stored_utc.mjd) * 86400
    difference = (naive_mjd(frame["time_original"].to_numpy(dtype=float)) - frame["mjd"].to_numpy()) * 86400
    assert ((85 < tcb_minus_utc) & (tcb_minus_utc < 90)).all()  # 32.184 s + leap seconds + TCB rate
    assert np.abs(light_time).max() > 120  # minutes at some dates, seconds at others
    assert difference == pytest.approx(tcb_minus_utc + light_time, abs=0.002)
