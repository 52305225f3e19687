"""PTF through IRSA's TAP on a synthetic table in the columns public users read (no real answer exists: see
tests/data/ptf/PROVENANCE.md); the expectations are counted from the file with pandas."""
import pandas as pd
import pytest

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.ptf import PtfBroker
from tom_bhtom_brokers.models import LightcurveUpdate

RA, DEC = 304.7108, 55.1547
TABLE = pd.read_csv(DATA_DIR / "ptf" / "cone_Gaia19dke.csv")
USABLE = TABLE["mag_autocorr"] >= 0
FLAGGED = (TABLE["goodflag"] != 1) | (TABLE["photcalflag"] != 1)
GOOD = TABLE[USABLE & ~FLAGGED]


class TestPtfContract(BrokerContract):
    broker_class = PtfBroker
    covered_target = {"name": "Gaia19dke", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/TAP/sync"
    query_path = "/TAP"
    expected_params = {"QUERY": "FROM ptf_lightcurves WHERE CONTAINS(POINT('ICRS', ra, dec), "
                                "CIRCLE('ICRS', 304.7108000, 55.1547000, 0.00055556)) = 1"}
    expected_points = len(GOOD)
    expected_filters = ("g", "R")
    expected_mjd_range = (GOOD["obsmjd"].min(), GOOD["obsmjd"].max())
    fault_path = "/TAP/"


@pytest.mark.django_db
def test_every_oid_kept_placeholders_left_out_and_counted(archive, make_target):
    target = make_target("Gaia19dke", RA, DEC)
    outcome = update(target, PtfBroker)
    assert outcome.status == "ok", outcome.message
    placeholders, flagged = int((~USABLE).sum()), int((USABLE & FLAGGED).sum())
    assert placeholders > 0 and f"{placeholders} PTF row(s) with a placeholder magnitude" in outcome.message
    assert flagged > 0 and f"{flagged} PTF row(s) failing goodflag/photcalflag left out" in outcome.message
    assert placeholders + flagged + len(GOOD) == len(TABLE)  # every row accounted for
    row = LightcurveUpdate.objects.get(target=target, source="PTF")
    assert row.matched_identifier == "PTF oid " + ",".join(sorted(TABLE["oid"].astype(str).unique()))
    points = stored(target, "PTF")
    assert points.filter(bandpass="g(PTF)").count() == (GOOD["fid"] == 1).sum()
    assert points.filter(bandpass="R(PTF)").count() == (GOOD["fid"] == 2).sum()
    assert {p.value["oid"] for p in points} == set(GOOD["oid"].astype(str))
