"""KMTNet on the real pySIS files of KMT-2017-BLG-2573 (= Gaia17bcu; tests/data/kmtnet/PROVENANCE.md): the real
SSO I-band excerpt and SAAO V file, and a synthetic CTIO I file, packed as the event's pysis.tar.gz. The points
expected are counted here from the files with the cuts written out again, and HJD -> UTC is computed with astropy's
own ``light_travel_time`` at the geocentre, not with the package's conversion."""
import io
import tarfile
from datetime import date

import numpy as np
import pytest
from astropy.time import Time
from django.core.cache import cache

from tests.brokers.contract import BrokerContract, geocentric_utc_mjd, stored, update
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.kmtnet import KmtnetBroker, event_directory, event_list, last_public_season
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.survey_names import check
from tom_bhtom_brokers.target_info import TargetInfo

#: Gaia17bcu's position, which the repository of the real files names as this event's
RA, DEC = 266.54918, -25.62171
FOLDER = DATA_DIR / "kmtnet"


def rows(name):
    return np.loadtxt(FOLDER / name, comments="#")


def good(table):
    """The rows public users of the files keep: fwhm in (0, 10] px, sky <= 10,000, 0 < mag_err <= 0.5."""
    fwhm, sky, err = table[:, 5], table[:, 6], table[:, 4]
    return table[(fwhm > 0) & (fwhm <= 10) & (sky <= 10_000) & (err > 0) & (err <= 0.5)]


SSO, CTIO, SAAO_V = good(rows("KMTA19_I_first40.pysis")), good(rows("KMTC19_I_synthetic.pysis")), rows("KMTS19_V.pysis")


def expected_utc_mjd(hjd_short):
    return geocentric_utc_mjd(hjd_short + 2_450_000.0, RA, DEC)


pytestmark = pytest.mark.usefixtures("forget_site_cache")


class TestKmtnetContract(BrokerContract):
    broker_class = KmtnetBroker
    covered_target = {"name": "Gaia17bcu", "ra": RA, "dec": DEC, "KMTNet name": "KMT-2017-BLG-2573"}
    uncovered_target = {"name": "empty sky", "ra": 10.0, "dec": -30.0}
    expected_path = "/ulens/event/2017/data/KB172573/pysis/pysis.tar.gz"
    expected_points = len(SSO) + len(CTIO)
    expected_filters = ("I-KMTA", "I-KMTC")
    expected_mjd_range = (expected_utc_mjd(min(SSO[:, 0].min(), CTIO[:, 0].min())),
                          expected_utc_mjd(max(SSO[:, 0].max(), CTIO[:, 0].max())))
    fault_path = "/pysis/"

    def forget_downloads(self):
        cache.clear()


@pytest.mark.django_db
def test_each_site_is_its_own_series_with_its_rows_times_and_extras(archive, make_target):
    target = make_target("Gaia17bcu", RA, DEC, **{"KMTNet name": "KMT-2017-BLG-2573"})
    outcome = update(target, KmtnetBroker)
    assert outcome.status == "ok", outcome.message
    for bandpass, table, site in (("I-KMTA(KMTNet)", SSO, "KMTA"), ("I-KMTC(KMTNet)", CTIO, "KMTC")):
        points = sorted(stored(target, "KMTNet").filter(bandpass=bandpass), key=lambda p: p.timestamp)
        assert len(points) == len(table)
        for point, row, mjd in zip(points, table, expected_utc_mjd(table[:, 0])):
            assert abs(Time(point.timestamp).mjd - mjd) * 86400 < 1.0
            assert (point.brightness, point.brightness_error) == (row[3], row[4])
            assert (point.value["delta_flux"], point.value["fwhm_px"], point.value["site"]) == (row[1], row[5], site)
            assert point.value["field"] == "BLG19" and point.value["time_original"] == row[0] + 2_450_000
    # the real file's spurious 5-magnitude brightening (fwhm -1) is not a point; the V rows (no magnitudes) are said
    assert not stored(target, "KMTNet").filter(brightness__lt=15).exists()
    assert f"{len(SAAO_V)} V-band rows left out (no magnitudes)" in outcome.message
    left_out = len(rows("KMTA19_I_first40.pysis")) - len(SSO) + len(rows("KMTC19_I_synthetic.pysis")) - len(CTIO)
    assert f"{left_out} rows left out by the fwhm/sky/error cuts" in outcome.message and left_out >= 5


@pytest.mark.django_db
def test_the_gaia_alerts_position_finds_the_kmtnet_event_and_records_its_name(archive, make_target):
    """Cross-survey: a target made from the Gaia alert Gaia17bcu (its position only) finds KMT-2017-BLG-2573 in the
    2017 event list, records the name, and reads the event; the season lists are asked once and kept."""
    target = make_target("Gaia17bcu", RA, DEC, **{"Gaia Alerts name": "Gaia17bcu"})
    outcome = update(target, KmtnetBroker, force=False)
    assert outcome.status == "ok", outcome.message
    assert target.targetextra_set.get(key="KMTNet name").value == "KMT-2017-BLG-2573"
    lists = [r["path"] for r in archive.requests if r["path"].endswith("listpage.dat")]
    assert "/ulens/event/2017/listpage.dat" in lists and len(lists) == len(set(lists)) == len(KmtnetBroker().seasons())
    archive.reset()
    assert update(make_target("near", RA + 0.5, DEC), KmtnetBroker, force=False).status == "no_data"
    assert not [r for r in archive.requests if r["path"].endswith("listpage.dat")]  # from the site's cache


@pytest.mark.django_db
def test_a_season_not_yet_public_is_said_and_nothing_is_asked(archive, make_target):
    this_year = date.today().year
    target = make_target("new event", RA, DEC, **{"KMTNet name": f"KMT-{this_year}-BLG-0001"})
    outcome = update(target, KmtnetBroker)
    assert outcome.status == "no_data" and "not public yet" in outcome.message, outcome.message
    assert archive.requests == []
    assert last_public_season(date(2026, 6, 30)) == 2024 and last_public_season(date(2026, 7, 1)) == 2025


def test_names_and_the_event_list():
    assert event_directory("KMT-2017-BLG-2573") == ("2017", "KB172573") and event_directory("KB172573") is None
    assert check("KMTNet name", "KMT-2017-BLG-2573") is None and check("KMTNet name", "KMT-17-BLG-2573")
    events = event_list((FOLDER / "listpage_2017.dat").read_bytes())
    name, ra, dec = events[1]
    assert name == "KMT-2017-BLG-2573" and abs(ra - RA) * 3600 < 0.1 and abs(dec - DEC) * 3600 < 0.1
    assert event_list(b"# nothing this season\n") == []
    with pytest.raises(BrokerParseError, match="no position"):
        event_list(b"KMT-2017-BLG-0001 BLG01M0001.000001 EF\n")


@pytest.mark.django_db
def test_a_pysis_file_cut_short_or_of_another_layout_is_an_error(archive, make_target):
    import io
    import tarfile

    def answer_with(member, content):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w:gz") as tar:
            info = tarfile.TarInfo(member)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        return raw.getvalue()

    broker = KmtnetBroker()
    real = (FOLDER / "KMTA19_I_first40.pysis").read_bytes()
    with pytest.raises(BrokerParseError, match="ends mid-line"):
        broker.parse(answer_with("KMTA19_I.pysis", real[:-30]), None)
    with pytest.raises(BrokerParseError, match="header"):
        broker.parse(answer_with("KMTA19_I.pysis", b"# HJD mag\n7837.1 19.0\n"), None)
    with pytest.raises(BrokerParseError, match="holds no"):
        broker.parse(answer_with("notes.txt", b"hello\n"), None)


class Zeros(io.RawIOBase):
    """``size`` zero bytes, read without holding them (a member that unpacks far past its packed size)."""

    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def tarball(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, size in members:
            info = tarfile.TarInfo(name)
            info.size = size
            archive.addfile(info, Zeros(size))
    return out.getvalue()


@pytest.mark.parametrize("members, reason", [
    # ~70 kB packed, 70 MB unpacked: refused from its headers, before a byte of it is extracted
    ([("KMTA19_I.pysis", 70 * 1024 * 1024)], "unpacks to more than"),
    ([(f"KMTA{n:02d}_I.pysis", 10) for n in range(201)], "more than 200 entries"),
])
def test_a_tarball_that_unpacks_past_its_caps_is_refused_unread(members, reason):
    payload = tarball(members)
    assert len(payload) < 200_000
    with pytest.raises(BrokerParseError, match=reason):
        KmtnetBroker().parse(payload, TargetInfo(None, "x", RA, DEC))
