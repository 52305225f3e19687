"""CRTS: the Catalina Real-time Transient Survey's Catalina Surveys Data Release 2 (CSDR2) photometry.

Archive: the Catalina cone-search CGI, ``/cgi-bin/getcssconedb_release_img.cgi`` at
http://nunuku.caltech.edu (also served at nesssi.cacr.caltech.edu; HTTP only), with ``RA``, ``Dec``
(degrees), ``Rad`` (arcmin) and ``DB=photcat``. No authentication. Cite Drake et al. 2009, ApJ 696,
870 (CRTS) and acknowledge the Catalina Sky Survey. The release is frozen (its photometry ends in
2013): read once.

We ask for ``OUT=csv``: the CGI answers with an HTML page that links to a temporary CSV file
(``/DataRelease/upload/result_web_file<random>.csv``), which is then downloaded. We prefer it to the
``OUT=web`` HTML table because the CSV carries the ``Blend`` flag and the ``MasterID`` that the HTML
table lacks, and needs no HTML parser. The link is followed on the configured host (its path only),
so an overridden ``url`` serves both requests. Coverage is read from the page's text, not the HTTP
status: "This area is not covered by CSS data." and "... However, no objects were found in the
specified area" are both *no data*. A page with neither a link nor one of those sentences is an error.

Which object: several MasterIDs (telescopes, fields) can fall in the cone (default 6 arcsec,
``Rad=0.1``); the one whose median detected position is nearest to the target is kept and recorded.
Points: ``Mag`` is unfiltered CSS photometry transformed to Johnson V (stored as ``CL``), ``Magerr``
its error, ``MJD`` taken as UTC (as BHTOM did; the release does not state a time scale), ``Blend``
(0 = not blended) in each point's extras.
"""
import re
from urllib.parse import urlsplit

import astropy.units as u
import numpy as np
import pandas as pd

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Located, Request
from tom_bhtom_brokers.brokers.reading import read_csv, require_complete, separation_note
from tom_bhtom_brokers.exceptions import BrokerParseError, NoData
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sky import separations_arcsec
from tom_bhtom_brokers.sources import DataSource

CSV_LINK = re.compile(rb"""href\s*=\s*["']?([^\s"'<>]*result_web_file\w*\.csv)""", re.I)
NOT_COVERED = b"not covered by CSS data"
NO_OBJECTS = b"no objects were found"
COLUMNS = ("MasterID", "Mag", "Magerr", "RA", "Dec", "MJD", "Blend")


class CrtsBroker(BHTOMBroker):
    """Catalina (CSDR2) unfiltered light curve of the Catalina object nearest to the target."""

    source = DataSource.CRTS
    default_url = "http://nunuku.caltech.edu"
    match_radius = 6 * u.arcsec
    cadence = None
    telescope = "Catalina Sky Survey"
    verbose_name = "Catalina Surveys Data Release 2 (CRTS)"
    citation = "Drake et al. 2009, ApJ 696, 870"
    probe = {"name": "Gaia20fnr", "ra": 90.26701, "dec": -18.96770}

    def locate_by_cone(self, target):
        """The CSV the cone's result page links to (a temporary file of the cone's rows)."""
        page = Request("/cgi-bin/getcssconedb_release_img.cgi", expect_html=True, params={
            "RA": f"{target.ra:.6f}", "Dec": f"{target.dec:.6f}", "Rad": f"{self.radius.to_value(u.arcmin):.4f}",
            "DB": "photcat", "OUT": "csv", "SHORT": "short"})
        # the object (MasterID) is chosen among the CSV's rows by ``parse``, which records it
        return Located(target, self.ask(page, self.csv_path), matched="")

    def query(self, located):
        return [Request(located.identifier)]

    def csv_path(self, payload):
        """The path of the CSV the page links to; NoData when the page says there is none; an error when the
        page is not a Catalina answer."""
        link = CSV_LINK.search(payload)
        if link:
            return urlsplit(link.group(1).decode("ascii", "replace")).path
        if NOT_COVERED in payload:
            raise NoData("this area is not covered by the Catalina surveys")
        if NO_OBJECTS in payload:
            raise NoData(self.radius_note("Catalina object"))
        raise BrokerParseError("the Catalina page links to no CSV file and says nothing of coverage (an error page?)")

    def parse(self, payload, target):
        frame = read_csv(payload, COLUMNS, "Catalina CSV", skipinitialspace=True)
        if frame.empty:
            return self.nothing_within_radius("Catalina object")
        cells = require_complete(frame, COLUMNS, "Catalina CSV")
        values = {c: pd.to_numeric(cells[c], errors="raise") for c in COLUMNS if c != "MasterID"}
        positions = pd.DataFrame({"id": cells["MasterID"], "ra": values["RA"], "dec": values["Dec"]}) \
            .groupby("id").median()
        separation = separations_arcsec(positions["ra"].to_numpy(), positions["dec"].to_numpy(),
                                        target.ra, target.dec)
        nearest = int(np.argmin(separation))
        master_id = positions.index[nearest]
        keep = (cells["MasterID"] == master_id).to_numpy()
        lightcurve = Lightcurve.from_columns(
            mjd=values["MJD"].to_numpy()[keep], brightness=values["Mag"].to_numpy()[keep],
            brightness_error=values["Magerr"].to_numpy()[keep], filter="CL", unit="mag",
            telescope=self.telescope, blend=values["Blend"].to_numpy()[keep].astype("int64"),
            matched_identifier=master_id,
            extras={"magnitude_system": "unfiltered, transformed to Johnson V (V_CSS)",
                    "time_system": "MJD, taken as UTC", "master_id": master_id})
        # facts of this answer, not of a measurement: the status line, never the points' identity
        lightcurve.note = separation_note(separation[nearest], len(positions) - 1)
        return lightcurve
