"""Swift-XRT (LSXPS) through the real swifttools client against the sample archive's emulation of UKSSDC's API
(tests/sample_archive/ukssdc_api.py; tests/data/swift_xrt/PROVENANCE.md). The light curve's values are those
swifttools' documentation prints; what is expected is computed here from the fixture with plain json."""
import json

import numpy as np
import pytest
from astropy.time import Time

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.swift_xrt import SwiftXrtBroker
from tom_bhtom_brokers.exceptions import BrokerNotConfigured
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 95.38250, -62.37028
ANSWER = json.loads((DATA_DIR / "swift_xrt" / "lc_3017.json").read_text())
RATES = np.array(ANSWER["Total_ratesData"]["data"], dtype=float)
LIMITS = np.array(ANSWER["Total_ULData"]["data"], dtype=float)
ECF = 4.36e-11


class TestSwiftXrtContract(BrokerContract):
    broker_class = SwiftXrtBroker
    covered_target = {"name": "LSXPS J062131.8-622213", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 10.0, "dec": -30.0}
    expected_path = "/API/main.php"
    expected_params = {"APIFunc": "getSXPSLC", "sourceID": "3017"}
    query_path = "/API/lsxps/source/3017"
    expected_points = len(RATES) + len(LIMITS)
    expected_filters = ("0.3-10keV",)
    expected_mjd_range = (min(RATES[:, 0].min(), LIMITS[:, 0].min()), max(RATES[:, 0].max(), LIMITS[:, 0].max()))
    unit = "erg/(cm2 s)"
    fault_path = "/API/main.php"

    def test_query_builds_the_requests_without_sending_any(self, archive, make_target):
        """The light curve is asked through the client (``send``), by the source the path names; the source's flux
        factor rides along."""
        broker = SwiftXrtBroker()
        located = broker.locate(TargetInfo.from_target(self.covered(make_target)))
        sent = len(archive.requests)
        (request,) = broker.query(located)
        assert len(archive.requests) == sent
        assert request.path == self.query_path and float(request.params["ecf"]) == pytest.approx(ECF)


@pytest.mark.django_db
def test_rates_and_limits_become_energy_fluxes_with_the_sources_factor(archive, make_target):
    target = make_target("LSXPS J062131.8-622213", RA, DEC)
    outcome = update(target, SwiftXrtBroker)
    assert outcome.status == "ok", outcome.message
    assert archive.ukssdc.calls == ["getMetadata", "queryDB", "getSXPSLC"]
    row = LightcurveUpdate.objects.get(target=target, source="Swift-XRT")
    assert row.matched_identifier == "LSXPS J062131.8-622213"
    points = sorted(stored(target, "Swift-XRT"), key=lambda p: p.timestamp)
    detections = [p for p in points if p.brightness is not None]
    limits = [p for p in points if p.brightness is None]
    assert len(detections) == len(RATES) and len(limits) == len(LIMITS)  # the soft band is not read
    assert np.allclose([p.brightness for p in detections], RATES[:, 3] * ECF)
    assert np.allclose([p.brightness_error for p in detections], (RATES[:, 4] - RATES[:, 5]) / 2 * ECF)
    assert np.allclose([p.limit for p in limits], LIMITS[:, 3] * ECF)
    assert np.allclose(Time([p.timestamp for p in detections]).utc.mjd, RATES[:, 0], atol=1 / 86400)
    assert {p.unit for p in points} == {"erg/(cm2 s)"} and {p.bandpass for p in points} == {"0.3-10keV(Swift-XRT)"}
    assert detections[0].value["count_rate"] == pytest.approx(RATES[0, 3])


def test_without_swifttools_the_archive_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr("tom_bhtom_brokers.brokers.swift_xrt.swifttools_installed", lambda: False)
    with pytest.raises(BrokerNotConfigured, match=r"pip install 'tom-bhtom-brokers\[swift\]'"):
        SwiftXrtBroker.check_configured()


@pytest.mark.django_db
def test_an_error_the_api_reports_is_said_and_stores_nothing(archive, make_target):
    """The neighbour in the sources table has no light curve at the emulated API: its ERROR answer, which the
    client raises, is the pair's error, with the API's own words."""
    target = make_target("neighbour", 95.38708, -62.36972)
    outcome = update(target, SwiftXrtBroker)
    assert outcome.status == "error" and "No source with ID 3144" in outcome.message, outcome.message
    assert not stored(target, "Swift-XRT").exists()
