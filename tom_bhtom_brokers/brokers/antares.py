"""ANTARES (NSF NOIRLab's alert broker): the ZTF alert photometry of a locus.

Archive: the ANTARES REST API v2 (``https://api.antares.noirlab.edu/v2/``, the version antares-client 2.x
uses; no authentication). A *locus* is a position on the sky that received alerts; its ``lightcurve`` holds
every ZTF alert detection and the upper limits carried in the alerts' history. Cite Matheson et al. 2021,
AJ 161, 107 and acknowledge ZTF (Bellm et al. 2019, PASP 131, 018002).

Finding the locus: by the target's "ZTF name" when set (an Elasticsearch ``term`` on
``properties.ztf_object_id``), otherwise a cone (1.5 arcsec by default; the API refuses 1 degree or more) with
ANTARES' own ``sky_distance`` filter, exactly as antares-client 2.x's ``cone_search`` builds it
(``{"radius": "<deg> degree", "location": "<hms dms>"}``). Both go to ``GET /v2/loci``; the nearest locus is read with
``GET /v2/loci/<locus_id>``. The ZTF name found is recorded in the target's "ZTF name", and the locus id in the
pair's status row: the next update reads the locus directly (one request), unless the name or position changed,
the last answer was not ok, the update is forced, or ANTARES no longer has the locus (404: searched again).

Format: JSON (``{"data": ...}``); the locus' ``lightcurve`` is a CSV text inside the JSON (older answers
and tom_antares hold a list of row objects: both are read). Rows with ``ant_survey == 1`` are detections
(``ant_mag``, ``ant_magerr``: ZTF ``magpsf``, a difference-image PSF magnitude calibrated to PS1, not the
total flux of the source), rows with ``ant_survey == 2`` are upper limits (``ant_maglim``, empty magnitude).
Each point is stored as what it is (``tom_bhtom_brokers.photometry``, ``magnitude_kind`` in the extras): where
an alert has the DC-corrected total magnitude ``ant_mag_corrected`` (a reference counterpart exists), that and
``ant_magerr_corrected`` are the stored brightness, as BHTOM did (and ALeRCE does with ``magpsf_corr``), with the
difference magnitude kept in the extras. In a band where some alert was corrected the object is a reference
source: an uncorrected detection there is a difference flux (µJy) and a limit only bounds the change of its flux
(a flux limit); in a band without one, a detection is the object's total brightness (an object absent from the
reference; ANTARES' rows do not say the difference's sign, which is then taken as positive) and a limit is an
upper limit on it.
ZTF passbands ``g``/``R``/``i`` become ``g``/``r``/``i``. Alerts from other surveys in the same locus (LSST,
``alert_id`` not starting with ``ztf_``) are left out and counted in the status line, and an exposure that
reached ANTARES in several alerts (same time and band) is stored once. Times: ``ant_mjd`` is the
UTC MJD of the exposure start, stored as it is (as the ZTF data-release broker does). Cadence: daily.
"""
from datetime import timedelta

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.antares_client import (ANTARES_URL, REQUIRED, cone_condition, light_curve_rows, listing,
                                                      read_loci)
from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import column, number, read_json
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.photometry import TOTAL, classify
from tom_bhtom_brokers.sky import nearest_within
from tom_bhtom_brokers.sources import DataSource

PASSBANDS = {"g": "g", "R": "r", "r": "r", "i": "i"}
DETECTION, UPPER_LIMIT = 1, 2


class AntaresBroker(BHTOMBroker):
    """ZTF alert detections and upper limits of the ANTARES locus at the target."""

    source = DataSource.ANTARES
    default_url = ANTARES_URL
    match_radius = 1.5 * u.arcsec
    cadence = timedelta(days=1)
    telescope = "ZTF"
    instrument = "ZTF camera (alert stream)"
    verbose_name = "ANTARES (ZTF alert photometry)"
    citation = "Matheson et al. 2021, AJ 161, 107"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}
    max_answer_bytes = 32 * 1024 * 1024

    located_by = ("name", "cone")
    #: the locus id found is kept: a daily update is then one request (the locus), not two
    remembers_location = True

    def locate_by_name(self, target, name):
        self.valid_name(name)
        condition = {"term": {"properties.ztf_object_id": name}}
        loci = self.ask(listing(condition), read_loci)
        locus = next((locus for locus in loci if locus["ztf_object_id"] == name), None)
        if locus is None:
            raise NoData(f"ANTARES has no locus for {name}")
        return Located(target, locus["locus_id"], matched=locus["ztf_object_id"])

    def locate_by_cone(self, target):
        loci = self.ask(listing(cone_condition(target, self.radius)), read_loci)
        best = nearest_within([x["ra"] for x in loci], [x["dec"] for x in loci], target.ra, target.dec, self.radius)
        if best is None:
            raise NoData(self.radius_note("ANTARES locus"))
        return Located(target, loci[best]["locus_id"], matched=loci[best]["ztf_object_id"])

    def query(self, located):
        return [Request(f"/v2/loci/{located.identifier}")]

    def parse(self, payload, target):
        locus = read_json(payload, "ANTARES locus").get("data")
        if not isinstance(locus, dict) or "lightcurve" not in locus:
            raise BrokerParseError("the ANTARES locus has no 'lightcurve'")
        rows, other_surveys, repeats = ztf_alert_rows(light_curve_rows(locus["lightcurve"]))
        if rows.empty:
            return no_data("the ANTARES locus has no ZTF alert photometry")
        detected = rows["_detection"].to_numpy()
        total, total_error = number(column(rows, "ant_mag_corrected")), number(column(rows, "ant_magerr_corrected"))
        band = rows["ant_passband"].astype(str).map(PASSBANDS).to_numpy(dtype=object)
        # a DC-corrected alert has a reference counterpart: in its band, the object is a reference source
        corrected = detected & np.isfinite(total)
        in_reference = np.isin(band, list(set(band[corrected])))
        magnitude_kind, brightness, error, limit, unit = classify(
            np.where(detected, total, np.nan), np.where(detected, total_error, np.nan),
            np.where(detected, number(rows["ant_mag"]), np.nan), np.where(detected, number(rows["ant_magerr"]), np.nan),
            np.zeros(len(rows), dtype=bool), number(rows["ant_maglim"]), detected, in_reference)
        properties = locus.get("properties") or locus.get("internal_properties") or {}
        lightcurve = Lightcurve.from_columns(
            mjd=number(rows["ant_mjd"]), brightness=brightness, brightness_error=error, limit=limit,
            filter=band, unit=unit, telescope=self.telescope, magnitude_kind=magnitude_kind,
            alert_id=rows["alert_id"].astype(str).to_numpy(dtype=object),
            difference_mag=np.where(magnitude_kind == TOTAL, number(rows["ant_mag"]), np.nan),
            difference_mag_error=np.where(magnitude_kind == TOTAL, number(rows["ant_magerr"]), np.nan),
            matched_identifier=str(properties.get("ztf_object_id") or ""),
            extras={"locus_id": str(locus.get("locus_id") or locus.get("id") or ""),
                    "time_system": "MJD (UTC), exposure start",
                    "magnitude_system": "ZTF PSF magnitudes calibrated to PS1 (AB): total (ant_mag_corrected, "
                                        "DC-corrected with the reference flux), or the difference (ant_mag) as a flux "
                                        "in uJy (AB zero point 23.9); magnitude_kind says which"})
        # what the answer left out is the answer's, not the points': it goes to the status line
        lightcurve.tallies = {"other survey alerts": other_surveys, "repeated alert rows": repeats}
        return lightcurve

    tally_notes = {"other survey alerts": "{n} alert(s) of other surveys left out",
                   "repeated alert rows": "{n} repeated alert row(s) left out"}


def ztf_alert_rows(rows):
    """(the ZTF alert rows, one per (time, band), the number of other surveys' rows, the repeats dropped).
    One exposure can reach ANTARES in several alerts (and as a limit in a later alert's history): one point per
    (time, band) is kept, a detection before a limit, a total magnitude before a difference one."""
    missing = [c for c in REQUIRED if c not in rows.columns]
    if missing:
        raise BrokerParseError(f"the ANTARES light curve has no column(s) {missing}")
    ztf = rows["alert_id"].astype(str).str.startswith("ztf_")
    other_surveys, rows = int((~ztf).sum()), rows[ztf]
    survey = pd.to_numeric(rows["ant_survey"], errors="raise").to_numpy()
    unknown = sorted(set(rows["ant_passband"].astype(str)) - set(PASSBANDS))
    if unknown or not np.isin(survey, (DETECTION, UPPER_LIMIT)).all():
        raise BrokerParseError(f"unexpected ANTARES passband(s) {unknown} or ant_survey values "
                               f"{sorted(set(survey) - {DETECTION, UPPER_LIMIT})}")
    rows = rows.assign(_detection=survey == DETECTION, _total=np.isfinite(number(column(rows, "ant_mag_corrected"))))
    kept = rows.sort_values(["_detection", "_total"], ascending=False, kind="stable") \
        .drop_duplicates(subset=["ant_mjd", "ant_passband"]).sort_index()
    return kept, other_surveys, len(rows) - len(kept)
