"""ALeRCE ZTF on the real ALeRCE values for ZTF18abbuksn (excerpts: 9 detections, 2 non-detections, 2 forced rows).

The expected values are chosen here, row by row, from the recorded JSON by the rule the README states (total
``magpsf_corr`` with its error, ``sigmapsf_corr_ext`` where ``sigmapsf_corr`` is the sentinel 100; a
non-detection of a reference source bounds only the change of its flux, in µJy), and on rows made by ALeRCE's own
correction formula, magpsf_corr = -2.5 log10(10^(-0.4 magnr) + isdiffpos 10^(-0.4 magpsf))."""
import math
import json

import pandas as pd
import pytest
from astropy.time import Time

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.alerce import AlerceBroker
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 313.7732663, 39.0980583
LIGHTCURVE = json.loads((DATA_DIR / "alerce" / "lightcurve_ZTF18abbuksn.json").read_text())
FORCED = json.loads((DATA_DIR / "alerce" / "forced_flattened_ZTF18abbuksn.json").read_text())
ALL_MJD = [r["mjd"] for r in LIGHTCURVE["detections"] + LIGHTCURVE["non_detections"] + FORCED]


class TestAlerceContract(BrokerContract):
    broker_class = AlerceBroker
    covered_target = {"name": "ZTF18abbuksn", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/ztf/v1/objects/ZTF18abbuksn/lightcurve"
    expected_points = len(ALL_MJD)
    expected_filters = ("g", "r")
    expected_mjd_range = (min(ALL_MJD), max(ALL_MJD))
    fault_path = "/ztf/v1/objects/ZTF18abbuksn"
    units = {"mag", "uJy"}  # the two non-detections of this reference star are limits on the change of its flux


def by_time(points):
    return {Time(p.timestamp).mjd: p for p in points}


def at(points, mjd):
    """The stored point within 1 s of ``mjd`` (the archive's UTC MJD)."""
    (point,) = [p for when, p in points.items() if abs(when - mjd) * 86400 < 1.0]
    return point


@pytest.mark.django_db
def test_real_values_total_magnitudes_sentinel_limits_and_forced_points(archive, make_target):
    target = make_target("ZTF18abbuksn", RA, DEC)
    outcome = update(target, AlerceBroker)
    assert outcome.status == "ok", outcome.message
    assert target.targetextra_set.get(key="ZTF name").value == "ZTF18abbuksn"  # found by the cone, recorded
    assert LightcurveUpdate.objects.get(target=target, source="ALeRCE ZTF").matched_identifier == "ZTF18abbuksn"
    points = by_time(stored(target, "ALeRCE ZTF"))
    for row in LIGHTCURVE["detections"]:
        point = at(points, row["mjd"])
        sentinel = row["sigmapsf_corr"] == 100.0
        assert point.brightness == pytest.approx(row["magpsf_corr"])
        assert point.brightness_error == pytest.approx(row["sigmapsf_corr_ext"] if sentinel else row["sigmapsf_corr"])
        assert point.value["magnitude_kind"] == "total"
        assert point.bandpass == {1: "g(ALeRCE)", 2: "r(ALeRCE)"}[row["fid"]]
        assert point.value["kind"] == "detection" and point.value["candid"] == row["candid"]
    r_totals = [row["magpsf_corr"] for row in LIGHTCURVE["detections"] if row["fid"] == 2]
    for row in LIGHTCURVE["non_detections"]:  # r limits of 19.9 and 20.6 of a star detected at r = 13.3
        point = at(points, row["mjd"])
        assert max(r_totals) < 13.5 and row["diffmaglim"] > 19.9  # the rows are what the issue says
        assert point.brightness is None and point.unit == "uJy"
        assert point.limit == pytest.approx(10 ** ((23.9 - row["diffmaglim"]) / 2.5))  # AB: 23.9 at 1 uJy
        assert point.value["magnitude_kind"] == "limit on the change"
    on_magnitude_axis = [p for p in points.values() if p.unit == "mag"]
    assert all(p.limit is None for p in on_magnitude_axis)  # no limit contradicts a total detection
    for row in FORCED:  # both real forced rows have S/N ~100 and a total magnitude (e_mag_corr is the sentinel)
        point = at(points, row["mjd"])
        assert point.value["kind"] == "forced"
        assert point.brightness == pytest.approx(row["mag_corr"])
        assert point.brightness_error == pytest.approx(row["e_mag_corr_ext"])
    assert len(points) == len(ALL_MJD)  # ALeRCE's mjd is UTC: each stored within 1 s of it (``at``)


@pytest.mark.django_db
def test_by_name_and_a_name_alerce_does_not_know(archive, make_target):
    target = make_target("known", RA, DEC, **{"ZTF name": "ZTF18abbuksn"})
    assert update(target, AlerceBroker).status == "ok"
    assert not [r for r in archive.requests if r["path"] == "/ztf/v1/objects"]  # no cone search
    unknown = make_target("unknown", RA, DEC, **{"ZTF name": "ZTF19zzzzzzz"})
    outcome = update(unknown, AlerceBroker)
    assert outcome.status == "no_data" and "ALeRCE has no ZTF object ZTF19zzzzzzz" in outcome.message


def parse(document):
    return AlerceBroker().parse_response(Response("http://x", 200, {}, json.dumps(document).encode()),
                                         TargetInfo(1, "x", RA, DEC))


def test_the_flattened_and_the_nested_forced_layouts_read_alike():
    nested = json.loads((DATA_DIR / "alerce" / "forced_ZTF18abbuksn.json").read_text())
    assert all("diffmaglim" in row["extra_fields"] for row in nested)
    assert parse(nested).frame.equals(parse(FORCED).frame)


def corrected(magnr, magpsf, isdiffpos):
    """ALeRCE's correction: the total magnitude of a reference source of magnitude ``magnr`` whose difference
    magnitude is ``magpsf`` with sign ``isdiffpos``."""
    return -2.5 * math.log10(10 ** (-0.4 * magnr) + isdiffpos * 10 ** (-0.4 * magpsf))


def test_a_weak_forced_epoch_of_a_reference_star_is_its_total_magnitude_not_a_limit():
    """The issue's case: a 15.6 mag star, a 2-sigma difference flux: its total magnitude, never "fainter than
    20.84"."""
    magnr, magpsf = 15.6, 20.2
    row = dict(FORCED[0], e_mag=0.54, mag=magpsf, mag_corr=corrected(magnr, magpsf, 1), e_mag_corr=0.02,
               magnr=magnr)  # S/N 2
    frame = parse([row]).frame
    assert frame.loc[0, "brightness"] == pytest.approx(15.585, abs=1e-3) and pd.isna(frame.loc[0, "limit"])
    assert frame.loc[0, "magnitude_kind"] == "total" and frame.loc[0, "unit"] == "mag"
    # no total magnitude of it (the sentinel in both errors): the difference flux with its error, not a limit
    row.update(e_mag_corr=100.0, e_mag_corr_ext=100.0)
    frame = parse([row]).frame
    flux = 10 ** ((23.9 - magpsf) / 2.5)
    assert frame.loc[0, "unit"] == "uJy" and frame.loc[0, "magnitude_kind"] == "difference"
    assert frame.loc[0, "brightness"] == pytest.approx(flux)
    assert frame.loc[0, "brightness_error"] == pytest.approx(flux * 0.54 * math.log(10) / 2.5)
    assert pd.isna(frame.loc[0, "limit"])


def test_an_object_absent_from_the_reference_has_true_upper_limits():
    """No reference source (``corrected`` false, distnr over 1.4"): the difference is the object's brightness,
    a weak forced epoch and a non-detection are upper limits on it."""
    weak = dict(FORCED[0], e_mag=0.5, corrected=False, distnr=3.2, mag_corr=None)  # S/N 2.2
    frame = parse([weak]).frame
    assert frame.loc[0, "limit"] == pytest.approx(weak["diffmaglim"]) and pd.isna(frame.loc[0, "brightness"])
    assert frame.loc[0, "magnitude_kind"] == "upper limit" and frame.loc[0, "unit"] == "mag"
    positive = dict(LIGHTCURVE["detections"][0], corrected=False, magpsf_corr=None)
    limit = dict(LIGHTCURVE["non_detections"][0], fid=positive["fid"])
    frame = parse({"detections": [positive], "non_detections": [limit]}).frame
    assert frame.loc[0, "brightness"] == pytest.approx(positive["magpsf"])
    assert frame.loc[0, "magnitude_kind"] == "total (no reference source)"
    assert frame.loc[1, "limit"] == pytest.approx(limit["diffmaglim"]) and frame.loc[1, "unit"] == "mag"
    assert frame.loc[1, "magnitude_kind"] == "upper limit"
    negative = dict(LIGHTCURVE["detections"][7], corrected=False, magpsf_corr=None)  # isdiffpos -1
    frame = parse({"detections": [negative], "non_detections": []}).frame
    assert frame.loc[0, "brightness"] == pytest.approx(-10 ** ((23.9 - negative["magpsf"]) / 2.5))
    assert frame.loc[0, "magnitude_kind"] == "difference" and frame.loc[0, "unit"] == "uJy"


def test_rows_made_by_alerces_correction_formula_store_the_total_they_were_made_from():
    rows = []
    for i, (magnr, magpsf, sign) in enumerate([(14.0, 16.5, 1), (14.0, 16.5, -1), (17.2, 18.0, 1),
                                               (12.5, 19.9, -1)]):
        rows.append(dict(LIGHTCURVE["detections"][0], mjd=59000.0 + i, magnr=magnr, magpsf=magpsf, isdiffpos=sign,
                         magpsf_corr=corrected(magnr, magpsf, sign), sigmapsf_corr=0.01, corrected=True))
    frame = parse({"detections": rows, "non_detections": [{"mjd": 59010.0, "fid": 1, "diffmaglim": 20.5}]}).frame
    expected = [-2.5 * math.log10(10 ** (-0.4 * r["magnr"]) + r["isdiffpos"] * 10 ** (-0.4 * r["magpsf"]))
                for r in rows]
    assert frame["brightness"].iloc[:4].tolist() == pytest.approx(expected)
    assert frame["brightness"].iloc[1] > 14.0 > frame["brightness"].iloc[0]  # fainter, brighter than magnr
    assert (frame["magnitude_kind"].iloc[:4] == "total").all()
    assert frame.loc[4, "magnitude_kind"] == "limit on the change" and frame.loc[4, "unit"] == "uJy"


@pytest.mark.parametrize("document, reason", [
    ({"detections": "none"}, "no 'detections'"),
    ({"detections": [{"mjd": 1.0, "fid": 7, "magpsf": 17.0}], "non_detections": []}, "unexpected ALeRCE fid"),
    ({"detections": [{"fid": 1}], "non_detections": []}, "no column"),
    ([1, 2], "not a list of rows"),
    ("text", "ALeRCE"),
])
def test_odd_answers_are_clear_errors(document, reason):
    with pytest.raises(BrokerParseError, match=reason):
        parse(document)


@pytest.mark.django_db
def test_an_object_search_naming_a_path_is_refused(archive, make_target):
    archive.add_fault(kind="replace", path="/ztf/v1/objects",
                      body='{"items": [{"oid": "../../admin", "meanra": 313.7732663, "meandec": 39.0980583}]}')
    outcome = update(make_target("x", RA, DEC), AlerceBroker)
    assert outcome.status == "error" and "no ZTF name as its oid" in outcome.message
    assert [r["path"] for r in archive.requests] == ["/ztf/v1/objects"]


@pytest.mark.django_db
def test_forced_photometry_is_asked_when_the_light_curve_changed_or_weekly(archive, make_target, monkeypatch):
    """ALeRCE's forced photometry arrives with the alerts: an unchanged light curve costs one request a day; a
    changed one, or a new weekly period of the pair, asks the forced photometry too."""
    target = make_target("ZTF18abbuksn", RA, DEC)
    assert update(target, AlerceBroker).status == "ok"
    forced_path = "/v2/lightcurve/forced-photometry/ZTF18abbuksn"

    def asked():
        paths = [r["path"] for r in archive.requests]
        archive.requests = []
        return paths

    asked()
    again = update(target, AlerceBroker)
    assert again.message.startswith("unchanged since the last update")
    assert asked() == ["/ztf/v1/objects/ZTF18abbuksn/lightcurve"]
    # a new detection: both asked, and the forced rows still stored
    changed = {**LIGHTCURVE, "detections": LIGHTCURVE["detections"] + [{**LIGHTCURVE["detections"][0],
                                                                         "mjd": 61100.25, "candid": "1"}]}
    archive.add_fault(kind="replace", path="/ztf/v1/objects/ZTF18abbuksn/lightcurve", body=json.dumps(changed))
    news = update(target, AlerceBroker)
    assert news.status == "ok" and news.added == 1, news.message
    assert forced_path in asked()
    assert update(target, AlerceBroker).message.startswith("unchanged since the last update")
    assert forced_path not in asked()
    # the pair's next weekly period reads the forced photometry even though the light curve stayed the same
    monkeypatch.setattr(AlerceBroker, "follower_period", lambda self, info: b"\0follow period next")
    weekly = update(target, AlerceBroker)
    assert weekly.status == "ok" and weekly.added == 0, weekly.message
    assert forced_path in asked()
    assert stored(target, "ALeRCE ZTF").count() == len(ALL_MJD) + 1
