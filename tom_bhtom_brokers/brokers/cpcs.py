"""CPCS: the Cambridge Photometric Calibration Server's archive of calibrated follow-up photometry.

Archive: ``<url>/followup/get_alert_lc_data?alert_name=ivo://<name>`` (https://gsaweb.ast.cam.ac.uk by
default; BHTOM2 serves a compatible endpoint). Follow-up observers' images of Gaia (and other) alerts,
calibrated against a reference catalogue. Cite Zieliński et al. 2019 (arXiv:1910.14476) and
Zieliński et al. 2020 (arXiv:2010.14439, BHTOM/CPCS); acknowledge the observers and the calibration
catalogue of each point.

Access needs the site's CPCS access key (the user "hashtag") in ``DATA_SERVICES['CPCS']['access_key']``;
without it the source is *not configured*, not an error. The key is sent as the ``hashtag`` cookie, as
BHTOM did, so it is in no URL we show, log or store; newer servers echo uploaders' hashtags in every
point (``hashtag``): those fields are never stored, and any occurrence of our key in a response or an
error message is replaced before anything is kept.

Format: one JSON object of parallel arrays. ``magerr == -1`` marks a non-detection whose ``mag`` is the
limit; otherwise the error is ``sqrt(magerr**2 + caliberr**2)`` (the calibration error in quadrature).
``filter`` and the reference ``catalog`` are kept (the pair defines the photometric system),
``observatory`` becomes the datum's telescope (it can be cut at 20 characters; ``observatory_id`` is
kept where the server gives it). ``mjd`` is taken as UTC, as BHTOM did (the server does not say).
Cadence: none (an archive; read again on ``--force`` or when the name changes).
"""
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.reading import read_json
from tom_bhtom_brokers.fetching import no_data
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource

REQUIRED = ("mjd", "mag", "magerr", "caliberr", "filter")
NO_ERROR = -1.0


class CpcsBroker(BHTOMBroker):
    """CPCS calibrated follow-up photometry of one alert, by its ivo:// name."""

    source = DataSource.CPCS
    # https: the same host serves the Gaia Alerts pages over https, and the key travels as a cookie
    default_url = "https://gsaweb.ast.cam.ac.uk"
    cadence = None
    telescope = ""
    verbose_name = "Cambridge Photometric Calibration Server (follow-up photometry)"
    citation = "Zielinski et al. 2019, arXiv:1910.14476"
    probe = {"name": "Gaia19dke", "survey_names": {"CPCS name": "ivo://Gaia19dke"}}
    max_answer_bytes = 16 * 1024 * 1024
    required_settings = ("access_key",)

    @property
    def access_key(self):
        return str(self.setting("access_key") or "")

    located_by = ("name",)
    name_hint = "an ivo:// alert name"

    def query(self, located):
        return [Request("/followup/get_alert_lc_data", params={"alert_name": located.identifier},
                        headers={"Cookie": f"hashtag={self.access_key}"})]

    def secrets(self):
        return (self.access_key,)

    def parse(self, payload, target):
        document = read_json(payload, "CPCS answer")
        missing = [c for c in REQUIRED if c not in document]
        if missing:
            raise BrokerParseError(f"the CPCS answer has no {missing}")
        lengths = {len(v) for k, v in document.items() if isinstance(v, list)}
        if len(lengths) > 1:
            raise BrokerParseError(f"the CPCS columns differ in length {sorted(lengths)} (cut short?)")
        frame = pd.DataFrame({k: v for k, v in document.items() if isinstance(v, list) and k != "hashtag"})
        if frame.empty:
            return no_data("CPCS holds no calibrated point for this alert")
        mag = pd.to_numeric(frame["mag"], errors="raise").to_numpy(dtype=float)
        magerr = pd.to_numeric(frame["magerr"], errors="raise").to_numpy(dtype=float)
        caliberr = pd.to_numeric(frame["caliberr"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        is_limit = magerr == NO_ERROR
        # float32 values printed at double precision (0.009999999776482582): 5 decimals are what was measured
        error = np.round(np.hypot(magerr, caliberr), 5)
        return Lightcurve.from_columns(
            mjd=pd.to_numeric(frame["mjd"], errors="raise").to_numpy(dtype=float),
            brightness=np.where(is_limit, np.nan, mag), brightness_error=np.where(is_limit, np.nan, error),
            limit=np.where(is_limit, mag, np.nan),
            filter=frame["filter"].astype(str).str.strip().to_numpy(dtype=object), unit="mag",
            telescope=frame["observatory"].fillna("").astype(str).to_numpy(dtype=object)
            if "observatory" in frame else "",
            catalog=frame["catalog"].astype(str).to_numpy(dtype=object) if "catalog" in frame else "",
            cpcs_id=frame["id"].astype(str).to_numpy(dtype=object) if "id" in frame else "",
            observatory_id=frame["observatory_id"].astype(str).to_numpy(dtype=object)
            if "observatory_id" in frame else "",
            matched_identifier=self.survey_name(target) or "",
            extras={"time_system": "MJD, taken as UTC",
                    "error_model": "magerr and the calibration error caliberr in quadrature"})
