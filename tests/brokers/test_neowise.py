import io
import numpy as np
import pytest
from astropy.table import Table

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.neowise import NeowiseBroker
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.sky import separations_arcsec
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 90.26701, -18.96770
FIXTURE = DATA_DIR / "neowise" / "cone_Gaia20fnr.tbl"


def fixture_table():
    return Table.read(FIXTURE.read_text(), format="ascii.ipac")


def expected_points():
    """Counted straight from the fixture with the cuts the broker documents, independently of its code."""
    t = fixture_table()
    own = separations_arcsec(t["ra"], t["dec"], RA, DEC) < 2.0
    frame_ok = (t["qual_frame"] > 0) & (t["qi_fact"] > 0) & (t["saa_sep"] > 0) & (t["nb"] == 1) & (t["na"] == 0)
    counts = {}
    for i, band in enumerate(("w1", "w2")):
        flags_ok = np.array([m[i] == "0" and c[i] == "0" for m, c in zip(t["moon_masked"], t["cc_flags"])])
        qual = np.array([q[i] for q in t["ph_qual"]])
        has_mag = ~np.ma.getmaskarray(t[f"{band}mpro"])
        counts[band.upper()] = int((own & frame_ok & flags_ok & has_mag & np.isin(qual, ["A", "B", "C", "U"])).sum())
    return counts, t[own]


class TestNeowiseContract(BrokerContract):
    transport_faults = True
    broker_class = NeowiseBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/TAP/sync"
    query_path = "/TAP"  # the TAP service; pyvo posts the query to its /sync
    expected_params = {"QUERY": "FROM neowiser_p1bs_psd WHERE CONTAINS(POINT('ICRS', ra, dec), "
                                "CIRCLE('ICRS', 90.2670100, -18.9677000, 0.00138889)) = 1",
                       "REQUEST": "doQuery", "LANG": "ADQL"}
    expected_points = sum(expected_points()[0].values())
    expected_filters = ("W1", "W2")
    fault_path = "/TAP/sync"

    @property
    def expected_mjd_range(self):
        own = expected_points()[1]
        return float(own["mjd"].min()), float(own["mjd"].max())


@pytest.mark.django_db
def test_only_the_nearest_source_with_quality_cuts(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    update(target, NeowiseBroker)
    counts, own = expected_points()
    points = stored(target, "NEOWISE")
    assert points.filter(bandpass="W1(NEOWISE)").count() == counts["W1"]
    assert points.filter(bandpass="W2(NEOWISE)").count() == counts["W2"]
    # the 3.6" neighbour (W1 ~ 13.9) is not mixed in; the 6.07 mag diffraction-spike outlier is gone
    w1 = np.array(points.filter(bandpass="W1(NEOWISE)", brightness__isnull=False).values_list("brightness", flat=True))
    assert w1.min() > 10.6 and w1.max() < 11.0
    # the row with W1 missing still gives its W2 point, never an empty W1 one
    w2_only_mjd = float(fixture_table()["mjd"][3])
    at = [p for p in points if abs(_mjd(p) - w2_only_mjd) < 1e-6]
    assert [p.bandpass for p in at] == ["W2(NEOWISE)"]
    # ph_qual U: an upper limit, not a detection
    limits = points.filter(limit__isnull=False)
    assert limits.count() == 1 and limits.get().brightness is None and limits.get().value["ph_qual"] == "U"
    assert points.first().value["magnitude_system"] == "Vega"


@pytest.mark.django_db
def test_a_target_without_coordinates_is_not_applicable(archive, make_target):
    target = make_target("no position")
    outcome = update(target, NeowiseBroker)
    assert outcome.status == "not_applicable" and "coordinates" in outcome.message
    assert archive.requests == []


@pytest.mark.parametrize("payload", [
    b"\\fixlen = T\n|   ra|  dec|\n| double| double|\n",
    b"<?xml version='1.0'?><VOTABLE></VOTABLE>",
])
def test_tables_without_the_columns_or_not_ipac_are_parse_errors(payload):
    with pytest.raises(BrokerParseError):
        NeowiseBroker().parse_response(Response("http://x/TAP/sync", 200, {}, payload), TargetInfo(1, "x", RA, DEC))


def test_a_cut_table_is_a_parse_error():
    text = FIXTURE.read_text()
    cut = text[: len(text) // 2].rsplit("\n", 1)[0] + "\n  90.26701  -18.96"
    with pytest.raises(BrokerParseError):
        NeowiseBroker().parse_response(Response("http://x", 200, {}, cut.encode()), TargetInfo(1, "x", RA, DEC))


def _mjd(point):
    from astropy.time import Time

    return Time(point.timestamp).utc.mjd


def test_detections_all_failing_the_cuts_say_so():
    table = fixture_table()
    table["qual_frame"] = 0
    buffer = io.BytesIO()
    table.write(buffer, format="votable")
    lightcurve = NeowiseBroker().parse_response(Response("http://x", 200, {}, buffer.getvalue()),
                                                TargetInfo(1, "x", RA, DEC))
    assert len(lightcurve) == 0 and "none passing the quality cuts" in lightcurve.note
