"""What the IRSA brokers share: an ADQL cone on an IRSA table through TAP.

IRSA (NASA/IPAC Infrared Science Archive, https://irsa.ipac.caltech.edu) serves the WISE tables through
its TAP service at ``/TAP``; pyvo sends the query (``tap.py``) and the VOTable it answers is read by column
name with astropy (nulls masked). ``read_ipac`` reads IRSA's own IPAC tables (what its Gator service
answers; the tests' real Gator answers).
"""
import astropy.units as u
import numpy as np
from astropy.table import Table

from tom_bhtom_brokers.brokers.base import BHTOMBroker, Request
from tom_bhtom_brokers.brokers.reading import filled, refuse_absurd_width
from tom_bhtom_brokers.transports.tap import read_votable
from tom_bhtom_brokers.exceptions import BrokerParseError


class IrsaTapBroker(BHTOMBroker):
    """A cone on ``table`` selecting ``columns``; subclasses implement ``parse`` on the checked table."""

    default_url = "https://irsa.ipac.caltech.edu"
    table = ""
    columns = ()

    def query(self, located):
        target = located.target
        adql = (f"SELECT {', '.join(self.columns)} FROM {self.table} "
                f"WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {target.ra:.7f}, {target.dec:.7f}, "
                f"{self.radius.to_value(u.deg):.8f})) = 1")
        return [Request("/TAP", adql=adql)]

    def read_table(self, payload):
        return read_votable(payload, self.columns, f"{self.name} table")


def read_ipac(payload: bytes) -> Table:
    """An IRSA IPAC table, refusing a cut one: astropy would read a row cut short as masked cells."""
    text = payload.decode("utf-8")
    if not text.lstrip().startswith(("\\", "|")):
        raise BrokerParseError("the response is not an IPAC table")
    if not text.endswith("\n"):
        raise BrokerParseError("the IPAC table ends mid-line (truncated response)")
    lines = text.splitlines()
    header_rows = [i for i, line in enumerate(lines) if line.startswith("|")]
    if not header_rows:
        raise BrokerParseError("the IPAC table has no '|' column header")
    header = lines[header_rows[0]].rstrip()
    refuse_absurd_width(header.count("|") - 1, "IPAC table")
    last_column_start = header[:-1].rfind("|")
    data = [line for line in lines[header_rows[-1] + 1:] if line.strip()]
    if any(len(line.rstrip()) <= last_column_start for line in data):
        raise BrokerParseError("a row of the IPAC table is cut short (truncated response)")
    try:
        return Table.read(text, format="ascii.ipac", guess=False)
    except (ValueError, IndexError) as exc:
        # astropy reports bad header lines and unreadable cells as ValueError/IndexError
        raise BrokerParseError(f"unreadable IPAC table ({exc})") from exc


def band_character(column, index):
    """Character ``index`` of each string in a flag column ('AB' -> 'A' for W1), '' where missing."""
    values = np.asarray(filled(column, ""), dtype=str)
    width = max(index + 1, values.dtype.itemsize // 4)
    # fixed-width unicode viewed as single characters: column ``index`` of an (n, width) array
    return np.ascontiguousarray(values.astype(f"U{width}")).view("U1").reshape(len(values), width)[:, index]
