import numpy as np
import pytest
from astropy.table import Table

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.allwise import AllwiseBroker

RA, DEC = 90.26701, -18.96770
FIXTURE = DATA_DIR / "allwise" / "cone_Gaia20fnr.tbl"


def own_rows():
    table = Table.read(FIXTURE.read_text(), format="ascii.ipac")
    return table[table["cntr_mf"] == 906118801351000042]


def expected_counts():
    """Counted from the fixture with the documented cuts, independently of the broker's code."""
    t = own_rows()
    ok = (t["qi_fact"] > 0) & (t["saa_sep"] > 0) & (t["nb"] == 1) & (t["na"] == 0)
    counts = {}
    for i, band in enumerate(("w1", "w2")):
        flags = np.array([m[i] == "0" and c[i] == "0" for m, c in zip(t["moon_masked"], t["cc_flags"])])
        present = ~np.ma.getmaskarray(t[f"{band}mpro_ep"]) & ~np.ma.getmaskarray(t[f"{band}sigmpro_ep"])
        counts[band.upper()] = int((ok & flags & present).sum())
    return counts


class TestAllwiseContract(BrokerContract):
    broker_class = AllwiseBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/TAP/sync"
    query_path = "/TAP"  # the TAP service; pyvo posts the query to its /sync
    expected_params = {"QUERY": "FROM allwise_p3as_mep WHERE CONTAINS(POINT('ICRS', ra, dec), "
                                "CIRCLE('ICRS', 90.2670100, -18.9677000, 0.00138889)) = 1",
                       "REQUEST": "doQuery", "LANG": "ADQL"}
    expected_points = sum(expected_counts().values())
    expected_filters = ("W1", "W2")
    fault_path = "/TAP/sync"
    expected_mjd_range = (float(own_rows()["mjd"].min()), float(own_rows()["mjd"].max()))


@pytest.mark.django_db
def test_one_source_and_a_missing_band_gives_the_other_band_only(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    outcome = update(target, AllwiseBroker)
    assert outcome.status == "ok"
    points = stored(target, "ALLWISE")
    counts = expected_counts()
    assert points.filter(bandpass="W1(ALLWISE)").count() == counts["W1"] < len(own_rows())
    assert points.filter(bandpass="W2(ALLWISE)").count() == counts["W2"] < len(own_rows())
    assert not points.filter(brightness__isnull=True).exists()
    assert points.filter(brightness__gt=13).count() == 0  # the 3.9" neighbour is not mixed in
    t = own_rows()
    w1_missing_mjd, w2_missing_mjd = float(t["mjd"][2]), float(t["mjd"][4])
    by_time = {}
    for p in points:
        by_time.setdefault(round(_mjd(p), 6), []).append(p.bandpass)
    assert by_time[round(w1_missing_mjd, 6)] == ["W2(ALLWISE)"]
    assert by_time[round(w2_missing_mjd, 6)] == ["W1(ALLWISE)"]
    from tom_bhtom_brokers.models import LightcurveUpdate

    assert LightcurveUpdate.objects.get(target=target, source="ALLWISE").matched_identifier == \
        "AllWISE cntr_mf 906118801351000042"


def _mjd(point):
    from astropy.time import Time

    return Time(point.timestamp).utc.mjd
