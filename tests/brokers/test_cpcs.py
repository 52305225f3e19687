import json
import logging

import numpy as np
import pytest

from tests.brokers.contract import BrokerContract, stored, update
from tests.data.make_fixtures import CPCS_TEST_KEY
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.cpcs import CpcsBroker
from tom_bhtom_brokers.models import LightcurveUpdate

RA, DEC = 304.7108, 55.1547
ANSWER = json.loads((DATA_DIR / "cpcs" / "Gaia19dke.json").read_text())
LIMITS = np.array(ANSWER["magerr"]) == -1.0


class TestCpcsContract(BrokerContract):
    broker_class = CpcsBroker
    covered_target = {"name": "Gaia19dke", "ra": RA, "dec": DEC, "CPCS name": "ivo://Gaia19dke"}
    uncovered_target = {"name": "quiet alert", "ra": 1.0, "dec": 1.0, "CPCS name": "ivo://Gaia20zzz"}
    expected_path = "/followup/get_alert_lc_data"
    expected_params = {"alert_name": "ivo://Gaia19dke"}
    expected_points = len(ANSWER["mjd"])
    expected_filters = tuple(sorted(set(ANSWER["filter"])))
    expected_mjd_range = (min(ANSWER["mjd"]), max(ANSWER["mjd"]))
    fault_path = "/followup/"


@pytest.mark.django_db
def test_limits_errors_telescope_and_catalogue(archive, make_target):
    target = make_target("Gaia19dke", RA, DEC, **{"CPCS name": "ivo://Gaia19dke"})
    assert update(target, CpcsBroker).status == "ok"
    points = stored(target, "CPCS")
    assert points.filter(brightness__isnull=True).count() == LIMITS.sum() > 0
    k = int(np.argmax(~LIMITS))
    point = points.get(value__cpcs_id=str(ANSWER["id"][k]))
    assert point.brightness_error == pytest.approx(np.hypot(ANSWER["magerr"][k], ANSWER["caliberr"][k]), abs=1e-5)
    assert point.telescope == ANSWER["observatory"][k] and point.value["catalog"] == ANSWER["catalog"][k]


@pytest.mark.django_db
def test_the_access_key_is_sent_as_a_cookie_and_never_kept(archive, make_target, caplog):
    caplog.set_level(logging.DEBUG)
    target = make_target("Gaia19dke", RA, DEC, **{"CPCS name": "ivo://Gaia19dke"})
    assert CPCS_TEST_KEY in (DATA_DIR / "cpcs" / "Gaia19dke.json").read_text()  # the server echoes it back
    update(target, CpcsBroker)
    request = archive.requests[-1]
    assert f"hashtag={CPCS_TEST_KEY}" in request["headers"]["Cookie"]
    assert not any(CPCS_TEST_KEY in str(v) for v in request["params"].values())
    stored_text = json.dumps([[p.value, p.telescope, p.source_location] for p in stored(target, "CPCS")])
    assert CPCS_TEST_KEY not in stored_text and "someone-elses-hashtag" not in stored_text
    row = LightcurveUpdate.objects.get(target=target, source="CPCS")
    assert CPCS_TEST_KEY not in row.url + row.message + row.matched_identifier
    # a refusal whose text echoes the key: masked in the status and in the log
    echo = make_target("Gaia21echo", RA, DEC, **{"CPCS name": "ivo://Gaia21echo"})
    outcome = update(echo, CpcsBroker)
    assert outcome.status == "error" and "Forbidden: hashtag ***" in outcome.message, outcome.message
    assert CPCS_TEST_KEY not in outcome.message + outcome.url
    assert CPCS_TEST_KEY not in caplog.text
    row = LightcurveUpdate.objects.get(target=echo, source="CPCS")
    assert CPCS_TEST_KEY not in row.message + row.url


@pytest.mark.django_db
def test_without_an_access_key_it_is_not_configured(archive, make_target, settings):
    del settings.DATA_SERVICES["CPCS"]["access_key"]
    target = make_target("Gaia19dke", RA, DEC, **{"CPCS name": "ivo://Gaia19dke"})
    outcome = update(target, CpcsBroker)
    assert outcome.status == LightcurveUpdate.Status.NOT_CONFIGURED and "access_key" in outcome.message
    assert archive.requests == []


@pytest.mark.django_db
def test_the_older_key_set_and_a_wrong_name(archive, make_target):
    target = make_target("ASASSN-13dl", 10.0, 10.0, **{"CPCS name": "ivo://asassn/ASASSN-13dl"})
    assert update(target, CpcsBroker).status == "ok"
    older = json.loads((DATA_DIR / "cpcs" / "ASASSN-13dl.json").read_text())
    assert "hashtag" not in older and stored(target, "CPCS").count() == len(older["mjd"])
    wrong = make_target("x", 10.0, 10.0, **{"CPCS name": "Gaia19dke"})
    outcome = update(wrong, CpcsBroker)
    assert outcome.status == LightcurveUpdate.Status.INVALID_NAME and "ivo://" in outcome.message


def test_a_server_echoing_the_key_in_an_error_is_masked():
    from tom_bhtom_brokers.exceptions import BrokerServiceError, masked

    error = masked(BrokerServiceError(f"bad hashtag {CPCS_TEST_KEY}", url=f"http://x/?h={CPCS_TEST_KEY}", status=403),
                   [CPCS_TEST_KEY])
    assert CPCS_TEST_KEY not in str(error) + error.reason + error.url and "***" in error.reason
