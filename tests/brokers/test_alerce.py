"""ALeRCE ZTF on the real ALeRCE values for ZTF18abbuksn (excerpts: 9 detections, 2 non-detections, 2 forced rows).

The expected magnitudes are chosen here, row by row, from the recorded JSON by the rule the README states (total
``magpsf_corr`` with its error, ``sigmapsf_corr_ext`` where ``sigmapsf_corr`` is the sentinel 100)."""
import json

import pandas as pd
import pytest
from astropy.time import Time

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.alerce import AlerceBroker
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.http import Response
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
        assert point.value["magnitude_kind"] == ("total (ext error)" if sentinel else "total")
        assert point.bandpass == {1: "g(ALeRCE)", 2: "r(ALeRCE)"}[row["fid"]]
        assert point.value["kind"] == "detection" and point.value["candid"] == row["candid"]
    for row in LIGHTCURVE["non_detections"]:
        point = at(points, row["mjd"])
        assert point.brightness is None and point.limit == pytest.approx(row["diffmaglim"])
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


def test_low_signal_forced_rows_and_uncorrected_negative_detections_are_limits(settings):
    row = dict(FORCED[0], e_mag=0.5)  # S/N 2.2
    frame = parse([row]).frame
    assert frame.loc[0, "limit"] == pytest.approx(row["diffmaglim"]) and pd.isna(frame.loc[0, "brightness"])
    detection = dict(LIGHTCURVE["detections"][7], corrected=False)  # isdiffpos -1, no total magnitude
    frame = parse({"detections": [detection], "non_detections": []}).frame
    assert frame.loc[0, "limit"] == pytest.approx(detection["diffmaglim"]) and frame.loc[0, "magnitude_kind"] == "limit"
    positive = dict(LIGHTCURVE["detections"][0], corrected=False)
    frame = parse({"detections": [positive], "non_detections": []}).frame
    assert frame.loc[0, "brightness"] == pytest.approx(positive["magpsf"])
    assert frame.loc[0, "magnitude_kind"] == "difference"


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
