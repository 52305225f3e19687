"""TESS through MAST's API on synthetic SPOC, TESS-SPOC and QLP files in their documented layouts and the real CDIPS
HLSP file (tests/data/tess/PROVENANCE.md). Expectations are computed here from the files with astropy (BJD_TDB ->
geocentric UTC with astropy's own ``light_travel_time``) and pandas (the 30-minute bins), not with the package's
readers."""
import numpy as np
import pandas as pd
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time

from tests.brokers.contract import GEOCENTRE, BrokerContract, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.tess import TessBroker, chosen_files
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 97.0302326462, -6.6868466254  # TIC 443387847 = Gaia DR2 3007171311355035136
FOLDER = DATA_DIR / "tess"
SPOC = "tess2018349182500-s0006-0000000443387847-0126-s_lc.fits"
TESS_SPOC = "hlsp_tess-spoc_tess_phot_0000000443387847-s0033_tess_v1_lc.fits"
QLP = "hlsp_qlp_tess_ffi_s0087-0000000443387847_tess_v01_llc.fits"
CDIPS = "hlsp_cdips_tess_ffi_gaiatwo0003007171311355035136-0006_tess_v01_llc.fits"


def utc_mjd(bjd_tdb):
    """Barycentric TDB -> UTC MJD at the Earth's centre, by astropy's light_travel_time."""
    bary = Time(bjd_tdb, format="jd", scale="tdb", location=GEOCENTRE)
    return (bary - bary.light_travel_time(SkyCoord(RA, DEC, unit="deg"), kind="barycentric")).utc.mjd


def expected_bins(name, minutes=30):
    """(bins, flagged): a frame of the 30-minute bins of a SPOC-layout or QLP file, and the cadences cut."""
    with fits.open(FOLDER / name) as hdus:
        data, header, tess_mag = hdus[1].data, hdus[1].header, hdus[0].header["TESSMAG"]
        spoc = "PDCSAP_FLUX" in data.columns.names
        flux = np.asarray(data["PDCSAP_FLUX" if spoc else "SAP_FLUX"], dtype=float)
        good = (data["QUALITY"] == 0) & np.isfinite(flux) & np.isfinite(data["TIME"])
        mjd = utc_mjd(data["TIME"][good] + header["BJDREFI"] + header["BJDREFF"])
        mag = (20.44 if spoc else tess_mag) - 2.5 * np.log10(flux[good])
    frame = pd.DataFrame({"mjd": mjd, "mag": mag, "bin": np.floor(mjd / (minutes / 1440))})
    bins = frame.groupby("bin").agg(mjd=("mjd", "mean"), mag=("mag", "mean"), scatter=("mag", lambda m: m.std(ddof=0)),
                                    count=("mag", "size"))
    return bins.reset_index(drop=True), int((~good).sum())


BINS = {name: expected_bins(name) for name in (SPOC, TESS_SPOC, QLP)}


class TestTessContract(BrokerContract):
    broker_class = TessBroker
    covered_target = {"name": "TIC 443387847", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 10.0, "dec": -30.0}
    expected_path = "/api/v0.1/Download/file"
    expected_params = {"uri": "0000000443387847"}
    expected_points = sum(len(bins) for bins, _ in BINS.values())
    expected_filters = ("T",)
    expected_mjd_range = (min(b["mjd"].min() for b, _ in BINS.values()), max(b["mjd"].max() for b, _ in BINS.values()))
    fault_path = "/Download/file"


@pytest.mark.django_db
def test_one_file_per_sector_binned_with_every_cadence_accounted_for(archive, make_target):
    target = make_target("TIC 443387847", RA, DEC)
    outcome = update(target, TessBroker)
    assert outcome.status == "ok", outcome.message
    downloads = [r["params"]["uri"] for r in archive.requests if r["path"] == "/api/v0.1/Download/file"]
    assert [uri.rsplit("/", 1)[1] for uri in downloads] == [SPOC, TESS_SPOC, QLP]  # not QLP's sector 6
    assert LightcurveUpdate.objects.get(target=target, source="TESS").matched_identifier == "443387847"
    points = sorted(stored(target, "TESS"), key=lambda p: p.timestamp)
    flagged = sum(cut for _, cut in BINS.values())
    assert f"{flagged} TESS cadence(s) flagged (QUALITY) or without a flux left out" in outcome.message
    expected = pd.concat([bins for bins, _ in BINS.values()], ignore_index=True).sort_values("mjd")
    assert len(points) == len(expected)
    stamps = Time([p.timestamp for p in points]).utc.mjd
    assert np.abs(stamps - expected["mjd"].to_numpy()).max() * 86400 < 1  # within a second of astropy
    assert np.allclose([p.brightness for p in points], expected["mag"], atol=1e-5)
    assert np.allclose([p.brightness_error for p in points], np.where(expected["count"] > 1, expected["scatter"],
                                                                      [p.brightness_error for p in points]), atol=1e-6)
    assert [p.value["cadences"] for p in points] == expected["count"].tolist()
    assert {p.value["product"] for p in points} == {"SPOC", "QLP"} and {p.bandpass for p in points} == {"T(TESS)"}


@pytest.mark.django_db
def test_a_tic_id_in_the_name_field_skips_the_cone(archive, make_target):
    target = make_target("TIC 443387847", RA, DEC, **{"TIC id": "TIC 443387847"})
    outcome = update(target, TessBroker)
    assert outcome.status == "ok", outcome.message
    assert not any("Tic.Cone" in r["params"].get("request", "") for r in archive.requests)


def test_the_real_cdips_file_is_read_cadence_by_cadence_at_geocentric_utc(settings):
    """The CDIPS HLSP (985 30-minute FFI cadences, all flagged good): magnitudes as given, BJD_TDB to UTC within a
    second of astropy, and of the file's own TMID_UTC (the spacecraft's clock) within TESS's light-time from Earth."""
    settings.DATA_SERVICES = {"TESS": {"bin_minutes": 0}}  # every cadence as it is
    broker = TessBroker()
    with fits.open(FOLDER / CDIPS) as hdus:
        data = hdus[1].data
        bjd, utc, mag = (np.asarray(data[name], dtype=float) for name in ("TMID_BJD", "TMID_UTC", "IRM1"))
    lightcurve = broker.parse((FOLDER / CDIPS).read_bytes(), TargetInfo(None, "TIC 443387847", RA, DEC))
    frame = lightcurve.frame
    assert len(frame) == len(bjd) == 985 and lightcurve.tallies == {"flagged": 0}
    assert np.abs(frame["mjd"].to_numpy() - utc_mjd(bjd)).max() * 86400 < 1
    assert np.abs(frame["mjd"].to_numpy() - (utc - 2400000.5)).max() * 86400 < 2  # TESS is ~1.3 light-s away
    assert np.allclose(frame["brightness"], mag) and set(frame["product"]) == {"CDIPS"}


def test_a_sector_is_read_from_one_product_in_the_order_of_preference():
    rows = [{"obs_collection": "HLSP", "provenance_name": "QLP", "sequence_number": 6, "dataURL": "mast:qlp6"},
            {"obs_collection": "TESS", "provenance_name": "SPOC", "sequence_number": 6, "t_exptime": 20,
             "dataURL": "mast:fast6"},
            {"obs_collection": "TESS", "provenance_name": "SPOC", "sequence_number": 6, "t_exptime": 120,
             "dataURL": "mast:spoc6"},
            {"obs_collection": "HLSP", "provenance_name": "QLP", "sequence_number": 7, "dataURL": "mast:qlp7"},
            {"obs_collection": "HLSP", "provenance_name": "ELEANOR", "sequence_number": 8, "dataURL": "mast:e8"},
            {"obs_collection": "HLSP", "provenance_name": "QLP", "sequence_number": 9, "dataURL": "https://x/"}]
    assert chosen_files(rows) == ("mast:spoc6", "mast:qlp7")


@pytest.mark.parametrize("payload, reason", [
    (b"SIMPLE  =                    T" + b" " * 50, "is not a FITS file|no light-curve table"),
    (fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([fits.Column("X", "D", array=[1.0])])]),
     "none of SPOC's, QLP's or CDIPS's columns"),
    ((FOLDER / SPOC).read_bytes().replace(b"NAXIS2  =                 1440", b"NAXIS2  =            900000000"),
     "cut short"),
])
def test_a_file_that_is_not_a_tess_light_curve_is_refused(payload, reason, tmp_path):
    """Also a header that declares 900 million rows over one row's bytes: refused, nothing allocated for them."""
    if isinstance(payload, fits.HDUList):
        payload.writeto(tmp_path / "x.fits")
        payload = (tmp_path / "x.fits").read_bytes()
    with pytest.raises(BrokerParseError, match=reason):
        TessBroker().parse(payload, TargetInfo(None, "x", RA, DEC))
