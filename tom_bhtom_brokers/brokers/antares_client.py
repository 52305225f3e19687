"""ANTARES' REST API (v2, NSF NOIRLab's alert broker), as the two adapters that read it need it: the ANTARES
adapter (ZTF alert photometry of a locus) and the LSST adapter's second route (the LSST rows of a locus). Requests
for a cone or a set of ids (Elasticsearch filters, as antares-client 2.x builds them), a listing's loci, a locus's
light curve as a frame. Pure: the adapters send the requests through their own chain."""
import io
import json
import re

import astropy.units as u
import pandas as pd
from astropy.coordinates import SkyCoord

from tom_bhtom_brokers.brokers.reading import read_json
from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.steps import Request

#: ANTARES' public API
ANTARES_URL = "https://api.antares.noirlab.edu"
#: the columns of a locus light curve the adapters read
REQUIRED = ("alert_id", "ant_mjd", "ant_survey", "ant_passband", "ant_mag", "ant_magerr", "ant_maglim")
#: the API refuses cones of 1 degree or more
MAX_RADIUS = 1 * u.deg
#: what a locus id looks like (ANT2020abcdxyz; ANT2026rq61krn5dipt): letters and digits; it becomes a request path
#: and is kept for the next update
LOCUS_ID = re.compile(r"[A-Za-z0-9_]{1,64}")


def cone_condition(target, radius):
    """ANTARES' cone filter, exactly as antares-client 2.x's cone_search builds it."""
    radius = min(radius, MAX_RADIUS * 0.999)
    centre = SkyCoord(target.ra * u.deg, target.dec * u.deg)
    return {"sky_distance": {"radius": f"{radius.to_value(u.deg):.8f} degree",
                             "location": centre.to_string("hmsdms")}}


def listing(condition):
    """The request for the loci matching one Elasticsearch filter, newest first."""
    query = {"query": {"bool": {"filter": condition}}}
    return Request("/v2/loci", params={"elasticsearch_query": json.dumps(query), "limit": 20,
                                       "sort": "-properties.newest_alert_observation_time"})


def read_loci(payload):
    """The loci of a listing: locus_id, ra, dec, ZTF name and properties of each."""
    items = read_json(payload, "ANTARES locus listing").get("data")
    if not isinstance(items, list):
        raise BrokerParseError("the ANTARES locus listing has no list of loci under 'data'")
    loci = []
    for item in items:
        locus = item.get("locus", item) if isinstance(item, dict) else None
        if not isinstance(locus, dict) or not (locus.get("locus_id") or locus.get("id")):
            raise BrokerParseError("an ANTARES listing entry has no locus id")
        if not LOCUS_ID.fullmatch(str(locus.get("locus_id") or locus.get("id"))):
            # the id becomes a request path (and is kept for the next update): nothing but a plain id
            raise BrokerParseError(f"an ANTARES listing entry has an odd locus id "
                                   f"{str(locus.get('locus_id') or locus.get('id'))[:40]!r}")
        properties = locus.get("properties") or {}
        loci.append({"locus_id": str(locus.get("locus_id") or locus.get("id")),
                     "ra": float(locus["ra"]), "dec": float(locus["dec"]),
                     "ztf_object_id": str(properties.get("ztf_object_id") or ""), "properties": properties})
    return loci


def light_curve_rows(value):
    """The locus light curve as a frame: a CSV text (API v2) or a list of row objects."""
    if isinstance(value, str):
        if not value.strip():
            return pd.DataFrame(columns=list(REQUIRED))
        return pd.read_csv(io.StringIO(value), dtype=str, keep_default_na=False)
    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        return pd.DataFrame(value, columns=list(value[0]) if value else list(REQUIRED)).astype(object)
    raise BrokerParseError("the ANTARES 'lightcurve' is neither CSV text nor a list of rows")
