import numpy as np
import pandas as pd
import pytest
from astropy.time import Time

from tom_targets.models import Target, TargetExtra

from tests.brokers.contract import BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.gaia_alerts import GaiaAlertsBroker, g_error_hodgkin2021, parse_alert_index
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.target_info import TargetInfo

FIXTURES = DATA_DIR / "gaia_alerts"


def numeric_rows(name):
    """The rows of a fixture file whose magnitude is a number: what must be stored, and nothing else."""
    frame = pd.read_csv(FIXTURES / f"{name}_lightcurve.csv", skiprows=2, names=["date", "jd", "mag"], dtype=str)
    mag = pd.to_numeric(frame["mag"], errors="coerce")
    return frame[mag.notna()].assign(mag=mag[mag.notna()], jd=lambda f: f["jd"].astype(float))


class TestGaiaAlertsContract(BrokerContract):
    transport_faults = True
    broker_class = GaiaAlertsBroker
    covered_target = {"name": "Gaia18cbf", "ra": 268.8875, "dec": -31.2472, "Gaia Alerts name": "Gaia18cbf"}
    uncovered_target = {"name": "far from any alert", "ra": 10.0, "dec": 10.0}
    expected_path = "/alerts/alert/Gaia18cbf/lightcurve.csv"
    expected_points = len(numeric_rows("Gaia18cbf"))
    expected_filters = ("G",)
    # the stored time is the file's UTC Date column (a real answer: tests/data/gaia_alerts/PROVENANCE.md)
    expected_mjd_range = (Time(numeric_rows("Gaia18cbf")["date"].min(), scale="utc").mjd,
                          Time(numeric_rows("Gaia18cbf")["date"].max(), scale="utc").mjd)
    fault_path = "/lightcurve.csv"


def test_fixture_has_the_markers_the_archive_writes():
    text = (FIXTURES / "Gaia18cbf_lightcurve.csv").read_text()
    assert text.count(",untrusted\n") > 3 and text.count(",null\n") > 3


@pytest.mark.django_db
def test_untrusted_and_null_rows_are_skipped_and_numeric_rows_stored_exactly(archive, make_target):
    target = make_target("Gaia18cbf", 268.8875, -31.2472, **{"Gaia Alerts name": "Gaia18cbf"})
    update(target, GaiaAlertsBroker)
    expected = numeric_rows("Gaia18cbf").sort_values("jd")
    points = list(stored(target, "Gaia Alerts").order_by("timestamp"))
    assert [p.brightness for p in points] == expected["mag"].tolist()
    assert [p.value["time_original"] for p in points] == expected["jd"].tolist()
    assert {p.bandpass for p in points} == {"G(Gaia Alerts)"}
    # UTC: the timestamp is the file's Date column, to the second; the JD is kept as the original value
    assert [p.timestamp.strftime("%Y-%m-%d %H:%M:%S") for p in points] == expected["date"].tolist()
    assert all(p.timestamp.microsecond == 0 for p in points)
    assert points[0].telescope == "Gaia"


def test_old_header_layout_is_read():
    broker = GaiaAlertsBroker()
    payload = (FIXTURES / "Gaia14aaa_lightcurve.csv").read_bytes()
    assert b"#Date,JD,averagemag." in payload
    lightcurve = broker.parse_response(_response(payload), TargetInfo(1, "x", 0, 0))
    assert len(lightcurve) == len(numeric_rows("Gaia14aaa")) > 10
    assert lightcurve.matched_identifier == "Gaia14aaa"


def test_error_model_is_hodgkin_2021_clamped_to_its_range():
    assert np.isclose(g_error_hodgkin2021(19.0), 0.0309, atol=1e-4)
    assert np.isclose(g_error_hodgkin2021(10.0), g_error_hodgkin2021(13.0))
    assert np.isclose(g_error_hodgkin2021(23.0), g_error_hodgkin2021(21.0))


@pytest.mark.parametrize("payload, reason", [
    (b"Gaia18cbf\n#Date,JD(TCB),averagemag\n2015-01-10 04:19:25,2457032.68015,20.28\n2015-01-10 06:06:00,24570",
     "truncated"),
    (b"Gaia18cbf\n#Date,Flux,whatever\n2015-01-10 04:19:25,2457032.68015,20.28\n", "unexpected Gaia Alerts header"),
    (b"Gaia18cbf\n#Date,JD(TCB),averagemag\n2015-01-10 04:19:25,2457032.68015,twenty\n", "unreadable magnitude"),
    (b"just some text\nwith no header\n", "no '#Date,JD,averagemag' header"),
])
def test_malformed_light_curves_are_parse_errors(payload, reason):
    with pytest.raises(BrokerParseError, match=reason):
        GaiaAlertsBroker().parse_response(_response(payload), TargetInfo(1, "x", 0, 0))


def test_alert_index_with_quoted_commas_empty_fields_and_trailing_comma():
    index = parse_alert_index((FIXTURES / "alerts.csv").read_bytes())
    assert list(index.columns[:4]) == ["Name", "Date", "RaDeg", "DecDeg"]
    assert index.loc[index["Name"] == "Gaia19dke", "Comment"].item() == \
        'long microlensing event, "Galactic disc", confirmed'
    assert index.loc[index["Name"] == "Gaia18cbe", "HistoricMag"].item() == ""
    assert index.loc[index["Name"] == "Gaia14aaa", "TNSid"].item() == ""


@pytest.mark.django_db
def test_cone_over_the_alert_index_finds_the_alert_and_records_its_name(archive, make_target):
    target = make_target("a YSO", 90.26701 + 0.5 / 3600, -18.96770)
    outcome = update(target, GaiaAlertsBroker)
    assert outcome.status == "ok" and outcome.added > 100
    assert TargetExtra.objects.get(target=target, key="Gaia Alerts name").value == "Gaia20fnr"
    index_requests = [r for r in archive.requests if r["path"] == "/alerts/alerts.csv"]
    # the next update goes by name; the index is downloaded once per process and hour
    update(target, GaiaAlertsBroker)
    assert [r for r in archive.requests if r["path"] == "/alerts/alerts.csv"] == index_requests


@pytest.mark.django_db
def test_a_user_given_name_is_never_overwritten(archive, make_target):
    target = make_target("Gaia20fnr", 90.26701, -18.96770, **{"Gaia Alerts name": "Gaia19dke"})
    update(target, GaiaAlertsBroker)
    assert TargetExtra.objects.get(target=target, key="Gaia Alerts name").value == "Gaia19dke"
    assert "/alerts/alert/Gaia19dke/lightcurve.csv" in [r["path"] for r in archive.requests]


@pytest.mark.django_db
def test_a_wrong_name_is_refused_without_a_request(archive, make_target):
    target = make_target("typo", 1.0, 1.0, **{"Gaia Alerts name": "Gaia18cbf/../../etc"})
    outcome = update(target, GaiaAlertsBroker)
    assert outcome.status == "invalid_name" and "Gaia Alerts name is 'Gaia', two digits" in outcome.message
    assert archive.requests == []


@pytest.mark.django_db
def test_an_unknown_alert_is_a_clear_error(archive, make_target):
    target = make_target("unknown", 1.0, 1.0, **{"Gaia Alerts name": "Gaia99zzz"})
    outcome = update(target, GaiaAlertsBroker)
    assert outcome.status == "error"
    assert "not found" in outcome.message and "Gaia99zzz" in outcome.url


@pytest.mark.django_db
def test_query_form_by_name_and_by_cone_creates_targets_with_the_name(archive):
    broker = GaiaAlertsBroker()
    by_name = broker.query_targets(broker.build_query_parameters({"alert_name": "Gaia19dke"}))
    assert [r["name"] for r in by_name] == ["Gaia19dke"]
    by_cone = broker.query_targets(broker.build_query_parameters(
        {"ra": 268.8875, "dec": -31.2472, "radius_arcsec": 5}))
    assert [r["name"] for r in by_cone] == ["Gaia18cbf"]
    target = broker.to_target(by_cone[0])
    assert Target.objects.get(pk=target.pk).targetextra_set.get(key="Gaia Alerts name").value == "Gaia18cbf"


def _response(payload):
    from tom_bhtom_brokers.transports.http import Response

    return Response(url="http://archive.test/x", status=200, headers={}, content=payload)
