"""The UK Swift Science Data Centre's API (``https://www.swift.ac.uk/API/main.php``: JSON POSTs naming an
``APIFunc``) through its maintained client, ``swifttools`` (an optional extra: ``pip install
'tom-bhtom-brokers[swift]'``): the LSXPS catalogue's cone (``SXPSQuery``) and a source's light curve
(``getLightCurves``).

The client reads its server's address from a module global (``swifttools.ukssdc.main.APIURL``) and posts with
``requests``: this wrapper sets the address to the configured host and puts the broker's own HTTP client under the
post (``OurTransport``), so a site (or the tests' sample archive) points it where the broker's ``url`` says and its
answers meet the same timeout, size cap and host rules as every other archive's. The call itself runs within the
broker's deadline in a thread of its own (``SwiftXrtBroker.asking``), which is the thread the transport is set
for."""
import json
import threading
from importlib import import_module

import requests

from tom_bhtom_brokers.exceptions import BrokerParseError

API_PATH = "/API/main.php"
_address_lock = threading.Lock()


class OurTransport:
    """Stands in for the ``requests`` module inside swifttools' ``main``, whose one call is ``requests.post(APIURL,
    json=data)``: within a broker's call (``using``), the POST goes through the broker's HTTP client (its timeout,
    size cap, user agent, host health and redirect rule); any other caller of swifttools in the process gets
    ``requests`` as before."""

    local = threading.local()

    def post(self, url, json=None, **options):
        http = getattr(self.local, "http", None)
        if http is None:
            return requests.post(url, json=json, **options)
        answer = http.request("POST", url, data=_dumps(json), headers={"Content-Type": "application/json"},
                              idempotent=True)
        text = answer.content.decode("utf-8", "replace")
        if not text.strip():
            raise BrokerParseError("the archive sent an empty response", url=answer.url)
        try:
            _loads(text)
        except ValueError as exc:  # the client would fail on it with a bare JSONDecodeError
            raise BrokerParseError(f"could not read the UKSSDC API response (not JSON: {exc})", url=answer.url) \
                from None
        return Answer(answer.status, text)

    def __getattr__(self, name):
        return getattr(requests, name)


class Answer:
    """What swifttools reads of a response: ``status_code``, ``reason`` and ``text``."""

    def __init__(self, status, text):
        self.status_code, self.reason, self.text = status, "", text


def _dumps(document):
    return json.dumps(document).encode()


def _loads(text):
    return json.loads(text)


TRANSPORT = OurTransport()


def swifttools_installed():
    """Whether the client can be imported (it is an optional extra)."""
    try:
        import_module("swifttools.ukssdc.data.SXPS")
    except ImportError:
        return False
    return True


class LsxpsClient:
    """The two calls the Swift-XRT broker makes, through swifttools, against ``base_url``."""

    #: the columns of LSXPS's sources table the cone asks for (the client checks them against the table's metadata)
    SOURCE_COLUMNS = ("LSXPS_ID", "IAUName", "RA", "Decl", "Err90", "FixedPowECFO")

    def __init__(self, base_url, http):
        self.api_url, self.http = f"{base_url.rstrip('/')}{API_PATH}", http
        self.main = import_module("swifttools.ukssdc.main")
        self.query = import_module("swifttools.ukssdc.query")
        self.sxps = import_module("swifttools.ukssdc.data.SXPS")

    def point_at_host(self):
        """The client's address and transport: the configured host, through the broker's HTTP client."""
        with _address_lock:
            if self.main.APIURL != self.api_url:
                self.main.APIURL = self.api_url
            if self.main.requests is not TRANSPORT:
                self.main.requests = TRANSPORT
        TRANSPORT.local.http = self.http

    def cone(self, ra, dec, radius_arcsec):
        """The LSXPS sources within ``radius_arcsec`` of (ra, dec), a pandas DataFrame (maybe empty)."""
        self.point_at_host()
        query = self.query.SXPSQuery(cat="LSXPS", table="sources", silent=True)
        query.addCol(list(self.SOURCE_COLUMNS))
        query.addConeSearch(ra=ra, dec=dec, radius=radius_arcsec, units="arcsec")
        query.submit()
        return query.results

    def light_curve(self, source_id):
        """A source's observation-binned light curve, times in MJD: swifttools' light-curve dict."""
        self.point_at_host()
        return self.sxps.getLightCurves(sourceID=int(source_id), cat="LSXPS", binning="obsid", timeFormat="MJD",
                                        returnData=True, saveData=False, silent=True)
