"""Rubin LSST through Fink (and ANTARES) on the real answers for AT 2026qhm (diaObjectId 170587117485817955).

Expectations are computed here from the recorded JSON with astropy and numpy, not through the broker: TAI -> UTC
with ``Time(..., scale="tai").utc`` and m = 31.4 - 2.5 log10(f). What each point is follows the README's rule: the
object is in the template where the science flux exceeds the difference flux by more than 3 of its errors; there
the point is the signed difference flux in nJy, elsewhere the difference flux's magnitude."""
import json

import numpy as np
import pytest
from astropy.time import Time

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.lsst import LsstBroker
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 62.4576309, -48.4814921
OBJECT_ID = "170587117485817955"
SOURCES = json.loads((DATA_DIR / "lsst" / "sources_170587117485817955_excerpt.json").read_text())
FORCED = json.loads((DATA_DIR / "lsst" / "fp_170587117485817955.json").read_text())
DETECTED_VISITS = {(row["r:visit"], row["r:band"]) for row in SOURCES}
FORCED_KEPT = [row for row in FORCED if (row["r:visit"], row["r:band"]) not in DETECTED_VISITS]
ANTARES_LOCUS = json.loads((DATA_DIR / "antares" / "locus_ANT2026rq61krn5dipt.json").read_text())["data"]
ANTARES_ROWS = [row for row in ANTARES_LOCUS["lightcurve"] if row["alert_id"].startswith("lsst:")]


def expected_point(flux, error, science, science_error):
    """(magnitude_kind, brightness, error, unit) of a difference flux and the science flux of its visit."""
    if science - flux > 3 * science_error:
        return "difference", flux, error, "nJy"
    return "total (no reference source)", 31.4 - 2.5 * np.log10(flux), 2.5 / np.log(10) * error / flux, "mag"


def utc(mjd_tai):
    return Time(mjd_tai, format="mjd", scale="tai").utc.mjd


def stored_mjd(point):
    return Time(point.timestamp).mjd


class TestLsstContract(BrokerContract):
    broker_class = LsstBroker
    covered_target = {"name": "AT 2026qhm", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/api/v1/fp"
    expected_params = {"diaObjectId": OBJECT_ID, "columns": "r:diaForcedSourceId,r:visit,r:band,r:midpointMjdTai"}
    expected_points = len(SOURCES) + len(FORCED_KEPT)
    expected_filters = ("g", "r", "i", "z")
    expected_mjd_range = (utc(min(r["r:midpointMjdTai"] for r in FORCED)),
                          utc(max(r["r:midpointMjdTai"] for r in FORCED)))
    fault_path = "/api/v1/"
    units = {"nJy"}  # AT 2026qhm sits on template flux: every point a difference flux


@pytest.mark.django_db
def test_real_answers_times_magnitudes_and_the_recorded_id(archive, make_target):
    target = make_target("AT 2026qhm", RA, DEC)
    outcome = update(target, LsstBroker)
    assert outcome.status == "ok", outcome.message
    assert f"{len(FORCED) - len(FORCED_KEPT)} forced measurement(s) of visits with a detection left out" \
        in outcome.message
    # the cone's diaObjectId, recorded exactly (a float would have rounded it to ...7960)
    assert target.targetextra_set.get(key="LSST diaObjectId").value == OBJECT_ID
    assert LightcurveUpdate.objects.get(target=target, source="LSST").matched_identifier == OBJECT_ID
    points = {(p.value["kind"], p.value["visit"], p.bandpass): p for p in stored(target, "LSST")}
    assert len(points) == len(SOURCES) + len(FORCED_KEPT) == 20
    kinds = set()
    for kind, rows in (("detection", SOURCES), ("forced", FORCED_KEPT)):
        for row in rows:
            point = points[(kind, str(row["r:visit"]), f"{row['r:band']}(LSST)")]
            assert abs(stored_mjd(point) - utc(row["r:midpointMjdTai"])) * 86400 < 1.0
            assert abs(stored_mjd(point) - row["r:midpointMjdTai"]) * 86400 == pytest.approx(37.0, abs=1.0)
            flux, error = row["r:psfFlux"], row["r:psfFluxErr"]
            assert flux / error >= 3  # every real row is a detection at S/N >= 3
            kind_, value, value_error, unit = expected_point(flux, error, row["r:scienceFlux"], row["r:scienceFluxErr"])
            assert (point.value["magnitude_kind"], point.unit) == (kind_, unit)
            assert point.brightness == pytest.approx(value, rel=1e-9)
            assert point.brightness_error == pytest.approx(value_error, rel=1e-9)
            kinds.add(kind_)
            assert point.value["other_mag"] == pytest.approx(31.4 - 2.5 * np.log10(row["r:scienceFlux"]), abs=1e-9)
            assert point.value["source_id"] == str(row.get("r:diaSourceId", row.get("r:diaForcedSourceId")))
    assert kinds == {"difference"}  # AT 2026qhm sits on template flux (a host) in every band: no magnitude
    # the README's check: psfFlux 2674.69 nJy -> 22.83 mag, kept as the other route's magnitude
    assert points[("detection", "2026071300816", "i(LSST)")].brightness == pytest.approx(2674.69, abs=0.01)


@pytest.mark.django_db
def test_by_name_no_search_and_a_comma_list(archive, make_target):
    target = make_target("AT 2026qhm", RA, DEC, **{"LSST diaObjectId": f"{OBJECT_ID}, 170000000000000001"})
    outcome = update(target, LsstBroker)
    assert outcome.status == "ok", outcome.message
    assert not [r for r in archive.requests if r["path"] == "/api/v1/conesearch"]
    assert {r["params"]["diaObjectId"] for r in archive.requests} == {f"{OBJECT_ID},170000000000000001"}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["17058711748581795x", "1.7e17", "-170587117485817955", "1,2,3,4,5,6,7,8,9,10,11"])
def test_a_wrong_diaobjectid_is_refused_before_any_request(archive, make_target, value):
    target = make_target("AT 2026qhm", RA, DEC, **{"LSST diaObjectId": value})
    outcome = update(target, LsstBroker)
    assert outcome.status == "invalid_name" and "LSST diaObjectId is a Rubin diaObjectId" in outcome.message
    assert archive.requests == []


def parse(payload, **settings_overrides):
    return LsstBroker().parse_response(Response("http://x", 200, {}, json.dumps(payload).encode()),
                                       TargetInfo(1, "x", RA, DEC))


def row(flux, error, band="g", withdrawn=None, visit=2026071300816, science=None):
    """A forced row; its science flux is the difference flux (no template source) unless ``science`` is given."""
    return {"r:diaForcedSourceId": 170666304474710039, "r:visit": visit, "r:band": band,
            "r:midpointMjdTai": 61235.4191836794, "r:psfFlux": flux, "r:psfFluxErr": error,
            "r:scienceFlux": flux if science is None else science, "r:scienceFluxErr": 300.0,
            "r:timeWithdrawnMjdTai": withdrawn}


def test_an_object_absent_from_the_template_has_magnitudes_and_upper_limits():
    lightcurve = parse([row(2000.0, 100.0), row(250.0, 100.0, visit=1), row(-800.0, 120.0, visit=2),
                        row(3000.0, 100.0, withdrawn=61240.0, visit=3), row(500.0, 0.0, visit=4)])
    frame = lightcurve.frame.set_index("visit")
    assert frame.loc["2026071300816", "brightness"] == pytest.approx(31.4 - 2.5 * np.log10(2000.0))
    assert frame.loc["2026071300816", "magnitude_kind"] == "total (no reference source)"
    assert np.isnan(frame.loc["1", "brightness"])  # S/N 2.5: a 5-sigma upper limit on the object
    assert frame.loc["1", "limit"] == pytest.approx(31.4 - 2.5 * np.log10(5 * 100.0))
    assert frame.loc["1", "magnitude_kind"] == "upper limit" and frame.loc["1", "unit"] == "mag"
    # a significant negative difference says the flux fell: a difference flux, not a limit
    assert frame.loc["2", "brightness"] == -800.0 and frame.loc["2", "unit"] == "nJy"
    assert frame.loc["2", "magnitude_kind"] == "difference"
    assert "3" not in frame.index and "4" not in frame.index  # withdrawn; an error of 0 is no measurement
    assert lightcurve.tallies == {"withdrawn": 1}


def test_a_source_in_the_template_has_difference_fluxes_never_limits_on_its_magnitude():
    """6000 nJy on the science image where the difference is 250 nJy: a star in the template. A weak difference
    is a small change of its flux, not "fainter than" anything."""
    frame = parse([row(250.0, 100.0, science=6000.0), row(-40.0, 100.0, visit=1, science=6000.0)]).frame
    assert frame["unit"].tolist() == ["nJy", "nJy"] and frame["limit"].isna().all()
    assert frame["brightness"].tolist() == pytest.approx([250.0, -40.0])
    assert frame["brightness_error"].tolist() == pytest.approx([100.0, 100.0])
    assert set(frame["magnitude_kind"]) == {"difference"}


def test_the_science_flux_may_be_the_brightness(settings):
    settings.DATA_SERVICES = {"LSST": {"brightness": "science"}}
    frame = parse([row(2000.0, 100.0, science=6000.0)]).frame
    assert frame.loc[0, "brightness"] == pytest.approx(31.4 - 2.5 * np.log10(6000.0))
    assert frame.loc[0, "magnitude_kind"] == "total"
    assert frame.loc[0, "other_mag"] == pytest.approx(31.4 - 2.5 * np.log10(2000.0))


@pytest.mark.parametrize("payload, reason", [
    ({"r:psfFlux": 1}, "not a JSON list"),
    ([{"r:band": "g"}], "no column"),
    ([row(2000.0, 100.0, band="w")], "unexpected LSST band"),
    ([dict(row(2000.0, 100.0), **{"r:visit": 2.026071300816e12})], "not a whole number"),
    ([dict(row(2000.0, 100.0), **{"r:psfFlux": "lots"})], "could not read"),
])
def test_odd_answers_are_clear_errors(payload, reason):
    from tom_bhtom_brokers.exceptions import BrokerParseError

    with pytest.raises(BrokerParseError, match=reason):
        parse(payload)


@pytest.mark.django_db
def test_a_cone_answer_with_a_rounded_id_is_refused(archive, make_target):
    archive.add_fault(kind="replace", path="/api/v1/conesearch",
                      body='[{"r:diaObjectId": 1.7058711748581796e17, "r:ra": 62.4576771, "r:dec": -48.4815147}]')
    outcome = update(make_target("AT 2026qhm", RA, DEC), LsstBroker)
    assert outcome.status == "error" and "not a whole number" in outcome.message


@pytest.mark.django_db
@pytest.mark.parametrize("by_name", [False, True])
def test_the_antares_route_reads_the_lsst_rows_of_the_locus(archive, make_target, settings, by_name):
    settings.DATA_SERVICES["LSST"]["route"] = "antares"
    names = {"LSST diaObjectId": OBJECT_ID} if by_name else {}
    target = make_target("AT 2026qhm", RA, DEC, **names)
    outcome = update(target, LsstBroker)
    assert outcome.status == "ok", outcome.message
    assert [r["path"] for r in archive.requests] == ["/v2/loci", "/v2/loci/ANT2026rq61krn5dipt"]
    listing = json.loads(archive.requests[0]["params"]["elasticsearch_query"])["query"]["bool"]["filter"]
    assert listing == ({"terms": {"properties.survey.lsst.dia_object_id": [OBJECT_ID]}} if by_name
                       else {"sky_distance": listing["sky_distance"]})
    assert target.targetextra_set.get(key="LSST diaObjectId").value == OBJECT_ID
    points = sorted(stored(target, "LSST"), key=lambda p: p.timestamp)
    rows = sorted(ANTARES_ROWS, key=lambda r: r["ant_mjd"])
    assert len(points) == len(rows) == 16
    for point, row in zip(points, rows):
        assert abs(stored_mjd(point) - utc(row["ant_mjd"])) * 86400 < 1.0
        flux = 10 ** ((31.4 - row["ant_mag"]) / 2.5)
        science = 10 ** ((31.4 - row["ant_mag_corrected"]) / 2.5)
        kind_, value, value_error, unit = expected_point(flux, flux * row["ant_magerr"] * np.log(10) / 2.5,
                                                         science,
                                                         science * row["ant_magerr_corrected"] * np.log(10) / 2.5)
        assert (point.value["magnitude_kind"], point.unit) == (kind_, unit)
        assert point.brightness == pytest.approx(value, rel=1e-9)
        assert point.brightness_error == pytest.approx(value_error, rel=1e-9)
        assert point.value["other_mag"] == pytest.approx(row["ant_mag_corrected"], abs=1e-9)
        assert point.value["route"] == "ANTARES" and point.value["kind"] == "detection"
        assert point.bandpass == f"{row['ant_passband']}(LSST)"
