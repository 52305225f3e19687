"""VIRAC2 through ESO's catalogue TAP, on synthetic tables in the columns the adapter asks for (no real answer or
schema was found: tests/data/virac2/PROVENANCE.md); the expectations are counted from the files with pandas, the
cuts written out again here."""
import numpy as np
import pandas as pd
import pytest

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.virac2 import Virac2Broker, truth
from tom_bhtom_brokers.models import LightcurveUpdate

RA, DEC = 266.54918, -25.62171
TABLE = pd.read_csv(DATA_DIR / "virac2" / "lc_1398472210046.csv")
MEASURED = TABLE["hfad_mag"].notna() & (TABLE["hfad_emag"] > 0)
FLAGGED = MEASURED & (TABLE["phot_flag"] != 0)
AMBIGUOUS = MEASURED & ~FLAGGED & TABLE["ambiguous_match"]
GOOD = TABLE[MEASURED & ~FLAGGED & ~AMBIGUOUS]


class TestVirac2Contract(BrokerContract):
    broker_class = Virac2Broker
    covered_target = {"name": "Gaia17bcu", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 10.0, "dec": -60.0}
    expected_path = "/tap_cat/sync"
    query_path = "/tap_cat"
    expected_params = {"QUERY": "FROM vvvx_virac_v2_lc WHERE sourceid = 1398472210046"}
    expected_points = len(GOOD)
    expected_filters = tuple(sorted(set(GOOD["filter"])))
    expected_mjd_range = (GOOD["mjdobs"].min(), GOOD["mjdobs"].max())
    fault_path = "/tap_cat/"


@pytest.mark.django_db
def test_the_duplicate_is_skipped_and_flagged_or_ambiguous_epochs_are_left_out(archive, make_target):
    target = make_target("Gaia17bcu", RA, DEC)
    outcome = update(target, Virac2Broker)
    assert outcome.status == "ok", outcome.message
    # the nearest source in the cone is a duplicate entry: the star is the next one
    assert LightcurveUpdate.objects.get(target=target, source="VIRAC2").matched_identifier == "1398472210046"
    assert (int(FLAGGED.sum()), int(AMBIGUOUS.sum()), int((~MEASURED).sum())) == (1, 1, 1)
    for words in ("1 VIRAC2 detection(s) with phot_flag set", "1 VIRAC2 detection(s) with an ambiguous match",
                  "1 VIRAC2 detection(s) without a magnitude or error"):
        assert words in outcome.message
    points = stored(target, "VIRAC2")
    assert points.count() == len(GOOD)
    ks = sorted((p.brightness for p in points if p.bandpass == "Ks(VIRAC2)"))
    assert np.allclose(ks, sorted(GOOD.loc[GOOD["filter"] == "Ks", "hfad_mag"]))


def test_a_flag_column_reads_the_same_however_the_service_writes_it():
    assert truth(np.array([True, False])).tolist() == [True, False]
    assert truth(np.array(["t", "f", "True", "false", "1", "0"])).tolist() == [True, False, True, False, True, False]
