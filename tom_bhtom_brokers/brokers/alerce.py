"""ZTF alert photometry and forced photometry from the ALeRCE broker.

Archive: ALeRCE's ZTF API (``https://api.alerce.online``; no authentication): ``/ztf/v1/objects/<oid>/lightcurve``
(alert detections and non-detections) and ``/v2/lightcurve/forced-photometry/<oid>`` (ZTF forced photometry at
the object's position, where ALeRCE serves it; ``forced_photometry: False`` in settings leaves it out). Cite
Förster et al. 2021, AJ 161, 242 and acknowledge ZTF (Bellm et al. 2019, PASP 131, 018002).

Not TOM Toolkit's own "ALeRCE" data service (``tom_dataservices``), which searches ALeRCE for targets and reads
their photometry through the ``alerce`` client on request: this one is named "ALeRCE ZTF" (so both can be in a
site's ``DATA_SERVICES``), stores its points as ``g(ALeRCE)``, ``r(ALeRCE)``, ``i(ALeRCE)`` and is refreshed
daily with every other archive.

Finding the object: by the target's "ZTF name" (the field ANTARES uses), else ALeRCE's cone
(``/ztf/v1/objects?ra=&dec=&radius=<arcsec>``, objects under ``items``): the object nearest to the target within
the radius, whose name is recorded.

Photometry (``fid`` 1/2/3 = g/r/i; ``mjd`` is the UTC exposure start, stored as it is):
- detections: the total magnitude ``magpsf_corr`` (the difference flux plus the reference's) where the alert has
  one with a usable error — ``sigmapsf_corr``, or, where that holds ALeRCE's sentinel ``100`` (an undefined
  error), ``sigmapsf_corr_ext`` — otherwise the difference magnitude ``magpsf`` with ``sigmapsf``;
  ``magnitude_kind`` says which. A negative difference (``isdiffpos`` -1) without a total magnitude is no
  brightness: it is stored as the image's limit ``diffmaglim``. ``dubious`` corrections are kept and flagged.
- non-detections: upper limits ``diffmaglim``.
- forced photometry (``kind: forced`` in the extras, drawn open in the plot): ``mag_corr``/``e_mag_corr`` (or
  ``e_mag_corr_ext`` for the sentinel) where corrected, else ``mag``/``e_mag``, when the signal-to-noise
  (1.0857 / ``e_mag``) is at least ``limit_snr`` (3); otherwise the image's limit ``diffmaglim``. The rows' own
  fields may sit in an ``extra_fields`` object (the API) or beside the others (the client's flattened rows).
Cadence: daily.
"""
import math
from datetime import timedelta

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request, column, no_data, number, read_json
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sky import nearest_within
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.survey_names import ZTF_NAME

FILTERS = {1: "g", 2: "r", 3: "i"}
#: ALeRCE's "undefined error" value of sigmapsf_corr and e_mag_corr
SENTINEL_ERROR = 100.0


class AlerceBroker(BHTOMBroker):
    """ZTF alert detections, limits and forced photometry of the ALeRCE object at the target."""

    source = DataSource.ALERCE
    default_url = "https://api.alerce.online"
    match_radius = 1.5 * u.arcsec
    cadence = timedelta(days=1)
    telescope = "Palomar P48"
    instrument = "ZTF"
    verbose_name = "ALeRCE (ZTF alert and forced photometry)"
    citation = "Förster et al. 2021, AJ 161, 242"
    probe = {"name": "ZTF18abbuksn", "ra": 313.7732663, "dec": 39.0980583,
             "survey_names": {"ZTF name": "ZTF18abbuksn"}}
    located_by = ("name", "cone")
    name_hint = "a ZTF name, e.g. ZTF18abcdefg"

    def locate_by_cone(self, target):
        request = Request("/ztf/v1/objects", params={"ra": f"{target.ra:.7f}", "dec": f"{target.dec:.7f}",
                                                     "radius": f"{self.radius.to_value(u.arcsec):g}", "page": 1,
                                                     "page_size": 20})
        objects = self.ask(request, cone_objects)
        best = nearest_within([o["meanra"] for o in objects], [o["meandec"] for o in objects], target.ra, target.dec,
                              self.radius)
        if best is None:
            raise NoData(self.radius_note("ALeRCE ZTF object"))
        return Located(target, objects[best]["oid"])

    def query(self, located):
        # a 404 is ALeRCE's "no such object": no light curve, or no forced photometry of it
        requests = [Request(f"/ztf/v1/objects/{located.identifier}/lightcurve",
                            missing_note=f"ALeRCE has no ZTF object {located.identifier}")]
        if self.setting("forced_photometry", True):
            requests.append(Request(f"/v2/lightcurve/forced-photometry/{located.identifier}", missing_body=b"[]"))
        return requests

    def parse(self, payload, target):
        document = read_json(payload, "ALeRCE answer", kind=object)
        if isinstance(document, list):
            return self.forced(document)
        if not isinstance(document, dict) or not isinstance(document.get("detections"), list) \
                or not isinstance(document.get("non_detections"), list):
            raise BrokerParseError("the ALeRCE light curve has no 'detections' and 'non_detections' lists")
        parts = [self.detections(rows_frame(document["detections"], "detection")),
                 self.limits(rows_frame(document["non_detections"], "non-detection"))]
        lightcurve = Lightcurve.concat(parts, extras=EXTRAS)
        if not len(lightcurve):
            lightcurve.note = "ALeRCE has no ZTF detection or limit of this object"
        return lightcurve

    def detections(self, rows):
        if rows.empty:
            return Lightcurve.empty()
        magnitude_kind, mag, error = total_or_difference(rows, "magpsf_corr", "sigmapsf_corr", "sigmapsf_corr_ext",
                                                         "magpsf", "sigmapsf")
        negative = (numbers(rows, "isdiffpos") < 0) & (magnitude_kind == "difference")
        magnitude_kind = np.where(negative, "limit", magnitude_kind)
        return self.points(rows, "detection", np.where(negative, np.nan, mag), np.where(negative, np.nan, error),
                           np.where(negative, numbers(rows, "diffmaglim"), np.nan), magnitude_kind,
                           dubious=rows["dubious"].fillna(False).astype(bool).to_numpy() if "dubious" in rows
                           else False, candid=rows["candid"].astype(str).to_numpy(dtype=object)
                           if "candid" in rows else "")

    def limits(self, rows):
        if rows.empty:
            return Lightcurve.empty()
        return self.points(rows, "non-detection", np.nan, np.nan, numbers(rows, "diffmaglim"), "limit")

    def forced(self, document):
        if not all(isinstance(row, dict) for row in document):
            raise BrokerParseError("the ALeRCE forced photometry is not a list of rows")
        # the API keeps most fields in "extra_fields"; the client moves them up: read either
        rows = rows_frame([{**row, **(row.get("extra_fields") or {})} for row in document], "forced photometry")
        if rows.empty:
            return no_data("ALeRCE has no forced photometry of this object")
        magnitude_kind, mag, error = total_or_difference(rows, "mag_corr", "e_mag_corr", "e_mag_corr_ext", "mag",
                                                         "e_mag")
        with np.errstate(divide="ignore", invalid="ignore"):
            snr = 2.5 / math.log(10) / numbers(rows, "e_mag")
        measured = np.isfinite(mag) & np.isfinite(error) & (snr >= float(self.setting("limit_snr", 3.0))) \
            & ~((numbers(rows, "isdiffpos") < 0) & (magnitude_kind == "difference"))
        return self.points(rows, "forced", np.where(measured, mag, np.nan), np.where(measured, error, np.nan),
                           np.where(measured, np.nan, numbers(rows, "diffmaglim")),
                           np.where(measured, magnitude_kind, "limit"), extras=EXTRAS)

    def points(self, rows, kind, mag, error, limit, magnitude_kind, extras=None, **columns):
        fid = numbers(rows, "fid")
        unknown = sorted({str(f) for f in fid if f not in FILTERS})
        if unknown:
            raise BrokerParseError(f"unexpected ALeRCE fid value(s) {unknown}")
        return Lightcurve.from_columns(
            mjd=numbers(rows, "mjd"), brightness=mag, brightness_error=error, limit=limit,
            filter=np.array([FILTERS[int(f)] for f in fid], dtype=object), unit="mag", telescope=self.telescope,
            instrument=self.instrument, kind=kind, magnitude_kind=magnitude_kind, extras=extras, **columns)


EXTRAS = {"time_system": "MJD (UTC), exposure start",
          "magnitude_system": "ZTF PSF magnitudes calibrated to PS1: total (the reference flux added) where ALeRCE "
                              "has it, else the difference-image magnitude; magnitude_kind says which"}


def rows_frame(rows, what):
    """ALeRCE rows (JSON objects) as a frame; each must have a time and a filter."""
    if not all(isinstance(row, dict) for row in rows):
        raise BrokerParseError(f"an ALeRCE {what} row is not an object")
    frame = pd.DataFrame(rows)
    missing = [c for c in ("mjd", "fid") if c not in frame] if len(frame) else []
    if missing:
        raise BrokerParseError(f"the ALeRCE {what} rows have no column(s) {missing}")
    return frame


def numbers(rows, name):
    """Floats of one field of the rows; NaN for nulls and where the answer has no such field."""
    return number(column(rows, name))


def total_or_difference(rows, total, total_error, total_error_ext, difference, difference_error):
    """(magnitude_kind, magnitude, error) per row: the total magnitude with its error (the ``_ext`` error where the
    plain one is ALeRCE's sentinel 100), else the difference magnitude."""
    total_mag, plain, ext = numbers(rows, total), numbers(rows, total_error), numbers(rows, total_error_ext)
    plain_ok = np.isfinite(plain) & (plain < SENTINEL_ERROR)
    ext_ok = np.isfinite(ext) & (ext < SENTINEL_ERROR)
    corrected = rows["corrected"].fillna(False).astype(bool).to_numpy() if "corrected" in rows \
        else np.ones(len(rows), dtype=bool)
    use_total = corrected & np.isfinite(total_mag) & (plain_ok | ext_ok)
    kind = np.where(use_total, np.where(plain_ok, "total", "total (ext error)"), "difference").astype(object)
    mag = np.where(use_total, total_mag, numbers(rows, difference))
    error = np.where(use_total, np.where(plain_ok, plain, ext), numbers(rows, difference_error))
    return kind, mag, error


def cone_objects(payload):
    """oid, meanra and meandec of each object of an ALeRCE cone search (the list under ``items``)."""
    items = read_json(payload, "ALeRCE object search").get("items")
    if not isinstance(items, list):
        raise BrokerParseError("the ALeRCE object search has no list under 'items'")
    objects = []
    for item in items:
        if not isinstance(item, dict) or not ZTF_NAME.match(str(item.get("oid", ""))):
            # the oid becomes a request path and the target's ZTF name: nothing but a ZTF name
            raise BrokerParseError(f"an ALeRCE object has no ZTF name as its oid: {str(item)[:60]!r}")
        objects.append({"oid": item["oid"], "meanra": float(item["meanra"]), "meandec": float(item["meandec"])})
    return objects
