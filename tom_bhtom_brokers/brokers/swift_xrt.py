"""Swift-XRT (LSXPS, the Living Swift-XRT Point Source catalogue of the UK Swift Science Data Centre): the 0.3-10 keV
X-ray light curve of the catalogued source nearest to the target, one bin per Swift observation since 2005.

Archive: UKSSDC's API through its maintained client ``swifttools`` (``transports/ukssdc.py``; an optional extra,
``pip install 'tom-bhtom-brokers[swift]'``; without it the archive is "not configured", said with the pip line),
keyless: the LSXPS sources within 10 arcsec (XRT's 90 % position errors are a few arcsec), the nearest chosen, then
its light curve (``getLightCurves``, observation binning, times in MJD). Cite Evans et al. 2023, MNRAS 518, 174
(LSXPS), and the UKSSDC.

What a number is: the total band's count rate (``Total_rates``: ``Rate`` with its 1-sigma ``RatePos``/``RateNeg``,
the mean of the two as the error) and 3-sigma upper limits (``Total_UL``: ``UpperLimit``), converted to the observed
0.3-10 keV energy flux with the source's own conversion factor for the catalogue's fixed power-law spectrum
(``FixedPowECFO``, erg cm^-2 s^-1 per count s^-1): stored in ``erg/(cm2 s)`` and drawn in the flux panel with that
unit, the count rate and the factor kept in the extras. A source without a factor keeps its count rates
(``ct/s``). Bandpass ``0.3-10keV(Swift-XRT)``. Times: ``Time`` is the bin's centre in MJD as UKSSDC's light curves
give it (converted by UKSSDC from Swift's clock, taken as UTC), the bin's half-width in the extras. New observations
are added as Swift makes them: read again weekly.
"""
from datetime import timedelta

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import nearest_row, read_csv
from tom_bhtom_brokers.exceptions import BrokerNotConfigured, BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve, no_data
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.transports.http import Response
from tom_bhtom_brokers.transports.third_party import call_within
from tom_bhtom_brokers.transports.ukssdc import LsxpsClient, swifttools_installed

LIGHT_CURVE_PATH = "/API/lsxps/source/"
BAND = "0.3-10keV"
FLUX_UNIT = "erg/(cm2 s)"
#: the datasets of a light-curve dict the broker reads, and what each row is
DATASETS = {"Total_rates": "rate", "Total_UL": "upper limit"}


def upper_limits_named(frame):
    """An upper-limit dataset with its limits under ``UpperLimit``: the API sends them as ``Rate``, and swifttools
    renames the column only when called with ``silent=False`` (4.0.3 passes ``silent`` as its ``oldCols``)."""
    if "UpperLimit" not in frame.columns and "Rate" in frame.columns:
        return frame.rename(columns={"Rate": "UpperLimit"})
    return frame


class SwiftXrtBroker(BHTOMBroker):
    """LSXPS 0.3-10 keV light curve of the X-ray source nearest to the target, as energy fluxes."""

    source = DataSource.SWIFT_XRT
    default_url = "https://www.swift.ac.uk"
    match_radius = 10 * u.arcsec
    cadence = timedelta(days=7)
    telescope = "Swift"
    instrument = "XRT"
    verbose_name = "Swift-XRT (LSXPS, UKSSDC)"
    citation = "Evans et al. 2023, MNRAS 518, 174"
    probe = {"name": "LSXPS J062131.8-622213", "ra": 95.38250, "dec": -62.37028}
    tally_notes = {"no measurement": "{n} Swift-XRT bin(s) without a rate or limit left out"}

    @classmethod
    def check_configured(cls):
        super().check_configured()
        if not swifttools_installed():
            raise BrokerNotConfigured("Swift-XRT needs the swifttools client: pip install 'tom-bhtom-brokers[swift]'")

    def client(self):
        if getattr(self, "_client", None) is None:
            self._client = LsxpsClient(self.base_url, self.http)
        return self._client

    def asking(self, call):
        return call_within(call, self.http.deadline, "UKSSDC's API", f"{self.base_url}/API/main.php")

    def locate_by_cone(self, target):
        self.require_position(target)
        client, radius = self.client(), self.radius.to_value(u.arcsec)
        sources = self.asking(lambda: client.cone(target.ra, target.dec, radius))
        if sources is None or len(sources) == 0:
            raise NoData(self.radius_note("LSXPS source"))
        missing = [name for name in ("LSXPS_ID", "RA", "Decl") if name not in sources.columns]
        if missing:
            raise BrokerParseError(f"the LSXPS cone answer has no column(s) {missing}")
        nearest, note = nearest_row(sources["RA"].to_numpy(dtype=float), sources["Decl"].to_numpy(dtype=float),
                                    target)
        source = sources.iloc[nearest]
        try:
            source_id = int(source["LSXPS_ID"])  # goes into the next call: an integer, nothing else
        except (TypeError, ValueError):
            raise BrokerParseError("the LSXPS cone answer has a source without an integer LSXPS_ID") from None
        ecf = pd.to_numeric(pd.Series([source.get("FixedPowECFO")]), errors="coerce").iloc[0]
        name = str(source.get("IAUName") or "").strip()
        return Located(target, f"{source_id}:{ecf:.6e}", matched=name or str(source_id), note=note)

    def query(self, located):
        source_id, ecf = located.identifier.split(":")
        return [Request(f"{LIGHT_CURVE_PATH}{int(source_id)}", params={"ecf": ecf})]

    def send(self, req):
        """The client's light-curve dict of one source, as CSV bytes (so the answer is fingerprinted, checked and
        parsed like any other): one row per bin of the datasets read, its kind, and the source's flux factor."""
        client, source_id = self.client(), int(req.path.rsplit("/", 1)[1])
        curves = self.asking(lambda: client.light_curve(source_id))
        if not isinstance(curves, dict) or not isinstance(curves.get("Datasets"), list):
            raise BrokerParseError(f"UKSSDC's answer for LSXPS source {source_id} is not a light-curve dict")
        frames = [upper_limits_named(curves[name]).assign(kind=kind) if kind == "upper limit"
                  else curves[name].assign(kind=kind) for name, kind in DATASETS.items()
                  if name in curves["Datasets"] and isinstance(curves.get(name), pd.DataFrame)]
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["Time", "kind"])
        table["ecf"] = req.params["ecf"]
        table["time_format"] = str(curves.get("TimeFormat", ""))
        return Response(f"{self.base_url}{req.path}", 200, {}, table.to_csv(index=False).encode())

    def parse(self, payload, target):
        rows = read_csv(payload, ("Time", "kind", "ecf", "time_format"), "Swift-XRT light curve")
        if rows.empty:
            return no_data("the LSXPS source has no light-curve bins")
        if set(rows["time_format"]) != {"MJD"}:
            raise BrokerParseError(f"the Swift-XRT light curve's times are {sorted(set(rows['time_format']))}, not MJD")
        number = {name: pd.to_numeric(rows.get(name, pd.Series("", index=rows.index)).replace({"": None}),
                                      errors="coerce").to_numpy(dtype=float)
                  for name in ("Time", "TimePos", "Rate", "RatePos", "RateNeg", "UpperLimit", "ecf")}
        rate, limit, ecf = number["Rate"], number["UpperLimit"], number["ecf"]
        is_rate = (rows["kind"] == "rate").to_numpy()
        error = (np.abs(number["RatePos"]) + np.abs(number["RateNeg"])) / 2
        with np.errstate(invalid="ignore"):
            usable = np.isfinite(number["Time"]) & np.where(is_rate, np.isfinite(rate) & (error > 0),
                                                             np.isfinite(limit) & (limit > 0))
        scale = np.where(np.isfinite(ecf) & (ecf > 0), ecf, 1.0)
        unit = FLUX_UNIT if np.isfinite(ecf[0]) and ecf[0] > 0 else "ct/s"
        lightcurve = Lightcurve.from_columns(
            mjd=number["Time"][usable], brightness=np.where(is_rate, rate * scale, np.nan)[usable],
            brightness_error=np.where(is_rate, error * scale, np.nan)[usable],
            limit=np.where(is_rate, np.nan, limit * scale)[usable], filter=BAND, unit=unit, telescope=self.telescope,
            instrument=self.instrument, count_rate=np.where(is_rate, rate, limit)[usable],
            half_width_days=number["TimePos"][usable], flux_conversion=ecf[usable],
            extras={"time_system": "MJD (UTC), the bin's centre (UKSSDC's light curve, observation bins)",
                    "flux_system": "observed 0.3-10 keV flux: count rate x FixedPowECFO (LSXPS)"})
        lightcurve.tallies = {"no measurement": int((~usable).sum())}
        return lightcurve
