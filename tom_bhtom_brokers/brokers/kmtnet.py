"""KMTNet (Korea Microlensing Telescope Network, KASI): the I-band light curves of its public microlensing events.

Archive: each event's pySIS photometry, ``https://kmtnet.kasi.re.kr/ulens/event/<year>/data/KB<yy><NNNN>/pysis/
pysis.tar.gz`` (``KMT-2017-BLG-2573`` -> ``2017/data/KB172573``), and each season's event list,
``.../ulens/event/<year>/listpage.dat``; no authentication. A season becomes public on 1 July of the next year:
until then its events are "not public yet" (said, nothing is asked). Cite Kim et al. 2016, JKAS 49, 37 (KMTNet)
and Kim et al. 2018, AJ 155, 76 (the event finder).

Finding the event: by the target's "KMTNet name" (``KMT-2017-BLG-2573``), else the nearest event within the radius
(2 arcsec) in the public seasons' event lists (``seasons``, default 2016 to the last public one), each read once
and kept in the site's cache (a past season's for good). The list's layout is not published: a row is read as the
event's name and the first two sexagesimal fields after it (RA, Dec J2000); no real list was found to test on.

Format: the tarball holds one file per site, field and band, ``KMT<site><field>_<band>.pysis`` (site A = SSO,
Australia; C = CTIO, Chile; S = SAAO, South Africa); a ``#`` header, then ``HJD Delta_flux flux_err mag mag_err
fwhm sky secz`` with HJD - 2450000. **Each site has its own zero point**, so each is its own series: filters
``I-KMTA``, ``I-KMTC``, ``I-KMTS`` (bandpass ``I-KMTC(KMTNet)``), the field in the extras. The V files have no
magnitude columns (``HJD Delta_flux flux_err fwhm sky secz``): a difference flux in arbitrary units per site and
field, which no other survey's V can be set beside, so they are left out (counted in the status line). Rows are
kept only with a positive ``fwhm`` (-1: the PSF fit failed; the real file's spurious 5-magnitude brightening is one)
and ``fwhm``, ``sky`` and ``mag_err`` within ``max_fwhm`` (10 px), ``max_sky`` (10,000) and ``max_mag_error``
(0.5 mag), the cuts public users of the files apply; the rows left out are counted in the status line.

Times: HJD (UTC-based, heliocentric) + 2450000, stored as the UTC MJD at the Earth's centre (the light travel time
to the Sun's centre removed for the target's position, so the target needs coordinates); the HJD is kept as
``time_original``; Delta_flux, flux_err, fwhm, sky and airmass in the extras.
"""
import io
import re
from datetime import datetime, timezone

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.coordinates import SkyCoord

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve, geocentric_utc_mjd
from tom_bhtom_brokers.sky import nearest_within
from tom_bhtom_brokers.sources import SURVEY, DataSource
from tom_bhtom_brokers.transports.download import cached_value
from tom_bhtom_brokers.unpacking import tar_members

#: the name field's rule (the declaration's pattern): KMT-<year>-BLG-<NNNN>
KMTNET_NAME = re.compile(SURVEY[DataSource.KMTNET].name_pattern)
MEMBER = re.compile(r"^(?:.*/)?KMT(?P<site>[ACS])(?P<field>\d{2})_(?P<band>[IV])\.pysis$")
I_COLUMNS = ("HJD", "Delta_flux", "flux_err", "mag", "mag_err", "fwhm", "sky", "secz")
V_COLUMNS = ("HJD", "Delta_flux", "flux_err", "fwhm", "sky", "secz")
HJD_OFFSET = 2_450_000.0
FIRST_SEASON = 2016
#: a season's data are public from 1 July of the next year
PUBLIC_FROM_MONTH = 7
SEXAGESIMAL = re.compile(r"^[+-]?\d{1,3}:\d{2}:\d{2}(\.\d+)?$")
#: a tarball of three sites' files is a few hundred kB; more than this many members or bytes is not one
MAX_MEMBERS, MAX_UNPACKED_BYTES = 200, 64 * 1024 * 1024
SITES = {"A": "SSO", "C": "CTIO", "S": "SAAO"}
#: the quality cuts public users of the files apply (``max_fwhm``, ``max_sky``, ``max_mag_error`` in settings)
DEFAULT_CUTS = {"max_fwhm": 10.0, "max_sky": 10_000.0, "max_mag_error": 0.5}
EXTRAS = {"time_system": "HJD (UTC), light travel time to the Sun's centre removed",
          "magnitude_system": "KMTNet I, pySIS difference imaging; each site and field its own zero point"}


def event_directory(name):
    """'KMT-2017-BLG-2573' -> ('2017', 'KB172573'); None for anything else."""
    if not KMTNET_NAME.match(name or ""):
        return None
    year, number = name[4:8], name[-4:]
    return year, f"KB{year[2:]}{number}"


def last_public_season(today=None):
    """The latest season whose data are public today."""
    today = today or datetime.now(timezone.utc).date()
    return today.year - 1 if today.month >= PUBLIC_FROM_MONTH else today.year - 2


class KmtnetBroker(BHTOMBroker):
    """The KMTNet I-band light curves (one per site) of the target's microlensing event."""

    source = DataSource.KMTNET
    default_url = "https://kmtnet.kasi.re.kr"
    match_radius = 2 * u.arcsec
    cadence = None  # a public season no longer changes
    telescope = "KMTNet 1.6m"
    verbose_name = "KMTNet microlensing events (public seasons)"
    citation = "Kim et al. 2016, JKAS 49, 37; Kim et al. 2018, AJ 155, 76"
    probe = {"name": "KMT-2017-BLG-2573", "ra": 266.54918, "dec": -25.62171,
             "survey_names": {"KMTNet name": "KMT-2017-BLG-2573"}}
    located_by = ("name", "cone")
    name_hint = "a KMTNet event name, e.g. KMT-2017-BLG-2573"
    max_answer_bytes = 16 * 1024 * 1024
    tally_notes = {"V rows": "{n} V-band rows left out (no magnitudes)",
                   "quality cuts": "{n} rows left out by the fwhm/sky/error cuts"}

    def locate_by_name(self, target, name):
        self.valid_name(name)
        self.require_position(target)  # HJD -> UTC needs it
        return self.event(target, name)

    def locate_by_cone(self, target):
        events = [event for year in self.seasons() for event in self.season_events(year, target)]
        best = nearest_within([e[1] for e in events], [e[2] for e in events], target.ra, target.dec, self.radius)
        if best is None:
            raise NoData(self.radius_note("KMTNet event"))
        return self.event(target, events[best][0])

    def event(self, target, name):
        year, directory = event_directory(name)
        if int(year) > last_public_season():
            raise NoData(f"{name}: not public yet (KMTNet publishes a season on 1 July of the next year)")
        return Located(target, f"{year}/data/{directory}", matched=name,
                       extras={"event_page": f"{self.base_url}/ulens/event/{year}/view.php?event={name}"})

    def seasons(self):
        default = list(range(FIRST_SEASON, last_public_season() + 1))
        return [int(year) for year in self.setting("seasons", default) if int(year) <= last_public_season()]

    def season_events(self, year, target):
        """(name, ra, dec) of each event of a public season, from the site's cache or the season's list."""
        return cached_value(f"tom_bhtom_brokers:kmtnet:{self.base_url}:{year}",
                            lambda: self.ask(Request(f"/ulens/event/{year}/listpage.dat"), event_list),
                            refresh_before=target.pair.refresh_caches_before)

    def query(self, located):
        return [Request(f"/ulens/event/{located.identifier}/pysis/pysis.tar.gz",
                        missing_note=f"KMTNet has no photometry at /ulens/event/{located.identifier}")]

    def parse(self, payload, target):
        archive, members = tar_members(io.BytesIO(payload), MEMBER.match, MAX_MEMBERS, MAX_UNPACKED_BYTES,
                                       "KMTNet pysis.tar.gz")
        with archive:
            files = [(MEMBER.match(member.name), archive.extractfile(member).read()) for member in members]
        if not files:
            raise BrokerParseError("the KMTNet pysis.tar.gz holds no KMT<site><field>_<band>.pysis file")
        cuts = {key: float(self.setting(key, value)) for key, value in DEFAULT_CUTS.items()}
        parts = [site_lightcurve(match, content, target, self.telescope, cuts) for match, content in files
                 if match["band"] == "I"]
        v_rows = sum(len(pysis_rows(content, V_COLUMNS)) for match, content in files if match["band"] == "V")
        whole = Lightcurve.concat(parts, "", EXTRAS)
        whole.tallies = {"V rows": v_rows, "quality cuts": sum(part.tallies["quality cuts"] for part in parts)}
        if not parts:
            whole.note = "the KMTNet photometry holds no I-band file"
        return whole


def pysis_rows(content, columns):
    """The rows of one ``.pysis`` file as a frame of floats, its header checked against ``columns``."""
    text = content.decode("ascii")
    lines = text.splitlines()
    header = lines[0].lstrip("#").replace("\\Delta_flux", "Delta_flux").split() if lines else []
    if tuple(header) != columns:
        raise BrokerParseError(f"a KMTNet .pysis header reads {header[:8]}, not {list(columns)}")
    if not text.endswith("\n"):
        raise BrokerParseError("a KMTNet .pysis file ends mid-line (truncated)")
    rows = [line.split() for line in lines[1:] if line.strip()]
    if any(len(row) != len(columns) for row in rows):
        raise BrokerParseError(f"a KMTNet .pysis row does not have the header's {len(columns)} fields")
    return pd.DataFrame(np.array(rows, dtype=float).reshape(-1, len(columns)), columns=list(columns))


def site_lightcurve(match, content, target, telescope, cuts):
    """One site's I-band series: the rows passing the quality cuts, the time at the Earth's centre in UTC."""
    rows = pysis_rows(content, I_COLUMNS)
    good = (rows["fwhm"] > 0) & (rows["fwhm"] <= cuts["max_fwhm"]) & (rows["sky"] <= cuts["max_sky"]) \
        & (rows["mag_err"] > 0) & (rows["mag_err"] <= cuts["max_mag_error"]) \
        & np.isfinite(rows[["HJD", "mag"]]).all(axis=1)
    kept = rows[good]
    hjd = kept["HJD"].to_numpy() + HJD_OFFSET
    part = Lightcurve.from_columns(
        mjd=geocentric_utc_mjd(hjd, target.ra, target.dec, format="jd", scale="utc", centre="heliocentric"),
        brightness=kept["mag"], brightness_error=kept["mag_err"], filter=f"I-KMT{match['site']}", unit="mag",
        telescope=f"{telescope} ({SITES[match['site']]})", time_original=hjd, site=f"KMT{match['site']}",
        field=f"BLG{match['field']}", delta_flux=kept["Delta_flux"], flux_error=kept["flux_err"],
        fwhm_px=kept["fwhm"], sky=kept["sky"], airmass=kept["secz"])
    part.tallies = {"quality cuts": int((~good).sum())}
    return part


def event_list(payload):
    """(name, ra, dec) of each event of a season's ``listpage.dat``: each row's KMT name and the first two
    sexagesimal fields after it."""
    events = []
    for line in payload.decode("utf-8").splitlines():
        fields = line.split()
        names = [k for k, value in enumerate(fields) if KMTNET_NAME.match(value)]
        if not names or line.lstrip().startswith("#"):
            continue
        position = [value for value in fields[names[0] + 1:] if SEXAGESIMAL.match(value)][:2]
        if len(position) < 2:
            raise BrokerParseError(f"the KMTNet event list has no position for {fields[names[0]]}")
        events.append((fields[names[0]], *position))
    if not events:
        return []
    coords = SkyCoord([e[1] for e in events], [e[2] for e in events], unit=(u.hourangle, u.deg))
    return [(event[0], float(ra), float(dec)) for event, ra, dec in zip(events, coords.ra.deg, coords.dec.deg)]
