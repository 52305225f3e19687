"""SDSS, Pan-STARRS1, FIRST and LINEAR on their public routes (the WSDB route: tests/test_wsdb.py)."""
import io
import json
import shutil
import tarfile

import numpy as np
import pandas as pd
import pytest
from astropy.time import Time

from tests.brokers.contract import BrokerContract, stored, update
from tests.data.make_fixtures import LINEAR_GAIA19DKE_ID, PS1_OBJID, SDSS_PRIMARY
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.first import FirstBroker
from tom_bhtom_brokers.brokers.linear import LinearBroker
from tom_bhtom_brokers.brokers.ps1 import Ps1Broker
from tom_bhtom_brokers.brokers.sdss import SdssBroker
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.target_info import TargetInfo

RA, DEC = 90.26701, -18.96770                       # Gaia20fnr
RA19, DEC19 = 304.7108, 55.1547                     # Gaia19dke


def tai_to_utc(mjd):
    return Time(np.asarray(mjd, dtype=float), format="mjd", scale="tai").utc.mjd


# --- SDSS ------------------------------------------------------------------------------------------------

SDSS_ROWS = pd.read_csv(DATA_DIR / "sdss" / "cone_Gaia20fnr.csv", skiprows=1, dtype={"objID": str})
SDSS_KEPT = SDSS_ROWS[SDSS_ROWS["mode"].isin([1, 2])]
SDSS_MJD = [m for b in "ugriz" for m, mag in zip(SDSS_KEPT[f"mjd_{b}"], SDSS_KEPT[f"psfMag_{b}"]) if mag > -900]


class TestSdssContract(BrokerContract):
    broker_class = SdssBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/dr17/SkyServerWS/SearchTools/SqlSearch"
    expected_params = {"cmd": "fGetNearbyObjAllEq(90.2670100,-18.9677000,0.016667)", "format": "csv"}
    expected_points = len(SDSS_MJD)
    expected_filters = ("u", "g", "r", "i", "z")
    expected_mjd_range = (tai_to_utc(min(SDSS_MJD)), tai_to_utc(max(SDSS_MJD)))
    fault_path = "/dr17/"


@pytest.mark.django_db
def test_sdss_bands_have_their_own_epochs_sentinels_and_families_are_left_out(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    assert update(target, SdssBroker).status == "ok"
    points = stored(target, "SDSS")
    primary = SDSS_ROWS.iloc[0]
    for band in "ugriz":
        point = points.get(bandpass=f"{band}(SDSS)", value__objid=SDSS_PRIMARY)
        assert point.brightness == pytest.approx(primary[f"psfMag_{band}"])
        assert point.value["time_original"] == pytest.approx(primary[f"mjd_{band}"])
        assert Time(point.timestamp).utc.mjd == pytest.approx(tai_to_utc(primary[f"mjd_{band}"]), abs=1e-8)
    assert points.filter(value__objid=SDSS_ROWS.iloc[1]["objID"]).count() == 4         # u was -9999
    assert not points.filter(value__objid=SDSS_ROWS.iloc[2]["objID"]).exists()          # mode 3
    assert target.targetextra_set.get(key="SDSS objid").value == SDSS_PRIMARY
    assert "asinh" in points.first().value["magnitude_system"]


# --- Pan-STARRS1 ---------------------------------------------------------------------------------------------

PS1_DOC = json.loads((DATA_DIR / "ps1" / f"detection_{PS1_OBJID}.json").read_text())
PS1_ROWS = pd.DataFrame(PS1_DOC["data"], columns=[c["name"] for c in PS1_DOC["info"]])
PS1_GOOD = PS1_ROWS[(PS1_ROWS["psfFlux"] > 0) & (PS1_ROWS["psfFluxErr"] > 0) & (PS1_ROWS["psfQfPerfect"] >= 0.9)]


class TestPs1Contract(BrokerContract):
    broker_class = Ps1Broker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/api/v0.1/panstarrs/dr2/detection.json"
    expected_params = {"objID": PS1_OBJID}
    expected_points = len(PS1_GOOD)
    expected_filters = tuple(sorted({"g", "r", "i", "z", "y"}))
    expected_mjd_range = (tai_to_utc(PS1_GOOD["obsTime"].min()), tai_to_utc(PS1_GOOD["obsTime"].max()))
    fault_path = "/api/v0.1/panstarrs/"


@pytest.mark.django_db
def test_ps1_nearest_object_fluxes_to_ab_and_the_quality_cut(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    assert update(target, Ps1Broker).status == "ok"
    mean = archive.requests[0]["params"]
    assert (mean["ra"], mean["dec"], mean["radius"]) == ("90.2670100", "-18.9677000", "0.00027778")
    row = PS1_GOOD.iloc[0]
    point = stored(target, "PS1").get(value__detect_id=row["detectID"])
    assert point.brightness == pytest.approx(-2.5 * np.log10(row["psfFlux"] / 3631))
    assert point.brightness_error == pytest.approx(1.0857362 * row["psfFluxErr"] / row["psfFlux"])
    assert target.targetextra_set.get(key="PS1 objID").value == PS1_OBJID
    assert len(PS1_ROWS) - len(PS1_GOOD) == stored(target, "PS1").first().value["detections_dropped"] > 0
    # by the recorded objID the mean table is not asked again
    archive.reset()
    assert update(target, Ps1Broker).added == 0
    assert [r["path"].rsplit("/", 1)[1] for r in archive.requests] == ["detection.json"]


# --- FIRST -------------------------------------------------------------------------------------------------

class TestFirstContract(BrokerContract):
    broker_class = FirstBroker
    covered_target = {"name": "Gaia20fnr", "ra": RA, "dec": DEC}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/viz-bin/asu-tsv"
    expected_params = {"-source": "VIII/92/first14", "-c": "90.2670100 -18.9677000", "-c.rs": "5"}
    expected_points = 2
    expected_filters = ("Flux 1.4GHz",)
    expected_mjd_range = (2450573.1624 - 2400000.5, 2450573.1624 - 2400000.5)
    unit = "mJy"
    fault_path = "/viz-bin/"


@pytest.mark.django_db
def test_first_flux_in_mjy_at_the_mean_epoch_with_its_spread(archive, make_target):
    target = make_target("Gaia20fnr", RA, DEC)
    assert update(target, FirstBroker).status == "ok"
    point = stored(target, "FIRST").get(value__first_name="J060104.0-185803")
    assert (point.unit, point.bandpass) == ("mJy", "Flux 1.4GHz(FIRST)")
    assert point.brightness == pytest.approx(4.71)
    assert point.brightness_error == pytest.approx(np.hypot(0.146, 0.05 * 4.71), abs=1e-4)
    assert point.value["fpeak_mjy_per_beam"] == pytest.approx(4.38) and point.value["epoch_rms_days"] == 712.4


def test_a_first_answer_without_an_epoch_column_names_the_columns_it_has():
    from tom_bhtom_brokers.exceptions import BrokerParseError

    text = (DATA_DIR / "first" / "cone_Gaia20fnr.tsv").read_text().replace("Ep(JD)", "Obsdate")
    response = Response(url="http://x/viz-bin/asu-tsv", status=200, headers={}, content=text.encode())
    with pytest.raises(BrokerParseError, match=r"no \['epoch'\] column.*Obsdate"):
        FirstBroker().parse_response(response, TargetInfo(id=1, name="x", ra=RA, dec=DEC))


@pytest.mark.parametrize("header, value", [
    ("Ep(JD)", "2450573.1624"),     # VizieR's label as WSDB's ingest of it has it
    ("MJD", "2450573.1624"),        # the original catalogue's name, holding a full JD
    ("MJD", "50572.6624"),          # the same epoch as an MJD
    ("Epoch", "2450573.1624"),
])
def test_first_reads_the_mean_epoch_under_each_known_spelling(header, value):
    text = (DATA_DIR / "first" / "cone_Gaia20fnr.tsv").read_text()
    text = text.replace("Ep(JD)\ts_Ep(JD)", f"{header}\ts_{header}").replace("2450573.1624", value)
    response = Response(url="http://x/viz-bin/asu-tsv", status=200, headers={}, content=text.encode())
    frame = FirstBroker().parse_response(response, TargetInfo(id=1, name="x", ra=RA, dec=DEC)).frame
    assert np.allclose(frame["mjd"], 2450573.1624 - 2400000.5, atol=1e-9, rtol=0)
    assert np.allclose(frame["time_original"], 2450573.1624) and (frame["epoch_rms_days"] == 712.4).all()


# --- LINEAR ------------------------------------------------------------------------------------------------

with tarfile.open(DATA_DIR / "linear" / "allLINEARfinal_dat.tar.gz") as _archive:
    LINEAR_ROWS = np.loadtxt(io.BytesIO(_archive.extractfile(f"{LINEAR_GAIA19DKE_ID}.dat").read()))


class TestLinearContract(BrokerContract):
    transport_faults = True
    broker_class = LinearBroker
    covered_target = {"name": "Gaia19dke", "ra": RA19, "dec": DEC19}
    uncovered_target = {"name": "empty sky", "ra": 0.0, "dec": 0.0}
    expected_path = "/astroML/astroML-data/raw/master/datasets/allLINEARfinal_dat.tar.gz"
    expected_points = len(LINEAR_ROWS)
    expected_filters = ("CL",)
    expected_mjd_range = (LINEAR_ROWS[:, 0].min(), LINEAR_ROWS[:, 0].max())
    fault_path = "/astroML/"

    @pytest.fixture(autouse=True)
    def fresh_cache(self, settings, archive, tmp_path):
        self.cache = tmp_path
        settings.DATA_SERVICES["LINEAR"]["cache_dir"] = str(tmp_path)  # each test downloads

    def forget_downloads(self):
        for path in self.cache.iterdir():
            shutil.rmtree(path)


@pytest.mark.django_db
def test_linear_downloads_the_sample_once_and_says_when_a_target_is_not_in_it(archive, make_target, settings,
                                                                              tmp_path):
    settings.DATA_SERVICES["LINEAR"]["cache_dir"] = str(tmp_path)
    star = make_target("Gaia19dke", RA19, DEC19)
    outcome = update(star, LinearBroker)
    assert outcome.status == "ok" and star.targetextra_set.get(key="LINEAR id").value == str(LINEAR_GAIA19DKE_ID)
    elsewhere = make_target("elsewhere", 10.0, 10.0)
    outcome = update(elsewhere, LinearBroker, force=False)
    assert outcome.status == LightcurveUpdate.Status.NO_DATA and "not covered by the public LINEAR sample" in \
        outcome.message
    assert len(archive.requests) == 2                                     # the list and the tarball, once
    assert sorted(p.name for p in tmp_path.rglob("*.gz")) == ["allLINEARfinal_dat.tar.gz",
                                                               "allLINEARfinal_targets.dat.gz"]
    by_id = make_target("by id", 10.0, 10.0, **{"LINEAR id": "12345"})
    outcome = update(by_id, LinearBroker, force=False)
    assert outcome.status == LightcurveUpdate.Status.NO_DATA and "12345 is not in the public" in outcome.message
    assert len(archive.requests) == 2
    assert update(star, LinearBroker, force=True).status == "ok"  # a forced run fetches the sample again:
    assert len(archive.requests) == 3  # the tarball (the star goes by its recorded LINEAR id, not the list)


@pytest.mark.django_db
def test_a_corrupt_linear_download_is_an_error_and_not_cached(archive, make_target, settings, tmp_path):
    settings.DATA_SERVICES["LINEAR"]["cache_dir"] = str(tmp_path)
    archive.add_fault(path="allLINEARfinal_targets", kind="garbage", times=1)
    star = make_target("Gaia19dke", RA19, DEC19)
    outcome = update(star, LinearBroker)
    assert outcome.status == "error" and "not a whole gzip file" in outcome.message
    assert not list(tmp_path.rglob("*.gz"))
    assert update(star, LinearBroker).status == "ok"


def test_two_processes_unpacking_the_linear_sample_at_once_both_end_with_it(archive, tmp_path, settings):
    """A fleet's workers share LINEAR's cache folder: two unpacking the tarball at once (the per-process lock does
    not hold between processes; two threads calling ``unpack`` directly stand in for them) each write under a name of
    their own, and whichever finishes second keeps the first one's folder instead of failing."""
    import threading

    settings.DATA_SERVICES["LINEAR"]["cache_dir"] = str(tmp_path)
    tarball = DATA_DIR / "linear" / "allLINEARfinal_dat.tar.gz"
    folder = tmp_path / "light_curves"
    errors, start = [], threading.Barrier(3)

    def unpack():
        start.wait()
        try:
            LinearBroker().unpack(tarball, folder)
        except Exception as exc:  # noqa: BLE001 - what a worker would have recorded as the pair's error
            errors.append(exc)

    threads = [threading.Thread(target=unpack) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with tarfile.open(tarball) as archive:
        expected = sorted(name.rsplit("/", 1)[-1] for name in archive.getnames() if name.endswith(".dat"))
    assert sorted(p.name for p in folder.iterdir()) == expected
    assert [p.name for p in tmp_path.iterdir()] == ["light_curves"]  # no partial folder left behind
