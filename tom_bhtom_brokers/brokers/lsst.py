"""Rubin Observatory LSST alert photometry, from the Fink broker's LSST API (or, as a second route, ANTARES).

Archive: Fink's LSST REST API (``https://api.lsst.fink-portal.org/api/v1/``; the ZTF API is another host). Every
endpoint takes GET with its arguments as query parameters (the server handles such a GET as the POST of the same
JSON); no authentication. Cite Möller et al. 2021, MNRAS 501, 3272 (Fink) and acknowledge the Rubin Observatory
LSST (Ivezić et al. 2019, ApJ 873, 111).

Finding the object: by the target's "LSST diaObjectId" (a 64-bit integer, kept a string end to end; a comma list
of several is allowed, since the Rubin pipeline splits one star into several diaObjects when alerts come minutes
apart), else ``/api/v1/conesearch`` (radius in arcsec): every diaObjectId within the radius, nearest first, is
read and recorded. The light curve is ``/api/v1/sources`` (the alert ``diaSource`` rows: difference-image
detections) plus ``/api/v1/fp`` (forced photometry, ``diaForcedSource``, at every later visit); only the columns
used are asked for. A forced measurement of a visit and band that has a detection is left out (the detection is
the point; Fink's two tables share ``r:visit``, not ids), and a row withdrawn by Rubin (``r:timeWithdrawnMjdTai``
set) is left out.

Photometry: fluxes in nJy, AB magnitude m = 31.4 - 2.5 log10(f), error 2.5/ln10 df/f. Which flux is the point's
brightness is a choice (``brightness`` in settings): ``"difference"`` (default) the difference-image ``psfFlux``,
each point stored as what it is (``tom_bhtom_brokers.photometry``, ``magnitude_kind`` in the extras): of an object
absent from the template (the science flux exceeds the difference by no more than ``limit_snr`` errors) it is
the object's brightness, a magnitude, and below ``limit_snr`` (3) times its error an upper limit at
``limit_sigma`` (5) times the error; of an object in the template (a star, a host) it is a signed difference
flux in nJy with its error, drawn in the flux panel, never a magnitude or a limit on the star. ``"science"``: the
total ``scienceFlux`` on the science image, as magnitudes, or upper limits below ``limit_snr``. The other flux
is kept in the extras (``other_mag``, and both raw fluxes).
Times: ``r:midpointMjdTai`` is the exposure mid-point in **TAI**; stored as UTC (37 s earlier since 2017),
the TAI value kept as ``mjd_tai``. Bandpasses ``u(LSST)`` ... ``y(LSST)``. Cadence: daily; the forced photometry
is asked only when the sources' answer changed, and at least every ``follow_days`` (7): Fink receives Rubin's data
as alerts only, and an alert carries the object's forced photometry (``prvDiaForcedSources``), so Fink's
``/api/v1/fp`` rows of an object change when a new alert (a new source) arrives.

ANTARES route (``'route': 'antares'``): the LSST rows of the ANTARES locus at the target (found by
``properties.survey.lsst.dia_object_id``, else ANTARES' cone; ANTARES' address is the ANTARES broker's ``url``, or
``antares_url`` in this broker's settings), ``ant_survey == 4`` and ``alert_id`` ``lsst:...``
(ZTF rows are the ANTARES broker's). ANTARES serves magnitudes (``ant_mag`` from ``psfFlux``,
``ant_mag_corrected`` from ``scienceFlux``; ``ant_maglim`` merely repeats ``ant_mag``) and the same TAI times; they
are turned back into nJy and read by the same parse, so both routes store the same kind of point. ANTARES has
no forced photometry.
"""
import re
from datetime import timedelta

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.antares_client import ANTARES_URL, cone_condition, light_curve_rows, listing, read_loci
from tom_bhtom_brokers.brokers.configured import site_url
from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import column, number, read_json
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.exceptions import BrokerInputError, BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve, utc_mjd
from tom_bhtom_brokers.photometry import (MAGNITUDE_TO_FLUX_ERROR, TOTAL, UPPER_LIMIT, ab_flux, ab_magnitude,
                                          classify)
from tom_bhtom_brokers.sky import nearest_within, separations_arcsec
from tom_bhtom_brokers.sources import DataSource

#: AB magnitude of 1 nJy
ZERO_POINT_NJY = 31.4
BANDS = ("u", "g", "r", "i", "z", "y")
COMMON_COLUMNS = ("r:visit", "r:band", "r:midpointMjdTai", "r:psfFlux", "r:psfFluxErr", "r:scienceFlux",
                  "r:scienceFluxErr", "r:timeWithdrawnMjdTai")
#: the id column that tells the two tables apart: (column, what the row is)
KINDS = {"r:diaSourceId": "detection", "r:diaForcedSourceId": "forced"}
REQUIRED = ("r:visit", "r:band", "r:midpointMjdTai", "r:psfFlux", "r:psfFluxErr")
#: the rows' fields read as columns, and the names ``points`` knows them by
FIELDS = {"r:midpointMjdTai": "mjd_tai", "r:band": "band", "r:psfFlux": "psf_flux", "r:psfFluxErr": "psf_flux_error",
          "r:scienceFlux": "science_flux", "r:scienceFluxErr": "science_flux_error",
          "r:timeWithdrawnMjdTai": "withdrawn"}
#: the Fink cone search takes at most 18,000 arcsec
MAX_RADIUS_ARCSEC = 18000.0
DIA_OBJECT_ID = re.compile(r"\d{1,20}")


def object_id(value, what):
    """A 64-bit Rubin id as a string; refuses a float (its digits are already lost) or anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not DIA_OBJECT_ID.fullmatch(str(value)):
        raise BrokerParseError(f"the {what} has an id that is not a whole number: {str(value)[:40]!r}")
    return str(value)


class LsstBroker(BHTOMBroker):
    """Rubin LSST alert detections and forced photometry of the target's diaObject(s)."""

    source = DataSource.LSST
    default_url = "https://api.lsst.fink-portal.org"
    match_radius = 1.5 * u.arcsec
    cadence = timedelta(days=1)
    telescope = "Rubin Observatory Simonyi Survey Telescope"
    instrument = "LSSTCam"
    verbose_name = "Rubin LSST alert photometry (Fink)"
    citation = "Möller et al. 2021, MNRAS 501, 3272"
    probe = {"name": "AT 2026qhm", "ra": 62.4576309, "dec": -48.4814921,
             "survey_names": {"LSST diaObjectId": "170587117485817955"}}
    located_by = ("name", "cone")
    #: the cone search's answer is kept: a daily update asks for the light curve only
    remembers_location = True
    name_hint = "a Rubin diaObjectId"
    default_route = "fink"

    def via(self):
        return AntaresLsstRoute(self) if self.route() == "antares" else self

    def queried_with(self, target):
        # an identifier kept from one route means nothing to the other
        asked = super().queried_with(target)
        return f"{asked} via ANTARES" if asked and self.route() == "antares" else asked

    def locate_by_name(self, target, name):
        return Located(target, ",".join(self.valid_name(name).replace(" ", "").split(",")))

    def locate_by_cone(self, target):
        radius = min(self.radius.to_value(u.arcsec), MAX_RADIUS_ARCSEC)
        request = Request("/api/v1/conesearch", params={
            "ra": f"{target.ra:.7f}", "dec": f"{target.dec:.7f}", "radius": f"{radius:g}",
            "columns": "r:diaObjectId,r:ra,r:dec", "output-format": "json"})
        ids = self.ask(request, lambda payload: objects_within(payload, target, self.radius))
        if not ids:
            raise NoData(self.radius_note("Rubin diaObject"))
        return Located(target, ",".join(ids))

    def query(self, located):
        # Fink's forced photometry comes in the alerts (``prvDiaForcedSources``): it changes when the sources do, so
        # it is asked only then (and weekly: ``follow_days``)
        return [self.light_curve_request("/api/v1/sources", located.identifier, "r:diaSourceId"),
                self.light_curve_request("/api/v1/fp", located.identifier, "r:diaForcedSourceId", follows_change=True)]

    @staticmethod
    def light_curve_request(path, identifier, id_column, follows_change=False):
        return Request(path, params={"diaObjectId": identifier, "columns": ",".join((id_column, *COMMON_COLUMNS)),
                                     "output-format": "json"}, follows_change=follows_change)

    def parse(self, payload, target):
        rows = read_json(payload, "Fink LSST answer", kind=list)
        if not rows:
            return no_data("Fink has no LSST rows for this diaObject")
        if not all(isinstance(row, dict) for row in rows):
            raise BrokerParseError("the Fink LSST answer is not a list of rows")
        id_column = next((column for column in KINDS if column in rows[0]), None)
        missing = [c for c in REQUIRED if c not in rows[0]]
        if id_column is None or missing:
            raise BrokerParseError(f"the Fink LSST answer has no column(s) {missing or list(KINDS)}")
        frame = pd.DataFrame(rows, columns=list(FIELDS)).rename(columns=FIELDS)
        # 64-bit ids as text, each checked: a float column would round them
        frame["visit"] = [object_id(row.get("r:visit"), "Fink LSST answer") for row in rows]
        frame["id"] = [object_id(row.get(id_column), "Fink LSST answer") for row in rows]
        withdrawn = frame["withdrawn"].notna().to_numpy()
        frame = frame[~withdrawn]
        lightcurve = self.points(frame, KINDS[id_column])
        lightcurve.tallies = {"withdrawn": int(withdrawn.sum())}
        return lightcurve

    def points(self, frame, kind):
        """Rows of nJy fluxes (``psf_flux``, ``science_flux`` and their errors, ``mjd_tai``, ``band``, ``visit``,
        ``id``) as points of one kind ("detection", "forced"): either route's rows end here."""
        numbers = {name: pd.to_numeric(frame[name], errors="raise").to_numpy(dtype=float)
                   for name in ("mjd_tai", "psf_flux", "psf_flux_error", "science_flux", "science_flux_error")}
        unknown = sorted(set(frame["band"].astype(str)) - set(BANDS))
        if unknown:
            raise BrokerParseError(f"unexpected LSST band(s) {unknown}")
        chosen, other = ("science", "psf") if self.brightness() == "science" else ("psf", "science")
        limit_snr, limit_sigma = float(self.setting("limit_snr", 3.0)), float(self.setting("limit_sigma", 5.0))
        if chosen == "science":
            mag, error, limit = magnitudes(numbers["science_flux"], numbers["science_flux_error"], limit_snr,
                                           limit_sigma)
            magnitude_kind = np.where(np.isfinite(mag), TOTAL, UPPER_LIMIT).astype(object)
            unit = "mag"
        else:
            magnitude_kind, mag, error, limit, unit = self.difference_points(numbers, limit_snr, limit_sigma)
        other_mag, other_error, _ = magnitudes(numbers[f"{other}_flux"], numbers[f"{other}_flux_error"], 0.0, 1.0)
        return Lightcurve.from_columns(
            mjd=utc_mjd(numbers["mjd_tai"], scale="tai"), brightness=mag, brightness_error=error, limit=limit,
            filter=frame["band"].astype(str).to_numpy(dtype=object), unit=unit, telescope=self.telescope,
            instrument=self.instrument, kind=kind, magnitude_kind=magnitude_kind,
            visit=frame["visit"].to_numpy(dtype=object),
            source_id=frame["id"].to_numpy(dtype=object), mjd_tai=numbers["mjd_tai"],
            psf_flux_njy=numbers["psf_flux"], psf_flux_error_njy=numbers["psf_flux_error"],
            science_flux_njy=numbers["science_flux"], science_flux_error_njy=numbers["science_flux_error"],
            other_mag=other_mag, other_mag_error=other_error,
            extras={"time_system": "MJD (UTC), exposure mid-point (archive: midpointMjdTai, TAI)",
                    "magnitude_system": f"AB, 31.4 - 2.5 log10(flux in nJy); brightness from the {chosen} flux "
                                        f"({'difference image' if chosen == 'psf' else 'science image, total'}: "
                                        "magnitude_kind says what each point is), other_mag from the "
                                        f"{other} flux"})

    @staticmethod
    def difference_points(numbers, limit_snr, limit_sigma):
        """The difference fluxes as what they are (``photometry.classify``): the object is in the template where
        the science image holds more than ``limit_snr`` errors of flux beyond the difference (science - difference
        is the template's flux at the position); there a difference is a signed flux (nJy) and a weak one is no
        limit on the star; elsewhere it is the object's own brightness, and a weak one an upper limit."""
        flux, error = numbers["psf_flux"], numbers["psf_flux_error"]
        with np.errstate(invalid="ignore", divide="ignore"):
            template = numbers["science_flux"] - flux
            in_template = np.isfinite(template) & (template > limit_snr * numbers["science_flux_error"])
            usable_error = np.isfinite(error) & (error > 0)
            detected = usable_error & (np.abs(flux) >= limit_snr * np.where(usable_error, error, 1.0))
            magnitude = ab_magnitude(np.abs(flux), ZERO_POINT_NJY)
            magnitude_error = error / np.abs(flux) / MAGNITUDE_TO_FLUX_ERROR
            limit = np.where(usable_error, ab_magnitude(limit_sigma * error, ZERO_POINT_NJY), np.nan)
        nothing = np.full(len(flux), np.nan)
        return classify(nothing, nothing, magnitude, magnitude_error, flux < 0, limit, detected, in_template,
                        flux_unit="nJy", zero_point=ZERO_POINT_NJY, difference_flux=flux, difference_flux_error=error)

    def brightness(self):
        value = str(self.setting("brightness", "difference")).lower()
        if value not in ("difference", "science"):
            raise BrokerInputError(f"LSST 'brightness' must be 'difference' or 'science', not {value!r}")
        return value

    def combine(self, parts):
        """Detections and forced photometry as one light curve: a forced measurement of a visit and band that
        has a detection is left out (counted)."""
        whole = super().combine(parts)
        frame = whole.frame
        if not len(frame):
            return whole
        detected = frame["kind"] == "detection"
        seen = set(zip(frame.loc[detected, "visit"], frame.loc[detected, "filter"]))
        repeat = (~detected) & np.array([key in seen for key in zip(frame["visit"], frame["filter"])])
        combined = whole.with_frame(frame[~repeat])
        combined.tallies["forced at a detected visit"] = int(repeat.sum())
        return combined

    tally_notes = {"withdrawn": "{n} row(s) withdrawn by Rubin left out",
                   "forced at a detected visit": "{n} forced measurement(s) of visits with a detection left out"}


def magnitudes(flux, error, limit_snr, limit_sigma):
    """(magnitude, error, upper limit) of nJy fluxes: a magnitude where the flux is at least ``limit_snr`` times
    its error (and positive), else a limit at ``limit_sigma`` times the error (none without a usable error)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        usable_error = np.isfinite(error) & (error > 0)
        measured = np.isfinite(flux) & (flux > 0) & usable_error & (flux >= limit_snr * error)
        magnitude = np.where(measured, ab_magnitude(flux, ZERO_POINT_NJY), np.nan)
        magnitude_error = np.where(measured, error / np.where(measured, flux, 1.0) / MAGNITUDE_TO_FLUX_ERROR, np.nan)
        limit = np.where(~measured & usable_error, ab_magnitude(limit_sigma * error, ZERO_POINT_NJY), np.nan)
    return magnitude, magnitude_error, limit


def objects_within(payload, target, radius):
    """The diaObjectIds of a Fink cone search's rows within ``radius`` of the target, nearest first."""
    rows = read_json(payload, "Fink LSST cone search", kind=list)
    if not all(isinstance(row, dict) and {"r:diaObjectId", "r:ra", "r:dec"} <= set(row) for row in rows):
        raise BrokerParseError("a row of the Fink LSST cone search has no r:diaObjectId, r:ra or r:dec")
    if not rows:
        return []
    ids = [object_id(row["r:diaObjectId"], "Fink LSST cone search") for row in rows]
    separation = separations_arcsec([float(row["r:ra"]) for row in rows], [float(row["r:dec"]) for row in rows],
                                    target.ra, target.dec)
    order = np.argsort(separation, kind="stable")
    return list(dict.fromkeys(ids[i] for i in order if separation[i] <= radius.to_value(u.arcsec)))


class AntaresLsstRoute:
    """The LSST broker's chain through ANTARES: the locus of the target's diaObject, its LSST rows."""

    def __init__(self, broker):
        self.broker = broker
        # ANTARES' address as the site configured it for the ANTARES broker, unless this broker names another
        self.antares_url = str(broker.setting("antares_url") or site_url("ANTARES", ANTARES_URL)).rstrip("/")

    def locate(self, target):
        broker = self.broker
        by_name = broker.locating_by(target) == "name"
        if by_name:
            ids = broker.locate_by_name(target, broker.survey_name(target)).identifier.split(",")
            condition = {"terms": {"properties.survey.lsst.dia_object_id": ids}}
        else:
            condition = cone_condition(target, broker.radius)
        loci = [dict(locus, lsst_ids=lsst_ids(locus["properties"]))
                for locus in broker.ask(self.on_antares(listing(condition)), read_loci)]
        loci = [locus for locus in loci if locus["lsst_ids"]]
        best = 0 if by_name and loci else nearest_within([x["ra"] for x in loci], [x["dec"] for x in loci],
                                                         target.ra, target.dec, broker.radius)
        if best is None:
            raise NoData("ANTARES has no locus with LSST alerts " + (
                "for this diaObjectId" if by_name else f"within {broker.radius.to_value(u.arcsec):g} arcsec"))
        return Located(target, loci[best]["locus_id"], matched=",".join(loci[best]["lsst_ids"]))

    def query(self, located):
        return [self.on_antares(Request(f"/v2/loci/{located.identifier}"))]

    def on_antares(self, request):
        request.base_url = self.antares_url
        return request

    def send(self, req):
        return self.broker.send(req)

    def parse(self, payload, target):
        locus = read_json(payload, "ANTARES locus").get("data")
        if not isinstance(locus, dict) or "lightcurve" not in locus:
            raise BrokerParseError("the ANTARES locus has no 'lightcurve'")
        rows = light_curve_rows(locus["lightcurve"])
        missing = [c for c in ("alert_id", "ant_mjd", "ant_survey", "ant_passband", "ant_mag", "ant_magerr")
                   if c not in rows.columns]
        if missing:
            raise BrokerParseError(f"the ANTARES light curve has no column(s) {missing}")
        lsst = rows["alert_id"].astype(str).str.startswith("lsst:") & (pd.to_numeric(rows["ant_survey"]) == 4)
        rows = rows[lsst]
        if rows.empty:
            return no_data("the ANTARES locus has no LSST alert photometry")
        difference, science = fluxes(rows["ant_mag"], rows["ant_magerr"]), \
            fluxes(column(rows, "ant_mag_corrected"), column(rows, "ant_magerr_corrected"))
        frame = pd.DataFrame({
            "mjd_tai": rows["ant_mjd"].to_numpy(), "band": rows["ant_passband"].astype(str).str.lower().to_numpy(),
            "psf_flux": difference[0], "psf_flux_error": difference[1],
            "science_flux": science[0], "science_flux_error": science[1],
            "visit": "", "id": rows["alert_id"].astype(str).str.removeprefix("lsst:").to_numpy()})
        lightcurve = self.broker.points(frame, "detection")
        lightcurve.matched_identifier = ",".join(lsst_ids(locus.get("properties") or {}))
        lightcurve.extras["route"] = "ANTARES"
        lightcurve.extras["locus_id"] = str(locus.get("locus_id") or "")
        return lightcurve


def lsst_ids(properties):
    """The Rubin diaObjectIds a locus' properties list (``survey.lsst.dia_object_id``: a list of strings)."""
    survey = properties.get("survey") if isinstance(properties, dict) else None
    ids = ((survey or {}).get("lsst") or {}).get("dia_object_id") if isinstance(survey, dict) else None
    ids = ids if isinstance(ids, list) else [ids] if ids is not None else []
    return [object_id(value, "ANTARES locus") for value in ids]


def fluxes(mag, mag_error):
    """(flux, error) in nJy of AB magnitudes, the inverse of ``magnitudes``."""
    mag, mag_error = number(mag), number(mag_error)
    flux = ab_flux(mag, ZERO_POINT_NJY)
    return flux, flux * mag_error * MAGNITUDE_TO_FLUX_ERROR
