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

Photometry (``fid`` 1/2/3 = g/r/i; ``mjd`` is the UTC exposure start, stored as it is). Each point is stored as
what it is (``tom_bhtom_brokers.photometry``; ``magnitude_kind`` in the extras), decided from ALeRCE's own fields:
whether the object is a source of the reference image (``corrected``: ``distnr`` < 1.4 arcsec; for a
non-detection, whether a detection of that band was corrected) and whether a total magnitude exists.
- detections: the total magnitude ``magpsf_corr`` (the difference flux plus the reference's) with a usable error —
  ``sigmapsf_corr``, or, where that holds ALeRCE's sentinel ``100`` (an undefined error), ``sigmapsf_corr_ext``;
  without one, the difference ``magpsf`` of an object absent from the reference is its total brightness, and any
  other difference (of a reference source, or negative) is a signed difference flux in µJy.
- non-detections (``diffmaglim``): an upper limit on the brightness where the object has no reference source in
  that band; where it has one, a limit on the change of its flux (µJy), never a limit on its magnitude.
- forced photometry (``kind: forced`` in the extras, drawn open in the plot): the total ``mag_corr`` (errors as
  above) of a reference source at any signal-to-noise; else the difference ``mag``/``e_mag`` as for detections
  when the signal-to-noise (1.0857 / ``e_mag``) is at least ``limit_snr`` (3), below it an upper limit
  ``diffmaglim`` (no reference source) or the difference flux with its error (a reference source). The rows' own
  fields may sit in an ``extra_fields`` object (the API) or beside the others (the client's flattened rows).
Cadence: daily. The forced photometry is asked only when the light curve's answer changed, and at least every
``follow_days`` (7): ALeRCE reads it from the ZTF alert packets (``fp_hists``, forced photometry on the past
difference images, since alert schema 4.x), so it changes when a new alert, a new detection, arrives; an unchanged
object costs one request a day, not two.
"""
import math
from datetime import timedelta

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import column, number, read_json
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.photometry import classify
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
            # ALeRCE's ZTF forced photometry comes in the alerts (``fp_hists``): it changes when the light curve
            # does, so it is asked only then (and weekly: ``follow_days``)
            requests.append(Request(f"/v2/lightcurve/forced-photometry/{located.identifier}", missing_body=b"[]",
                                    follows_change=True))
        return requests

    def parse(self, payload, target):
        document = read_json(payload, "ALeRCE answer", kind=object)
        if isinstance(document, list):
            return self.forced(document)
        if not isinstance(document, dict) or not isinstance(document.get("detections"), list) \
                or not isinstance(document.get("non_detections"), list):
            raise BrokerParseError("the ALeRCE light curve has no 'detections' and 'non_detections' lists")
        detections = rows_frame(document["detections"], "detection")
        bands_in_reference = set(numbers(detections, "fid")[reference_source(detections)]) if len(detections) \
            else set()
        parts = [self.detections(detections),
                 self.limits(rows_frame(document["non_detections"], "non-detection"), bands_in_reference)]
        lightcurve = Lightcurve.concat(parts, extras=EXTRAS)
        if not len(lightcurve):
            lightcurve.note = "ALeRCE has no ZTF detection or limit of this object"
        return lightcurve

    def detections(self, rows):
        if rows.empty:
            return Lightcurve.empty()
        return self.points(rows, "detection", detected=np.ones(len(rows), dtype=bool),
                           dubious=rows["dubious"].fillna(False).astype(bool).to_numpy() if "dubious" in rows
                           else False, candid=rows["candid"].astype(str).to_numpy(dtype=object)
                           if "candid" in rows else "")

    def limits(self, rows, bands_in_reference):
        """Non-detections: a limit on the total brightness in a band where the object has no reference source,
        a limit on the change where it has one (a detection of that band was corrected)."""
        if rows.empty:
            return Lightcurve.empty()
        in_reference = np.isin(numbers(rows, "fid"), list(bands_in_reference))
        return self.points(rows, "non-detection", detected=np.zeros(len(rows), dtype=bool),
                           in_reference=in_reference)

    def forced(self, document):
        if not all(isinstance(row, dict) for row in document):
            raise BrokerParseError("the ALeRCE forced photometry is not a list of rows")
        # the API keeps most fields in "extra_fields"; the client moves them up: read either
        rows = rows_frame([{**row, **(row.get("extra_fields") or {})} for row in document], "forced photometry")
        if rows.empty:
            return no_data("ALeRCE has no forced photometry of this object")
        with np.errstate(divide="ignore", invalid="ignore"):
            snr = 2.5 / math.log(10) / numbers(rows, "e_mag")
        detected = np.isfinite(numbers(rows, "mag")) & (snr >= float(self.setting("limit_snr", 3.0)))
        return self.points(rows, "forced", detected=detected, extras=EXTRAS)

    def points(self, rows, kind, detected, in_reference=None, extras=None, **columns):
        """The rows as points of one kind ("detection", "non-detection", "forced"), each stored as what it is
        (``photometry.classify``): detections and forced rows carry the magnitude fields of their own kind."""
        fid = numbers(rows, "fid")
        unknown = sorted({str(f) for f in fid if f not in FILTERS})
        if unknown:
            raise BrokerParseError(f"unexpected ALeRCE fid value(s) {unknown}")
        names = FORCED_FIELDS if kind == "forced" else DETECTION_FIELDS
        if in_reference is None:
            in_reference = reference_source(rows)
        total, total_error = total_magnitude(rows, in_reference, *names[:3])
        magnitude_kind, brightness, error, limit, unit = classify(
            total, total_error, numbers(rows, names[3]), numbers(rows, names[4]), numbers(rows, "isdiffpos") < 0,
            numbers(rows, "diffmaglim"), detected, in_reference)
        return Lightcurve.from_columns(
            mjd=numbers(rows, "mjd"), brightness=brightness, brightness_error=error, limit=limit,
            filter=np.array([FILTERS[int(f)] for f in fid], dtype=object), unit=unit, telescope=self.telescope,
            instrument=self.instrument, kind=kind, magnitude_kind=magnitude_kind, extras=extras, **columns)


EXTRAS = {"time_system": "MJD (UTC), exposure start",
          "magnitude_system": "ZTF PSF magnitudes calibrated to PS1 (AB): total (the reference flux added), or the "
                              "difference as a flux in uJy (AB zero point 23.9); magnitude_kind says which"}


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


#: (total, its error, its error where the first is the sentinel, difference, its error) of each kind of row
DETECTION_FIELDS = ("magpsf_corr", "sigmapsf_corr", "sigmapsf_corr_ext", "magpsf", "sigmapsf")
FORCED_FIELDS = ("mag_corr", "e_mag_corr", "e_mag_corr_ext", "mag", "e_mag")
#: ZTF's (and ALeRCE's) distance within which the nearest reference source is the object itself
REFERENCE_DISTANCE_ARCSEC = 1.4


def reference_source(rows):
    """Whether each row's object is a source of the reference image: ALeRCE's ``corrected`` (its own rule,
    distnr < 1.4 arcsec), else that rule on ``distnr``."""
    if "corrected" in rows:
        return rows["corrected"].fillna(False).astype(bool).to_numpy()
    with np.errstate(invalid="ignore"):
        return numbers(rows, "distnr") < REFERENCE_DISTANCE_ARCSEC


def total_magnitude(rows, in_reference, total, total_error, total_error_ext):
    """(total magnitude, error) per row of a reference source, NaN where ALeRCE has none: the ``_ext`` error where
    the plain one is ALeRCE's sentinel 100."""
    total_mag, plain, ext = numbers(rows, total), numbers(rows, total_error), numbers(rows, total_error_ext)
    plain_ok = np.isfinite(plain) & (plain < SENTINEL_ERROR)
    ext_ok = np.isfinite(ext) & (ext < SENTINEL_ERROR)
    usable = in_reference & np.isfinite(total_mag) & (plain_ok | ext_ok)
    return np.where(usable, total_mag, np.nan), np.where(usable, np.where(plain_ok, plain, ext), np.nan)


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
