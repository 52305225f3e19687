"""NOIRLab Source Catalog DR2 (NSC DR2; Astro Data Lab): every measurement of the nearest object in DECam (DES
included), Mosaic3 and 90Prime exposures, u g r i z Y VR.

Archive: Astro Data Lab's TAP service (``https://datalab.noirlab.edu/tap``), two ADQL queries: the nearest object
of ``nsc_dr2.object`` within the radius (1 arcsec), then its measurements in ``nsc_dr2.meas``; no authentication.
Cite Nidever et al. 2021, AJ 161, 192 (NSC DR2), and acknowledge Astro Data Lab and the surveys whose exposures it
holds (DES, DECaLS, ...).

Photometry: ``mag_auto`` +- ``magerr_auto`` (calibrated SExtractor AUTO magnitude, AB; the catalogue's own light-curve
magnitude), bands as written (bandpass ``g(NSC)``). 99.99 (and an error of 9.99) is the catalogue's "no
measurement": left out, as are measurements with SExtractor ``flags`` of 4 or more (saturated or truncated;
``max_flags`` in settings); both counted in the status line. The instrument is read from the exposure's name (``c4d_``
DECam, ``k4m_`` Mosaic3, ``ksb_`` 90Prime) and kept in the extras with the exposure. The object found (its ``id``,
``<healpix>_<number>``) is the matched identifier, its separation and the other objects in the cone go to the status
line; an id of any other shape is refused before it reaches the second query.

Times: ``mjd`` as the catalogue gives it, taken as UTC (NSC states no scale). DR2 is a data release: read once.
"""
import re

import astropy.units as u
import numpy as np

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.catalogue import NearestObjectCone
from tom_bhtom_brokers.brokers.reading import filled
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.transports.tap import read_votable

TAP_PATH = "/tap"
OBJECT_COLUMNS = ("id", "ra", "dec")
MEAS_COLUMNS = ("mjd", "filter", "mag_auto", "magerr_auto", "flags", "exposure")
#: NSC DR2's object ids: the HEALPix pixel and a running number, e.g. 181013_8057
OBJECT_ID = re.compile(r"^\d{1,10}_\d{1,10}$")
#: the catalogue's "no measurement" (99.99, with an error of 9.99)
NO_MEASUREMENT = 50.0
INSTRUMENTS = {"c4d": "DECam", "k4m": "Mosaic3", "ksb": "90Prime"}


class NscBroker(NearestObjectCone, BHTOMBroker):
    """NSC DR2 measurements of the object nearest to the target."""

    source = DataSource.NSC
    default_url = "https://datalab.noirlab.edu"
    match_radius = 1 * u.arcsec
    cadence = None  # a data release: read once, again only with --force
    telescope = "NOIRLab (CTIO Blanco, KPNO Mayall, Bok)"
    verbose_name = "NOIRLab Source Catalog DR2 (Astro Data Lab)"
    citation = "Nidever et al. 2021, AJ 161, 192"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    tap_path, object_table, object_columns = TAP_PATH, "nsc_dr2.object", OBJECT_COLUMNS
    object_noun = "NSC DR2 object"
    tally_notes = {"flagged": "{n} NSC measurement(s) with flags 4 or more left out",
                   "no measurement": "{n} NSC measurement(s) without a magnitude (99.99) left out"}

    def object_identifier(self, value):
        object_id = str(value).strip()
        if not OBJECT_ID.match(object_id):
            # the id goes into the next query: nothing but the catalogue's own shape
            raise BrokerParseError(f"the NSC object id {object_id[:40]!r} is not <healpix>_<number>")
        return object_id

    def query(self, located):
        return [Request(TAP_PATH, adql=f"SELECT {', '.join(MEAS_COLUMNS)} FROM nsc_dr2.meas "
                                       f"WHERE objectid = '{located.identifier}'")]

    def parse(self, payload, target):
        table = read_votable(payload, MEAS_COLUMNS, "NSC measurement table")
        band = self.known_bands(table["filter"])
        mag, error = (filled(table[name], np.nan).astype(float) for name in ("mag_auto", "magerr_auto"))
        with np.errstate(invalid="ignore"):
            measured = np.isfinite(mag) & (mag < NO_MEASUREMENT) & np.isfinite(error) & (error > 0) & (error < 9)
        flagged = filled(table["flags"], 9999).astype(int) >= int(self.setting("max_flags", 4))
        good = measured & ~flagged
        exposure = np.char.strip(np.asarray(filled(table["exposure"], ""), dtype=str))
        instrument = np.array([INSTRUMENTS.get(name[:3], "") for name in exposure], dtype=object)
        lightcurve = Lightcurve.from_columns(
            mjd=filled(table["mjd"], np.nan).astype(float)[good], brightness=mag[good], brightness_error=error[good],
            filter=band[good].astype(object), unit="mag", telescope=self.telescope, instrument=instrument[good],
            exposure=exposure[good].astype(object), flags=filled(table["flags"], -1).astype(int)[good],
            extras={"time_system": "MJD, taken as UTC (nsc_dr2.meas.mjd; no scale stated)",
                    "magnitude_system": "NSC DR2 mag_auto (calibrated SExtractor AUTO, AB)"})
        lightcurve.tallies = {"flagged": int((measured & flagged).sum()), "no measurement": int((~measured).sum())}
        return lightcurve
