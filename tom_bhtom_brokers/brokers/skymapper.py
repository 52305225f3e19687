"""SkyMapper Southern Survey DR4 (ANU, Siding Spring Observatory): u v g r i z PSF photometry of every detection.

Archive: the SkyMapper TAP service at NCI (``https://api.skymapper.nci.org.au/public/tap``), two ADQL queries: the
nearest object of ``dr4.master`` within the radius (2 arcsec), then its detections, ``dr4.photometry`` joined with
``dr4.images`` on ``image_id`` for each image's date; no authentication. The southern sky (Dec below about +16, some
fields to +28): elsewhere the cone is empty. Cite Onken et al. 2024, PASA 41, e061 (DR4).

Photometry: ``mag_psf`` +- ``e_mag_psf`` (AB), bands ``u v g r i z`` (bandpass ``g(SkyMapper)``). Detections are
kept only with ``flags`` below 4 (no saturated or truncated source: SExtractor's flags 4 and up) and ``nimaflags``
below 5 (fewer than five flagged pixels in the aperture), the cuts SkyMapper's users apply (``max_flags``,
``max_nimaflags`` in settings); a detection without a magnitude or with a non-positive error is no measurement.
The rows left out are counted in the status line. The object found (its ``object_id``) is the matched identifier,
its separation and the other objects in the cone go to the status line.

Times: ``dr4.images.date`` is the MJD (UTC) at the start of the exposure: stored at mid-exposure, ``date +
exp_time / 2`` (``exp_time`` in seconds); the start is kept as ``time_original``. DR4 is a data release: read once.
"""
import astropy.units as u
import numpy as np

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.catalogue import NearestObjectCone
from tom_bhtom_brokers.brokers.reading import filled
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.transports.tap import read_votable

TAP_PATH = "/public/tap"
OBJECT_COLUMNS = ("object_id", "raj2000", "dej2000")
DETECTION_COLUMNS = ("image_id", "filter", "mag_psf", "e_mag_psf", "flags", "nimaflags", "date", "exp_time")
DEFAULT_CUTS = {"max_flags": 4, "max_nimaflags": 5}


class SkymapperBroker(NearestObjectCone, BHTOMBroker):
    """SkyMapper DR4 u v g r i z detections of the object nearest to the target."""

    source = DataSource.SKYMAPPER
    default_url = "https://api.skymapper.nci.org.au"
    match_radius = 2 * u.arcsec
    cadence = None  # a data release: read once, again only with --force
    telescope = "SkyMapper 1.3m"
    instrument = "SkyMapper camera"
    verbose_name = "SkyMapper Southern Survey DR4 (NCI TAP)"
    citation = "Onken et al. 2024, PASA 41, e061"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    tap_path, object_table, object_columns = TAP_PATH, "dr4.master", OBJECT_COLUMNS
    object_noun = "SkyMapper DR4 object"
    tally_notes = {"flagged": "{n} SkyMapper detection(s) failing flags/nimaflags left out",
                   "no measurement": "{n} SkyMapper detection(s) without a magnitude or error left out"}

    def query(self, located):
        object_id = int(located.identifier)  # an integer from the archive's own table: nothing else reaches ADQL
        return [Request(TAP_PATH, adql=(
            "SELECT p.image_id, p.filter, p.mag_psf, p.e_mag_psf, p.flags, p.nimaflags, i.date, i.exp_time "
            f"FROM dr4.photometry AS p JOIN dr4.images AS i ON p.image_id = i.image_id WHERE p.object_id = {object_id}"
        ))]

    def parse(self, payload, target):
        table = read_votable(payload, DETECTION_COLUMNS, "SkyMapper photometry table")
        band = self.known_bands(table["filter"])
        mag, error = (filled(table[name], np.nan).astype(float) for name in ("mag_psf", "e_mag_psf"))
        cuts = {key: int(self.setting(key, value)) for key, value in DEFAULT_CUTS.items()}
        flagged = (filled(table["flags"], 9999).astype(int) >= cuts["max_flags"]) \
            | (filled(table["nimaflags"], 9999).astype(int) >= cuts["max_nimaflags"])
        with np.errstate(invalid="ignore"):
            measured = np.isfinite(mag) & np.isfinite(error) & (error > 0)
        good = measured & ~flagged
        start = filled(table["date"], np.nan).astype(float)
        middle = start + filled(table["exp_time"], np.nan).astype(float) / 2 / 86400
        lightcurve = Lightcurve.from_columns(
            mjd=middle[good], brightness=mag[good], brightness_error=error[good], filter=band[good].astype(object),
            unit="mag", telescope=self.telescope, instrument=self.instrument, time_original=start[good],
            image_id=np.asarray(filled(table["image_id"], 0)).astype(np.int64)[good].astype(str).astype(object),
            flags=filled(table["flags"], -1).astype(int)[good],
            extras={"time_system": "MJD (UTC), mid-exposure (archive: images.date, the exposure start)",
                    "magnitude_system": "SkyMapper DR4 PSF magnitude (AB)"})
        lightcurve.tallies = {"flagged": int((measured & flagged).sum()), "no measurement": int((~measured).sum())}
        return lightcurve
