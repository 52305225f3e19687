"""DASCH: the Starglass DR7 API on answers in DR7's documented layout whose rows are the real legacy answer's
(tests/data/dasch/PROVENANCE.md), and the real legacy VOTable itself. Expectations are computed here from the files
with astropy's VOTable reader and the cuts written out again; HJD -> UTC with astropy's ``light_travel_time``."""
import gzip
import json

import numpy as np
import pytest
from astropy.io.votable import parse_single_table

from tests.brokers.contract import BrokerContract, geocentric_utc_mjd, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.dasch import DaschBroker
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo
from tom_bhtom_brokers.transports.http import Response

RA, DEC = 300.95625, 44.18083  # APASS J200349.5+441051, 0.4 deg from KIC 8462852
FOLDER = DATA_DIR / "dasch"
LEGACY = gzip.decompress((FOLDER / "APASS_J200349.5+441051.xml.gz").read_bytes())
#: bits 7, 12, 13, 14, 16 (1-based) of AFLAGS: daschlab's apply_standard_rejections
BAD = 64 | 2048 | 4096 | 8192 | 32768


def expected(date_jd, mag, rms, limit, aflags):
    """(kept rows, detections among them, flagged, no measurement) by DASCH's rules, written out again."""
    detected = np.isfinite(mag) & (mag > 0)
    usable = np.where(detected, (rms > 0) & (rms < 99), limit > 0)
    flagged = (aflags.astype(np.int64) & BAD) != 0
    keep = usable & ~flagged
    return keep, detected, int((usable & flagged).sum()), int((~usable).sum())


def dr7_rows():
    lines = json.loads((FOLDER / "lightcurve_apass_J200349.json").read_text())
    header = lines[0].split(",")
    cells = [dict(zip(header, line.split(","))) for line in lines[1:]]
    return {name: np.array([float(c[name]) if c[name] else np.nan for c in cells])
            for name in ("date_jd", "magcal_magdep", "magcal_local_rms", "limiting_mag_local", "aflags")}


DR7 = dr7_rows()
DR7_KEEP, DR7_DETECTED, DR7_FLAGGED, DR7_NONE = expected(
    DR7["date_jd"], DR7["magcal_magdep"], DR7["magcal_local_rms"], DR7["limiting_mag_local"], DR7["aflags"])


class TestDaschContract(BrokerContract):
    broker_class = DaschBroker
    covered_target = {"name": "APASS J200349.5+441051", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 10.0, "dec": -30.0}
    expected_path = "/public/dasch/dr7/lightcurve"
    expected_params = {"ref_number": "420034951441051", "gsc_bin_index": "143366582", "refcat": "apass"}
    expected_points = int(DR7_KEEP.sum())
    expected_filters = ("B",)
    expected_mjd_range = (geocentric_utc_mjd(DR7["date_jd"][DR7_KEEP].min(), RA, DEC),
                          geocentric_utc_mjd(DR7["date_jd"][DR7_KEEP].max(), RA, DEC))
    fault_path = "/dr7/lightcurve"


@pytest.mark.django_db
def test_plates_become_detections_and_limits_with_every_row_accounted_for(archive, make_target):
    target = make_target("APASS J200349.5+441051", RA, DEC)
    outcome = update(target, DaschBroker)
    assert outcome.status == "ok", outcome.message
    row = LightcurveUpdate.objects.get(target=target, source="DASCH")
    assert row.matched_identifier == "APASS_J200349.5+441051"
    assert "other object(s) in the cone" in outcome.message  # the 3.3" neighbour was not chosen
    points = stored(target, "DASCH")
    detections = [p for p in points if p.brightness is not None]
    assert len(detections) == int((DR7_KEEP & DR7_DETECTED).sum()) > 0
    assert points.count() - len(detections) == int((DR7_KEEP & ~DR7_DETECTED).sum()) > 0
    assert points.count() + DR7_FLAGGED + DR7_NONE == len(DR7["date_jd"])
    assert f"{DR7_FLAGGED} DASCH row(s) with DASCH's standard AFLAGS rejections left out" in outcome.message
    assert DR7_NONE > 0 and f"{DR7_NONE} DASCH row(s) without a usable magnitude" in outcome.message
    assert {p.bandpass for p in points} == {"B(DASCH)"}


def test_the_real_legacy_votable_is_read_with_every_row_accounted_for():
    """The 3,170 rows of the retired service's answer: 489 plates detected the star, the rest give a limit."""
    table = parse_single_table(FOLDER / "APASS_J200349.5+441051.xml.gz").to_table()
    date_jd, mag, rms, limit, aflags = (np.asarray(table[name], dtype=float) for name in (
        "ExposureDate", "magcal_magdep", "magcal_local_rms", "limiting_mag_local", "AFLAGS"))
    keep, detected, flagged, none = expected(date_jd, mag, rms, limit, aflags)
    assert (len(table), int(detected.sum())) == (3170, 489)
    lightcurve = DaschBroker().parse(LEGACY, TargetInfo(None, "APASS J200349.5+441051", RA, DEC))
    frame = lightcurve.frame.sort_values("time_original", kind="stable")
    assert len(frame) == int(keep.sum()) and lightcurve.tallies == {"flagged": flagged, "no measurement": none}
    order = np.argsort(date_jd[keep], kind="stable")
    assert np.allclose(frame["time_original"], date_jd[keep][order])
    # within 1 s of astropy's heliocentric light-travel time at the geocentre
    assert np.abs(frame["mjd"].to_numpy() - geocentric_utc_mjd(date_jd[keep][order], RA, DEC)).max() * 86400 < 1
    measured = frame["brightness"].notna().to_numpy()
    assert measured.sum() == int((keep & detected).sum())
    assert np.allclose(frame["brightness"][measured], mag[keep][order][measured])
    assert np.allclose(frame["limit"][~measured], limit[keep][order][~measured])
    years = 1858.87 + frame["mjd"] / 365.25
    assert 1889 < years.min() and years.max() < 1990


@pytest.mark.parametrize("answer, reason", [
    (b'{"message": "Internal server error"}', "is an error, not a table: {'message': 'Internal server error'}"),
    (b'[]', "empty list"),
    (b'[1, 2]', "not a list of CSV lines"),
    (b'["date_jd,magcal_magdep", "2411313.5,12.0"]', r"no column\(s\)"),
    (b'<VOTABLE><RESOURCE>', "neither DR7's JSON nor a VOTable"),
])
def test_an_answer_that_is_not_a_light_curve_is_refused_with_what_it_said(answer, reason):
    with pytest.raises(BrokerParseError, match=reason):
        DaschBroker().parse(answer, TargetInfo(None, "x", RA, DEC))


def test_a_star_id_that_is_not_an_integer_never_reaches_the_second_request(monkeypatch):
    broker = DaschBroker()
    answer = json.dumps(["ref_text,ref_number,gsc_bin_index,ra_deg,dec_deg",
                         f"X,1 OR 1,143366582,{RA},{DEC}"]).encode()
    monkeypatch.setattr(broker, "send", lambda req: Response("https://starglass/querycat", 200, {}, answer))
    with pytest.raises(BrokerParseError, match="integer gsc_bin_index/ref_number"):
        broker.locate_by_cone(TargetInfo(None, "x", RA, DEC))
