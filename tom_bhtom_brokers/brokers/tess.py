"""TESS (the Transiting Exoplanet Survey Satellite) light curves at MAST: two-minute SPOC light curves, and the
full-frame-image light curves of TESS-SPOC and QLP, one per sector, binned.

Archive: MAST's API (``https://mast.stsci.edu``), keyless. The target's TIC id comes from its "TIC id" field, else
from the TIC cone (``Mast.Catalogs.Tic.Cone``, the nearest star within 10 arcsec: TESS's 21-arcsec pixels blend
anything closer); its light-curve products from ``Mast.Caom.Filtered`` (``target_name`` = the TIC id,
``dataproduct_type`` timeseries, collections TESS and HLSP), both POSTed to ``/api/v0/invoke``; each chosen file
from ``/api/v0.1/Download/file?uri=``. One file per sector, in this order of preference: SPOC's two-minute light
curve (the best photometry, for stars on a target list), then TESS-SPOC's and QLP's FFI light curves (every star
to T ~ 13.5 and 13.5 respectively), then CDIPS's (clusters); a 20-second SPOC light curve is not taken where the
two-minute one of the same sector is. Cite Ricker et al. 2015, JATIS 1, 014003 (TESS), Jenkins et al. 2016 (SPOC),
Caldwell et al. 2020 (TESS-SPOC), Huang et al. 2020 (QLP), Bouma et al. 2019 (CDIPS), and MAST.

Photometry and times: ``brokers/tess_files.py`` (SPOC's PDCSAP flux as T = -2.5 log10(flux) + 20.44; QLP's relative
flux against the header's TESSMAG; CDIPS's instrumental magnitude; BJD_TDB to geocentric UTC; flagged cadences cut
and counted). A sector's tens of thousands of cadences are binned (``bin_minutes`` in settings, default 30; 0: none):
each point is a bin's mean, its error the bin's scatter, its cadence count, sector, product and flux in the extras.
Bandpass ``T(TESS)``. New sectors come every month or so: read again weekly.
"""
import json
from datetime import timedelta

import astropy.units as u
import numpy as np

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import nearest_row, read_json
from tom_bhtom_brokers.brokers.tess_files import binned, read_cadences
from tom_bhtom_brokers.exceptions import BrokerParseError, BrokerServiceError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource

INVOKE_PATH = "/api/v0/invoke"
DOWNLOAD_PATH = "/api/v0.1/Download/file"
#: (collection, provenance) in the order a sector's file is chosen
PRODUCTS = (("TESS", "SPOC"), ("HLSP", "TESS-SPOC"), ("HLSP", "QLP"), ("HLSP", "CDIPS"))
PRODUCT_COLUMNS = "obs_collection,provenance_name,sequence_number,t_exptime,dataURL,target_name"


def mast_request(service, params):
    """A MAST API request (a read POSTed as the form field ``request``)."""
    return Request(INVOKE_PATH, method="POST", idempotent=True, data={"request": json.dumps(
        {"service": service, "params": params, "format": "json", "pagesize": 5000, "page": 1})})


def mast_rows(payload, what):
    """The rows of a MAST API answer; its error said when it reports one."""
    document = read_json(payload, what)
    if str(document.get("status", "")).upper() == "ERROR":
        raise BrokerServiceError(f"MAST answered the {what} with an error: {str(document.get('msg', ''))[:200]}")
    rows = document.get("data")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BrokerParseError(f"the {what} has no list of rows ('data')")
    return rows


def chosen_files(rows):
    """One file per sector: the first of ``PRODUCTS`` (two-minute before 20-second SPOC cadence), by sector."""
    def rank(row):
        key = (row.get("obs_collection"), row.get("provenance_name"))
        return (PRODUCTS.index(key), abs(float(row.get("t_exptime") or 0) - 120))

    usable = [row for row in rows if (row.get("obs_collection"), row.get("provenance_name")) in PRODUCTS
              and str(row.get("dataURL") or "").startswith("mast:")]
    chosen = {}
    for row in sorted(usable, key=rank):
        chosen.setdefault(int(row.get("sequence_number") or -1), row["dataURL"])
    return tuple(chosen[sector] for sector in sorted(chosen))


class TessBroker(BHTOMBroker):
    """TESS light curves (SPOC, TESS-SPOC, QLP) of the TIC star nearest to the target, binned."""

    source = DataSource.TESS
    default_url = "https://mast.stsci.edu"
    match_radius = 10 * u.arcsec
    located_by = ("name", "cone")
    cadence = timedelta(days=7)
    telescope = "TESS"
    instrument = "TESS cameras"
    verbose_name = "TESS light curves (MAST: SPOC, TESS-SPOC, QLP)"
    citation = "Ricker et al. 2015, JATIS 1, 014003"
    name_hint = "a TIC id, e.g. TIC 443387847"
    probe = {"name": "TIC 443387847", "ra": 97.03023, "dec": -6.68685}
    tally_notes = {"flagged": "{n} TESS cadence(s) flagged (QUALITY) or without a flux left out"}

    def locate_by_name(self, target, name):
        self.require_position(target)  # BJD -> UTC needs the direction
        return self.products(target, self.valid_name(name).upper().removeprefix("TIC").strip(), note="")

    def locate_by_cone(self, target):
        self.require_position(target)
        stars = self.ask(mast_request("Mast.Catalogs.Tic.Cone", {
            "ra": target.ra, "dec": target.dec, "radius": self.radius.to_value(u.deg)}),
            lambda payload: mast_rows(payload, "TIC cone answer"))
        if not stars:
            raise NoData(self.radius_note("TIC star"))
        nearest, note = nearest_row([row.get("ra") for row in stars], [row.get("dec") for row in stars], target)
        try:
            tic = str(int(stars[nearest].get("ID")))  # goes into the next request: an integer, nothing else
        except (TypeError, ValueError):
            raise BrokerParseError("the TIC cone answer has a star without an integer ID") from None
        return self.products(target, tic, note)

    def products(self, target, tic, note):
        rows = self.ask(mast_request("Mast.Caom.Filtered", {"columns": PRODUCT_COLUMNS, "filters": [
            {"paramName": "target_name", "values": [tic]},
            {"paramName": "dataproduct_type", "values": ["timeseries"]},
            {"paramName": "obs_collection", "values": ["TESS", "HLSP"]}]}),
            lambda payload: mast_rows(payload, "MAST product list"))
        files = chosen_files(rows)
        if not files:
            raise NoData(f"TIC {tic} has no SPOC, TESS-SPOC or QLP light curve at MAST")
        return Located(target, tic, note=note, files=files)

    def query(self, located):
        return [Request(DOWNLOAD_PATH, params={"uri": uri}) for uri in located.files]

    def parse(self, payload, target):
        cadences, facts = read_cadences(payload, target.ra, target.dec)
        points = binned(cadences, float(self.setting("bin_minutes", 30)))
        lightcurve = Lightcurve.from_columns(
            mjd=points["mjd"], brightness=points["mag"], brightness_error=points["error"], filter="T", unit="mag",
            telescope=self.telescope, instrument=self.instrument, time_original=points["bjd"],
            cadences=points["count"], sector=facts["sector"], product=facts["layout"],
            flux=np.round(points["flux"], 6), flux_error=np.round(points["flux_error"], 6),
            flux_unit=facts["flux_unit"],
            extras={"time_system": "MJD (UTC), geocentric (archive: BJD_TDB, mid-exposure)",
                    "magnitude_system": "TESS T (SPOC zero point 20.44; QLP: header TESSMAG; CDIPS: instrumental)"})
        lightcurve.tallies = {"flagged": facts["left_out"]}
        return lightcurve
