"""OGLE-IV Early Warning System (EWS): the I-band light curves of the microlensing events OGLE announces.

Archive: the EWS data files (``https://www.astrouw.edu.pl/ogle/ogle4/ews/<year>/<field>-<NNNN>/phot.dat``) and each
season's event list (``.../ews/<year>/lenses.par``); no authentication. The human pages are on another host
(``https://ogle.astrouw.edu.pl/ogle4/ews/<year>/<field>-<NNNN>.html``): both hosts are settings (``url`` for the
data, ``pages_url`` for the page linked from each point's extras); nothing is ever asked of the pages host.
Cite Udalski et al. 2015, AcA 65, 1 (OGLE-IV) and Udalski 2003, AcA 53, 291 (EWS).

Finding the event: by the target's "OGLE EWS name" (``OGLE-2019-BLG-0001``; the directory ``2019/blg-0001``), else
the nearest event within the radius (2 arcsec) in the event lists of the seasons in ``seasons`` (default 2011-2019
and 2022 to this year; there were no EWS seasons in 2020-2021). Each season's list is read once and kept in the
site's cache (a past season's for good, this season's for a day), so a cone costs no request after the first. A
target north of ``max_dec`` (+30; OGLE observes from Las Campanas, latitude -29) is not searched. The event found
is recorded in "OGLE EWS name".

Format (``phot.dat``): no header, one observation per line, ``HJD I error seeing sky`` (OGLE-III files: the first
three only); HJD is the full heliocentric JD (UTC-based). Stored as the UTC MJD at the Earth's centre, the light
travel time to the Sun's centre removed for the target's position (so the target needs coordinates); the HJD is
kept as ``time_original``, seeing (pixels, 0.26"/px) and sky level in the extras; bandpass ``I(OGLE)``. There are
no limits and no flags.
The file holds the star's whole OGLE-IV history, not only the event's season. Cadence: daily during the bulge
season (``season_months``, February to November), not at all outside it.
"""
import re
from datetime import datetime, timedelta, timezone

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve, geocentric_utc_mjd
from tom_bhtom_brokers.sky import nearest_within
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.survey_names import OGLE_EWS_NAME
from tom_bhtom_brokers.transports.download import cached_value

#: an event in a season's list: 2019-BLG-0001 (the list leaves out "OGLE-")
LISTED_EVENT = re.compile(r"^(20\d{2})-(BLG|GD)-(\d{4})$")
FIRST_SEASON = 2011
NO_SEASONS = (2020, 2021)
LIST_COLUMNS = ("Event", "Field", "StarNo", "RA(J2000)", "Dec(J2000)")


def event_path(name):
    """'OGLE-2019-BLG-0001' -> ('2019', 'blg-0001'); None for anything else."""
    match = OGLE_EWS_NAME.match(name)
    return (match["year"], f"{match['field'].lower()}-{match['number']}") if match else None


class OgleEwsBroker(BHTOMBroker):
    """The OGLE-IV EWS I-band light curve of the target's microlensing event."""

    source = DataSource.OGLE_EWS
    default_url = "https://www.astrouw.edu.pl"
    default_pages_url = "https://ogle.astrouw.edu.pl"
    match_radius = 2 * u.arcsec
    cadence = timedelta(days=1)
    telescope = "OGLE 1.3m Warsaw Telescope"
    instrument = "OGLE-IV mosaic camera"
    verbose_name = "OGLE-IV Early Warning System (microlensing events)"
    citation = "Udalski et al. 2015, AcA 65, 1"
    probe = {"name": "OGLE-2019-BLG-0001", "ra": 268.0, "dec": -29.5,
             "survey_names": {"OGLE EWS name": "OGLE-2019-BLG-0001"}}
    located_by = ("name", "cone")
    name_hint = "an OGLE EWS event name, e.g. OGLE-2019-BLG-0001"

    @classmethod
    def cadence_interval(cls):
        """Daily while the bulge is observed (``season_months``), otherwise not read (``cadence_hours`` wins)."""
        if "cadence_hours" in cls.configuration():
            return super().cadence_interval()
        months = cls.setting("season_months", list(range(2, 12)))
        return cls.cadence if datetime.now(timezone.utc).month in months else None

    def seasons(self):
        this_year = datetime.now(timezone.utc).year
        default = [year for year in range(FIRST_SEASON, this_year + 1) if year not in NO_SEASONS]
        return [int(year) for year in self.setting("seasons", default)]

    def locate_by_name(self, target, name):
        self.valid_name(name)
        self.require_position(target)  # HJD -> UTC needs it
        return self.event(target, name)

    def locate_by_cone(self, target):
        if target.dec > float(self.setting("max_dec", 30.0)):
            raise NoData(f"north of Dec {float(self.setting('max_dec', 30.0)):+g}: outside OGLE's fields")
        refresh_before = target.pair.refresh_caches_before
        events = [event for year in self.seasons() for event in self.season_events(year, refresh_before)]
        best = nearest_within([e[1] for e in events], [e[2] for e in events], target.ra, target.dec, self.radius)
        if best is None:
            raise NoData(self.radius_note("OGLE EWS event"))
        return self.event(target, events[best][0])

    def event(self, target, name):
        """The event's data directory; its page (on the pages host) goes into the extras."""
        year, directory = event_path(name)
        pages = str(self.setting("pages_url", self.default_pages_url)).rstrip("/")
        return Located(target, f"{year}/{directory}", matched=name,
                       extras={"event_page": f"{pages}/ogle4/ews/{year}/{directory}.html"})

    def season_events(self, year, refresh_before=None):
        """(name, ra, dec) of each event of one season, from the site's cache or the season's list; a list
        cached before ``refresh_before`` (a forced run's start, UNIX time) is asked again."""
        # a past season's list no longer changes; this season's grows
        current = year >= datetime.now(timezone.utc).year
        return cached_value(f"tom_bhtom_brokers:ogle_ews:{self.base_url}:{year}",
                            lambda: self.ask(Request(f"/ogle/ogle4/ews/{year}/lenses.par"), event_list),
                            timeout=86400 if current else None, refresh_before=refresh_before)

    def query(self, located):
        return [Request(f"/ogle/ogle4/ews/{located.identifier}/phot.dat",
                        missing_note=f"OGLE EWS has no event at /ogle/ogle4/ews/{located.identifier}")]

    def parse(self, payload, target):
        rows = phot_rows(payload)
        hjd = rows[:, 0]
        columns = {"seeing_px": rows[:, 3], "sky": rows[:, 4]} if rows.shape[1] == 5 else {}
        return Lightcurve.from_columns(
            mjd=geocentric_utc_mjd(hjd, target.ra, target.dec, format="jd", scale="utc", centre="heliocentric"),
            brightness=rows[:, 1], brightness_error=rows[:, 2], filter="I", unit="mag", telescope=self.telescope,
            instrument=self.instrument, time_original=hjd, **columns,
            extras={"time_system": "HJD (UTC), light travel time to the Sun's centre removed",
                    "magnitude_system": "OGLE I (Vega), difference-image photometry calibrated to the OGLE standard"})


def phot_rows(payload):
    """The numbers of a ``phot.dat``: n rows of 5 (or, OGLE-III, 3) columns; refuses anything else."""
    lines = [line.split() for line in payload.decode("ascii").splitlines() if line.strip()]
    widths = {len(fields) for fields in lines}
    if len(widths) != 1 or widths - {3, 5}:
        raise BrokerParseError(f"OGLE phot.dat lines have {sorted(widths)} fields, not 5 (HJD I error seeing sky) "
                               "on every line (cut short?)")
    if not payload.endswith(b"\n"):
        raise BrokerParseError("the OGLE phot.dat ends mid-line (truncated response)")
    rows = np.array(lines, dtype=float)
    if not (np.isfinite(rows[:, 0]) & (rows[:, 0] > 2_400_000)).all():
        raise BrokerParseError("an OGLE phot.dat time is not a full HJD")
    return rows


def event_list(payload):
    """(name, ra, dec) of each event in a season's ``lenses.par`` (a header line, then whitespace rows with the event
    name without "OGLE-" and sexagesimal J2000 coordinates)."""
    lines = [line.split() for line in payload.decode("ascii").splitlines() if line.strip()]
    if not lines or tuple(lines[0][:5]) != LIST_COLUMNS:
        raise BrokerParseError(f"the OGLE event list does not start with the header {' '.join(LIST_COLUMNS)}")
    rows = lines[1:]
    bad = [row[0] for row in rows if len(row) < 5 or not LISTED_EVENT.match(row[0])]
    if bad:
        raise BrokerParseError(f"the OGLE event list has {len(bad)} line(s) that are not events, e.g. {bad[0][:40]!r}")
    if not rows:
        return []
    positions = SkyCoord([row[3] for row in rows], [row[4] for row in rows], unit=(u.hourangle, u.deg))
    return [(f"OGLE-{row[0]}", float(ra), float(dec))
            for row, ra, dec in zip(rows, positions.ra.deg, positions.dec.deg)]
