"""Brokers on real archive answers (../shared/archive-samples, copied into tests/data with their provenance in
each folder's PROVENANCE.md), through real HTTP where the broker can ask for them, with every expectation
computed here from the file itself, independently of the broker's code: the rows, the time column the
archive documents, converted with astropy.

Each test prints one ``[real]`` line: the file, its rows, what was stored, and the largest difference between
a stored time and the independently computed one.
"""
import numpy as np
import pandas as pd
import pytest
from astropy.time import Time

from tests.brokers.contract import stored, update
from tests.sample_archive.server import DATA_DIR, as_votable
from tom_bhtom_brokers.brokers.allwise import AllwiseBroker
from tom_bhtom_brokers.brokers.asassn import AsassnBroker
from tom_bhtom_brokers.brokers.atlas import AtlasBroker
from tom_bhtom_brokers.brokers.cpcs import CpcsBroker
from tom_bhtom_brokers.brokers.crts import CrtsBroker
from tom_bhtom_brokers.brokers.gaia_alerts import GaiaAlertsBroker, parse_alert_index
from tom_bhtom_brokers.brokers.gaia_dr3 import GaiaDR3Broker
from tom_bhtom_brokers.brokers.irsa import read_ipac
from tom_bhtom_brokers.brokers.linear import parse_target_list
from tom_bhtom_brokers.brokers.neowise import NeowiseBroker
from tom_bhtom_brokers.brokers.ps1 import table as ps1_table
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

MAX_TIME_ERROR_SECONDS = 1.0


def report(capsys, file, rows, kept, seconds, extra=""):
    with capsys.disabled():
        print(f"\n[real] {file}: rows={rows} stored={kept} max |t - expected|={seconds:.3f} s{extra}")


def stored_mjd(target, source_name):
    """Stored timestamps of (target, source), sorted, as UTC MJD (astropy)."""
    stamps = [p.timestamp for p in stored(target, source_name).order_by("timestamp")]
    return Time(stamps, scale="utc").mjd


def largest_difference_seconds(mjd, expected_mjd):
    return float(np.max(np.abs(np.sort(mjd) - np.sort(expected_mjd))) * 86400.0) if len(mjd) else 0.0


def response(payload, url="http://archive.test/answer"):
    return Response(url=url, status=200, headers={}, content=payload)


# --- Gaia Alerts ------------------------------------------------------------------------------------------

def gaia_alerts_rows(name):
    """The data rows of a real light curve: the name line and '#' header skipped, markers left as text."""
    frame = pd.read_csv(DATA_DIR / "gaia_alerts" / f"{name}_lightcurve.csv", skiprows=2, header=None,
                        names=["date", "jd", "mag"], dtype=str, keep_default_na=False)
    frame["value"] = pd.to_numeric(frame["mag"], errors="coerce")
    return frame


@pytest.mark.django_db
@pytest.mark.parametrize("name, rows, markers", [("Gaia18cbf", 146, 43), ("Gaia14aaa", 36, 8)])
def test_gaia_alerts_real_light_curves_store_the_utc_date_column(archive, make_target, capsys, name, rows,
                                                                 markers):
    frame = gaia_alerts_rows(name)
    assert len(frame) == rows and frame["value"].isna().sum() == markers
    measured = frame[frame["value"].notna()]
    expected = Time(measured["date"].tolist(), format="iso", scale="utc").mjd
    target = make_target(name, None, None, **{"Gaia Alerts name": name})
    outcome = update(target, GaiaAlertsBroker)
    assert outcome.status == LightcurveUpdate.Status.OK, outcome.message
    mjd = stored_mjd(target, "Gaia Alerts")
    worst = largest_difference_seconds(mjd, expected)
    # the JD column, for comparison: three decimals in the 2014-15 layout (tens of seconds off its own Date)
    jd_offset = float(np.max(np.abs(measured["jd"].astype(float).to_numpy() - 2400000.5 - expected)) * 86400)
    report(capsys, f"gaia_alerts/{name}_lightcurve.csv", rows, len(mjd), worst,
           f" (the file's JD differs from its Date by up to {jd_offset:.1f} s)")
    assert len(mjd) == len(measured) and worst <= MAX_TIME_ERROR_SECONDS
    points = stored(target, "Gaia Alerts").order_by("timestamp")
    assert sorted(p.brightness for p in points) == sorted(measured["value"])
    assert sorted(p.value["time_original"] for p in points) == sorted(measured["jd"].astype(float))
    assert [p.value["date_original"] for p in points] == sorted(measured["date"])


def test_gaia_alerts_old_layout_jd_is_tens_of_seconds_off_its_date():
    """Why the Date is stored: the 2014-15 file's JD, read as UTC, is up to ~42 s off the file's own Date."""
    frame = gaia_alerts_rows("Gaia14aaa")
    offset = np.abs(frame["jd"].astype(float) - 2400000.5 - Time(frame["date"].tolist(), scale="utc").mjd) * 86400
    assert 20 < offset.max() < 45


def test_gaia_alerts_real_alert_index_excerpt():
    payload = (DATA_DIR / "gaia_alerts" / "real_alerts_first60.csv").read_bytes()
    index = parse_alert_index(payload)
    independent = pd.read_csv(DATA_DIR / "gaia_alerts" / "real_alerts_first60.csv", skipinitialspace=True,
                              dtype=str, keep_default_na=False)
    assert len(index) == len(independent) == 59
    assert list(index["Name"]) == list(independent["#Name"])
    assert np.allclose(index["RaDeg"], independent["RaDeg"].astype(float))
    assert index.loc[index["Name"] == "Gaia24aol", "HistoricMag"].item() == ""


def test_a_byte_order_mark_is_part_of_no_value():
    """A BOM before the name line must not become part of the recorded alert name."""
    payload = (DATA_DIR / "gaia_alerts" / "Gaia18cbf_lightcurve.csv").read_bytes()
    lightcurve = GaiaAlertsBroker().parse_response(response(b"\xef\xbb\xbf" + payload), TargetInfo(1, "x", 0, 0))
    assert lightcurve.matched_identifier == "Gaia18cbf"
    assert len(lightcurve) == 103


# --- ASAS-SN Sky Patrol v1 ----------------------------------------------------------------------------------

ASASSN_21QJ_JOB = "5740d76a-4445-4b58-bc83-4f5b93cf6b31"
ASASSN_21QJ = (123.84754, -38.98983)
ASASSN_V_J0600 = (90.00327, -31.00765)


def ut_date_mjd(column):
    """v1's ``UT Date`` (``YYYY-MM-DD.ddddddd``) as UTC MJD, with astropy for the calendar date."""
    day, fraction = zip(*(value.split(".") for value in column))
    return Time(list(day), format="iso", scale="utc").mjd + np.array([float("0." + f) for f in fraction])


def asassn_expected(frame):
    """The rows a v1 export must store: all but the all-99.990 failed epochs, one per (time, band, value)."""
    failed = (frame["mag"] == "99.990") & (frame["mag_err"] == "99.990")
    usable = frame[~failed]
    return usable.drop_duplicates(subset=["UT Date", "Filter", "mag"]), int(failed.sum())


@pytest.mark.django_db
def test_asassn_real_coordinate_export_stores_its_ut_dates(archive, make_target, capsys):
    frame = pd.read_csv(DATA_DIR / "asassn" / f"coordinate_{ASASSN_21QJ_JOB}.csv", dtype=str)
    expected, failed = asassn_expected(frame)
    target = make_target("ASASSN-21qj", *ASASSN_21QJ, **{
        "ASAS-SN URL": f"https://asas-sn.osu.edu/sky-patrol/coordinate/{ASASSN_21QJ_JOB}"})
    outcome = update(target, AsassnBroker)
    assert outcome.status == LightcurveUpdate.Status.OK, outcome.message
    mjd = stored_mjd(target, "ASAS-SN")
    worst = largest_difference_seconds(mjd, ut_date_mjd(expected["UT Date"]))
    report(capsys, "asassn/coordinate export of ASASSN-21qj", len(frame), len(mjd), worst)
    assert (len(frame), failed) == (982, 0)
    assert len(mjd) == len(expected) and worst <= MAX_TIME_ERROR_SECONDS
    points = stored(target, "ASAS-SN")
    assert points.filter(limit__isnull=False).count() == 0  # this export has no non-detections
    assert sorted(points.values_list("brightness", flat=True)) == sorted(expected["mag"].astype(float))
    assert {b: points.filter(bandpass=b).count() for b in ("V(ASAS-SN)", "g(ASAS-SN)")} == \
        {f"{band}(ASAS-SN)": int((expected["Filter"] == band).sum()) for band in ("V", "g")}
    hjd = sorted(float(p.value["time_original"]) for p in points)
    assert hjd == sorted(expected["HJD"].astype(float))


def test_asassn_real_light_curve_page_limits_sentinels_and_times(capsys):
    frame = pd.read_csv(DATA_DIR / "asassn" / "real_light_curve_bb61d0ed-b07f-4e87-8881-769866dd896e.csv",
                        dtype=str)
    expected, failed = asassn_expected(frame)
    payload = (DATA_DIR / "asassn" / "real_light_curve_bb61d0ed-b07f-4e87-8881-769866dd896e.csv").read_bytes()
    assert not payload.endswith(b"\n")  # the real file's last line has no newline
    lightcurve = AsassnBroker().parse_response(response(payload), TargetInfo(1, "x", *ASASSN_V_J0600))
    worst = largest_difference_seconds(lightcurve.frame["mjd"].to_numpy(), ut_date_mjd(expected["UT Date"]))
    report(capsys, "asassn/light curve of ASASSN-V J060000.76-310027.8", len(frame), len(lightcurve), worst)
    assert (len(frame), failed) == (2796, 53)
    assert len(lightcurve) == len(expected) and worst <= MAX_TIME_ERROR_SECONDS
    limits = expected["mag"].str.startswith(">")
    parsed = lightcurve.frame
    assert parsed["limit"].notna().sum() == limits.sum() == 24
    assert sorted(parsed["limit"].dropna()) == sorted(expected.loc[limits, "mag"].str.lstrip(">").astype(float))
    assert sorted(parsed["brightness"].dropna()) == sorted(expected.loc[~limits, "mag"].astype(float))


# --- ATLAS forced photometry ------------------------------------------------------------------------------

def atlas_expected(file):
    """The rows of a real ATLAS result that pass the server FAQ's quality cuts (written out here as the FAQ
    states them), one per (MJD, filter); and which are detections (S/N > 3, TOM Toolkit's rule)."""
    lines = (DATA_DIR / "atlas" / file).read_text().splitlines()
    names = lines[0].lstrip("#").split()
    frame = pd.DataFrame([line.split() for line in lines[1:] if line.strip()], columns=names)
    n = {c: frame[c].astype(float) for c in ("MJD", "m", "dm", "uJy", "duJy", "err", "x", "y", "maj", "min",
                                             "apfit", "mag5sig", "Sky")}
    good = ((n["err"] == 0) & (n["duJy"] > 0) & (n["duJy"] < 10000) & (n["x"] > 100) & (n["x"] < 10460)
            & (n["y"] > 100) & (n["y"] < 10460) & (n["maj"] > 1.6) & (n["maj"] < 5) & (n["min"] > 1.6)
            & (n["min"] < 5) & (n["apfit"] > -1) & (n["apfit"] < -0.1) & (n["mag5sig"] > 17) & (n["Sky"] > 17))
    kept = frame[good].drop_duplicates(subset=["MJD", "F"])
    detected = kept["uJy"].astype(float) > 3 * kept["duJy"].astype(float)
    return frame, kept, detected


@pytest.mark.django_db
def test_atlas_real_result_applies_the_quality_cuts(archive, make_target, settings, capsys):
    del settings.DATA_SERVICES["ATLAS"]["token"]
    frame, kept, detected = atlas_expected("job211831.txt")
    target = make_target("ASASSN-21qj", *ASASSN_21QJ, **{
        "ATLAS URL": "https://fallingstar-data.com/forcedphot/static/results/job211831.txt"})
    outcome = update(target, AtlasBroker)
    assert outcome.status == LightcurveUpdate.Status.OK, outcome.message
    mjd = stored_mjd(target, "ATLAS")
    worst = largest_difference_seconds(mjd, kept["MJD"].astype(float).to_numpy())
    report(capsys, "atlas/job211831.txt", len(frame), len(mjd), worst,
           f" ({len(frame) - len(kept)} rows cut; {outcome.message})")
    assert len(frame) == 1042 and len(mjd) == len(kept) and worst <= MAX_TIME_ERROR_SECONDS
    points = stored(target, "ATLAS")
    assert points.filter(brightness__isnull=False).count() == int(detected.sum())
    assert sorted(points.exclude(brightness=None).values_list("brightness", flat=True)) == \
        sorted(kept.loc[detected, "m"].astype(float))
    # a 13.6 mag star: no "limit" brighter than the star itself survives the cuts
    assert min(points.exclude(limit=None).values_list("limit", flat=True), default=99) > 14
    assert "quality cuts dropped" in outcome.message and "mag5sig" in outcome.message


def test_atlas_signal_to_noise_of_exactly_three_is_a_limit():
    header = "###MJD m dm uJy duJy F err chi/N RA Dec x y maj min phi apfit mag5sig Sky Obs"
    row = "60000.1 17.000 0.362 30 10 o 0 1.0 10.0 10.0 5000 5000 2.5 2.5 0 -0.4 19.0 20.0 02a60000o0001o"
    lightcurve = AtlasBroker().parse_response(response(f"{header}\n{row}\n".encode()), TargetInfo(1, "x", 10, 10))
    assert np.isnan(lightcurve.frame["brightness"][0])
    assert np.isclose(lightcurve.frame["limit"][0], 23.9 - 2.5 * np.log10(30))


def test_atlas_quality_cuts_are_configurable(settings):
    settings.DATA_SERVICES = {"ATLAS": {"quality_cuts": {"mag5sig": None, "Sky": None, "apfit": None,
                                                         "maj": None, "min": None, "x": None, "y": None}}}
    frame, _, _ = atlas_expected("job211831.txt")
    payload = (DATA_DIR / "atlas" / "job211831.txt").read_bytes()
    lightcurve = AtlasBroker().parse_response(response(payload), TargetInfo(1, "x", *ASASSN_21QJ))
    # only err, the duJy range and repeats remain: the junk rows with huge fluxes still go (duJy >= 10000)
    dujy = frame["duJy"].astype(float)
    expected = frame[(frame["err"] == "0") & (dujy > 0) & (dujy < 10000)].drop_duplicates(subset=["MJD", "F"])
    assert len(lightcurve) == len(expected)


# --- CPCS ---------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_cpcs_real_answer_limits_and_errors(archive, make_target, capsys):
    import json

    document = json.loads((DATA_DIR / "cpcs" / "ASASSN-13dl.json").read_text())
    frame = pd.DataFrame({key: document[key] for key in ("mjd", "mag", "magerr", "caliberr", "filter")})
    limits = frame["magerr"] == -1.0
    target = make_target("ASASSN-13dl", None, None, **{"CPCS name": "ivo://asassn/ASASSN-13dl"})
    outcome = update(target, CpcsBroker)
    assert outcome.status == LightcurveUpdate.Status.OK, outcome.message
    mjd = stored_mjd(target, "CPCS")
    distinct = frame.drop_duplicates(subset=["mjd", "filter", "mag"])
    worst = largest_difference_seconds(mjd, distinct["mjd"].to_numpy())
    report(capsys, "cpcs/ASASSN-13dl.json", len(frame), len(mjd), worst)
    assert (len(frame), int(limits.sum())) == (90, 28)
    assert len(mjd) == len(distinct) and worst <= MAX_TIME_ERROR_SECONDS
    points = stored(target, "CPCS")
    assert sorted(points.exclude(limit=None).values_list("limit", flat=True)) == \
        sorted(distinct.loc[distinct["magerr"] == -1.0, "mag"])
    detected = distinct[distinct["magerr"] != -1.0]
    assert np.allclose(sorted(points.exclude(brightness=None).values_list("brightness_error", flat=True)),
                       sorted(np.hypot(detected["magerr"], detected["caliberr"])), atol=1e-5)
    assert set(points.values_list("bandpass", flat=True)) == {f"{f}(CPCS)" for f in ("B", "V", "g", "r", "i")}


# --- CRTS ---------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_crts_real_not_covered_page_is_no_data(archive, make_target):
    """The CGI's real answer for a position outside the survey: "not covered", no request after it."""
    target = make_target("outside CSS", 283.61614, 0.81912)
    outcome = update(target, CrtsBroker)
    assert outcome.status == LightcurveUpdate.Status.NO_DATA and "not covered" in outcome.message
    assert b"This area is not covered by CSS data" in (DATA_DIR / "crts" / "not_covered.html").read_bytes()


def test_crts_real_web_page_is_not_the_csv_answer_the_broker_asks_for():
    """The OUT=web page (tables, no CSV link): the broker asks for OUT=csv and would say so, not guess."""
    payload = (DATA_DIR / "crts" / "not_covered.html").read_bytes()
    with pytest.raises(NoData, match="^this area is not covered"):
        CrtsBroker().csv_path(payload)


# --- NEOWISE and ALLWISE: real Gator answers --------------------------------------------------------------

@pytest.mark.parametrize("file, rows", [
    ("neowise/gator_neowiser_p1bs_psd_Gaia20fnr.tbl", 281), ("neowise/gator_neowiser_p1bs_psd_no_coverage.tbl", 0),
    ("allwise/gator_allwise_p3as_mep_Gaia20fnr.tbl", 34), ("allwise/gator_allwise_p3as_mep_no_coverage.tbl", 0),
])
def test_irsa_real_ipac_tables_are_read_whole(file, rows):
    """IRSA's real IPAC tables through the one IPAC reader: every row, nulls masked (not zero, not text)."""
    from astropy.io import ascii

    table = read_ipac((DATA_DIR / file).read_bytes())
    independent = ascii.read(DATA_DIR / file, format="ipac")
    assert len(table) == len(independent) == rows
    assert table.colnames == independent.colnames
    if rows:
        assert np.allclose(table["mjd"], independent["mjd"])
        magnitude = "w1mpro" if "w1mpro" in table.colnames else "w1mpro_ep"
        assert np.ma.count_masked(table[magnitude]) == np.ma.count_masked(independent[magnitude])


@pytest.mark.parametrize("broker_class, file", [
    (NeowiseBroker, "neowise/gator_neowiser_p1bs_psd_Gaia20fnr.tbl"),
    (AllwiseBroker, "allwise/gator_allwise_p3as_mep_Gaia20fnr.tbl"),
])
def test_irsa_gator_answers_lack_the_quality_columns_the_broker_asks_for(broker_class, file):
    """The broker's TAP query asks for the quality columns it cuts on; the Gator answer (selected columns only),
    even as the VOTable TAP would send, is refused with their names, not read without its cuts."""
    votable = as_votable((DATA_DIR / file).read_bytes())
    with pytest.raises(BrokerParseError, match="no column.*qi_fact"):
        broker_class().parse_response(response(votable), TargetInfo(1, "x", 90.26701, -18.9677))


# --- PS1: the real MAST Catalogs API envelope ------------------------------------------------------------

def test_ps1_real_mean_answer_keeps_64_bit_object_ids_exact():
    import json

    payload = (DATA_DIR / "ps1" / "mast_catalogs_api_panstarrs_mean_astroquery_testdata.json").read_bytes()
    frame = ps1_table(payload, ("objID",))
    document = json.loads(payload)
    column = [c["name"] for c in document["info"]].index("objID")
    assert list(frame["objID"].astype(str)) == [str(row[column]) for row in document["data"]]
    assert str(frame["objID"].iloc[0]) == "68960059717834079"
    with pytest.raises(BrokerParseError, match="raMean"):
        ps1_table(payload, ("objID", "raMean", "decMean"))  # this recording selected other columns


# --- LINEAR: the real target list --------------------------------------------------------------------------

def test_linear_real_target_list_excerpt():
    import gzip

    text = (DATA_DIR / "linear" / "astroML_allLINEARfinal_targets_head40.dat").read_text()
    frame = parse_target_list(gzip.compress(text.encode()))
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert len(frame) == len(rows) == 13
    assert list(frame["objectID"]) == [int(row[0]) for row in rows]
    assert np.allclose(frame["raLIN"], [float(row[1]) for row in rows])
    assert np.allclose(frame["decLIN"], [float(row[2]) for row in rows])


# --- Gaia epoch photometry: a real DataLink VOTable in the per-band layout ---------------------------------

def test_gaia_real_epoch_photometry_votable_times_against_astropy(capsys):
    import io
    import zipfile

    from astropy.coordinates import EarthLocation, SkyCoord
    from astropy.io.votable import parse_single_table
    import astropy.units as u

    name = "GaiaDR2_5813181197970338560_EPOCH_PHOTOMETRY_votable_oldlayout.xml"
    content = (DATA_DIR / "gaia_dr3" / name).read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # as the data server packs it (USE_ZIP_ALWAYS=true)
        archive.writestr("EPOCH_PHOTOMETRY-Gaia DR2 5813181197970338560.xml", content)
    ra, dec = 266.0, -64.0  # any direction: the independent conversion below uses the same one
    lightcurve = GaiaDR3Broker().parse_response(response(buffer.getvalue()), TargetInfo(1, "x", ra, dec))
    table = parse_single_table(io.BytesIO(content)).to_table()
    # DPAC's recommendation: transits rejected by photometry or variability processing are left out (2 here)
    usable = ~np.ma.getmaskarray(table["mag"]) & ~np.asarray(table["rejected_by_variability"], dtype=bool) \
        & ~np.asarray(table["rejected_by_photometry"], dtype=bool)
    bands = np.asarray(table["band"]).astype(str)
    # independently: BJD(TCB) at the barycentre -> UTC at the geocentre, astropy's own light_travel_time
    arrival = Time(np.asarray(table["time"][usable], dtype=float) + 2455197.5, format="jd", scale="tcb",
                   location=EarthLocation.from_geocentric(0, 0, 0, unit=u.m))
    at_earth = arrival
    for _ in range(3):
        at_earth = arrival - at_earth.light_travel_time(SkyCoord(ra * u.deg, dec * u.deg), kind="barycentric")
    expected = at_earth.utc.mjd
    worst = largest_difference_seconds(lightcurve.frame["mjd"].to_numpy(), expected)
    report(capsys, f"gaia_dr3/{name}", len(table), len(lightcurve), worst)
    assert len(table) == 251 and {b: int((bands == b).sum()) for b in ("G", "BP", "RP")} == \
        {"G": 85, "BP": 83, "RP": 83}
    assert len(lightcurve) == int(usable.sum()) == 249 and worst <= MAX_TIME_ERROR_SECONDS
    assert lightcurve.matched_identifier == "5813181197970338560"


@pytest.mark.django_db
def test_a_byte_order_mark_never_reaches_the_recorded_name(archive, make_target):
    """Through HTTP: a light curve served with a BOM, found by cone; the name recorded is the clean one and the
    next update by that name works."""
    from tom_targets.models import TargetExtra

    real = (DATA_DIR / "gaia_alerts" / "Gaia18cbf_lightcurve.csv").read_bytes()
    archive.add_fault(path="/alerts/alert/Gaia18cbf/lightcurve.csv", kind="replace", body=b"\xef\xbb\xbf" + real)
    target = make_target("near Gaia18cbf", 268.8875, -31.2472)
    assert update(target, GaiaAlertsBroker).status == LightcurveUpdate.Status.OK
    assert TargetExtra.objects.get(target=target, key="Gaia Alerts name").value == "Gaia18cbf"
    assert update(target, GaiaAlertsBroker).status == LightcurveUpdate.Status.OK  # not "invalid name"
