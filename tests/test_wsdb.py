"""The WSDB route against a real PostgreSQL with the q3c extension (Debian's packages, installed by the test
setup when missing and root; otherwise skipped with the reason): a small WSDB with BHTOM's schema, table and
column names, filled with the same rows the public-route fixtures hold, so both routes must store the same
points."""
import io
import json
import tarfile

import numpy as np
import pandas as pd
import pytest

from tests.brokers.contract import stored, update
from tests.data.make_fixtures import LINEAR_GAIA19DKE_ID, PS1_OBJID
from tests.postgres import PostgresServer, PostgresUnavailable, ensure_q3c
from tests.sample_archive.server import DATA_DIR
from tom_bhtom_brokers.brokers.first import FirstBroker
from tom_bhtom_brokers.brokers.vizier import asu_tsv
from tom_bhtom_brokers.brokers.linear import LinearBroker
from tom_bhtom_brokers.brokers.ps1 import Ps1Broker
from tom_bhtom_brokers.brokers.sdss import SdssBroker
from tom_bhtom_brokers.models import LightcurveUpdate

RA, DEC = 90.26701, -18.96770
RA19, DEC19 = 304.7108, 55.1547
BANDS = "ugriz"
PASSWORD = "wsdb-test-password-3e8f"

SCHEMA = f"""
CREATE EXTENSION q3c;
CREATE SCHEMA sdssdr14; CREATE SCHEMA panstarrs_dr2; CREATE SCHEMA first_2014; CREATE SCHEMA lineardb;
CREATE TABLE sdssdr14.photoobjall (objid bigint, ra double precision, dec double precision, mode smallint,
    run int, rerun int, camcol int, field int, {", ".join(f"psfmag_{b} real, psfmagerr_{b} real" for b in BANDS)});
CREATE TABLE sdssdr14.field (run int, rerun int, camcol int, field int,
    {", ".join(f"mjd_{b} double precision" for b in BANDS)});
CREATE TABLE panstarrs_dr2.detection (objid bigint, detectid bigint, filterid smallint, obstime double precision,
    ra double precision, dec double precision, psfflux double precision, psffluxerr double precision,
    psfqfperfect real, infoflag bigint, infoflag2 int, infoflag3 int);
CREATE TABLE first_2014.main (first text, raj2000 double precision, dej2000 double precision, fpeak real, fint real,
    rms real, ep_jd_ double precision, s_ep_jd_ real);
CREATE TABLE lineardb.objects (objectid bigint, ra double precision, decl double precision);
CREATE TABLE lineardb.sources (objectid bigint, mjd double precision, mag real, magerr real);
"""


def fixture_rows():
    """The public-route fixtures as WSDB rows."""
    sdss = pd.read_csv(DATA_DIR / "sdss" / "cone_Gaia20fnr.csv", skiprows=1)
    photo = [(int(r.objID), r.ra, r.dec, r.mode, r.run, 301, r.camcol, r.field,
              *[v for b in BANDS for v in (getattr(r, f"psfMag_{b}"), getattr(r, f"psfMagErr_{b}"))])
             for r in sdss.itertuples()]
    fields = sorted({(r.run, 301, r.camcol, r.field, *[getattr(r, f"mjd_{b}") for b in BANDS])
                     for r in sdss.itertuples()})
    document = json.loads((DATA_DIR / "ps1" / f"detection_{PS1_OBJID}.json").read_text())
    detections = [tuple(int(v) if k in (0, 1) else v for k, v in enumerate(row)) for row in document["data"]]
    first = asu_tsv((DATA_DIR / "first" / "cone_Gaia20fnr.tsv").read_text())
    radio = [(r["FIRST"], float(r["_RAJ2000"]), float(r["_DEJ2000"]), float(r["Fpeak"]), float(r["Fint"]),
              float(r["Rms"]), float(r["Ep(JD)"]), float(r["s_Ep(JD)"])) for _, r in first.iterrows()]
    with tarfile.open(DATA_DIR / "linear" / "allLINEARfinal_dat.tar.gz") as archive:
        curve = np.loadtxt(io.BytesIO(archive.extractfile(f"{LINEAR_GAIA19DKE_ID}.dat").read()))
    objects = [(LINEAR_GAIA19DKE_ID, RA19 + 0.3 / 3600, DEC19 - 0.2 / 3600), (99, RA19 + 10 / 3600, DEC19)]
    sources = [(LINEAR_GAIA19DKE_ID, *row) for row in curve] + [(99, 53000.0, 17.0, 0.05)]
    return {"sdssdr14.photoobjall": photo, "sdssdr14.field": fields, "panstarrs_dr2.detection": detections,
            "first_2014.main": radio, "lineardb.objects": objects, "lineardb.sources": sources}


@pytest.fixture(scope="module")
def wsdb():
    try:
        server = PostgresServer()
        ensure_q3c(server.bin)
        server.start()
    except PostgresUnavailable as exc:
        pytest.skip(f"no PostgreSQL with q3c for the WSDB tests: {exc}")
    try:
        server.create_database("wsdb")
        import psycopg

        with psycopg.connect(host=server.host, port=server.port, dbname="wsdb", user="postgres") as conn:
            conn.execute(SCHEMA)
            with conn.cursor() as cursor:
                for table, rows in fixture_rows().items():
                    marks = ", ".join(["%s"] * len(rows[0]))
                    cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        yield server
    finally:
        server.stop()


@pytest.fixture
def wsdb_settings(wsdb, archive, settings):
    settings.DATA_SERVICES["WSDB"] = {"host": wsdb.host, "port": wsdb.port, "dbname": "wsdb", "user": "postgres",
                                      "password": PASSWORD}
    return settings


def numbers(row):
    return [np.nan if value is None else value for value in row[2:5]]


def points(target, name):
    return sorted(stored(target, name).values_list("bandpass", "timestamp", "brightness", "brightness_error",
                                                   "limit", "unit"))


@pytest.mark.django_db
@pytest.mark.parametrize("broker, ra, dec", [(SdssBroker, RA, DEC), (Ps1Broker, RA, DEC), (FirstBroker, RA, DEC),
                                             (LinearBroker, RA19, DEC19)])
def test_wsdb_stores_the_points_the_public_route_stores(wsdb_settings, make_target, broker, ra, dec):
    public = make_target("public", ra, dec)
    assert update(public, broker).status == "ok"
    wsdb_settings.DATA_SERVICES[broker.name]["route"] = "wsdb"
    via_wsdb = make_target("wsdb", ra, dec)
    outcome = update(via_wsdb, broker)
    assert outcome.status == "ok", outcome.message
    assert outcome.url.startswith("wsdb:")
    expected = points(public, broker.name)
    assert len(expected) > 0
    got = points(via_wsdb, broker.name)
    assert [row[:1] + row[1:2] + row[5:] for row in got] == [row[:2] + row[5:] for row in expected]
    for mine, theirs in zip(got, expected):  # real (float4) columns: the same to their precision
        assert numbers(mine) == pytest.approx(numbers(theirs), rel=1e-6, nan_ok=True)
    again = update(via_wsdb, broker, force=True)
    assert (again.status, again.added, again.removed) == ("ok", 0, 0)


@pytest.mark.django_db
def test_nothing_in_the_cone_is_no_data(wsdb_settings, make_target):
    wsdb_settings.DATA_SERVICES["SDSS"]["route"] = "wsdb"
    outcome = update(make_target("empty", 10.0, 10.0), SdssBroker)
    assert outcome.status == LightcurveUpdate.Status.NO_DATA and "within 1 arcsec" in outcome.message


@pytest.mark.django_db
def test_wsdb_without_a_connection_is_not_configured_and_a_dead_one_an_error(archive, make_target, settings, caplog):
    settings.DATA_SERVICES["PS1"]["route"] = "wsdb"
    target = make_target("x", RA, DEC)
    assert update(target, Ps1Broker).status == LightcurveUpdate.Status.NOT_CONFIGURED
    from tests.postgres import free_port

    settings.DATA_SERVICES["WSDB"] = {"host": "127.0.0.1", "port": free_port(), "user": "someone",
                                      "password": PASSWORD}
    outcome = update(target, Ps1Broker)
    assert outcome.status == "error" and "WSDB query failed" in outcome.message
    row = LightcurveUpdate.objects.get(target=target, source="PS1")
    assert PASSWORD not in outcome.message + outcome.url + row.message + caplog.text
