"""Readers of archive answers that several adapters share: CSV and JSON refused when they are not what an archive
sends (too wide, missing columns, rows cut short), columns as numbers, and the status line's word on a cone's
choice. Pure functions of bytes and frames; an adapter's ``parse`` calls them and the fetch chain turns their
errors into a BrokerParseError naming the URL."""
import io
import json

import numpy as np
import pandas as pd

from tom_bhtom_brokers.exceptions import BrokerParseError
from tom_bhtom_brokers.sky import separations_arcsec


def nearest_row(ra, dec, target):
    """(index of the row nearest to the target, the status line's word on it) among rows at (ra, dec)."""
    separations = separations_arcsec(np.asarray(ra, dtype=float), np.asarray(dec, dtype=float), target.ra, target.dec)
    nearest = int(np.nanargmin(separations))
    return nearest, separation_note(separations[nearest], len(separations) - 1)


def separation_note(arcsec, others=0):
    """The status line's word on the object a cone chose: how far it is, and how many others the cone held."""
    note = f"nearest source {float(arcsec):.2f} arcsec away"
    return f"{note}, {others} other object(s) in the cone" if others else note


#: more columns than any archive's table has: such an answer is refused before a frame is built (a 10 MB CSV of
#: a million columns would take over a GB)
MAX_COLUMNS = 1000


def refuse_absurd_width(count, what):
    if count > MAX_COLUMNS:
        raise BrokerParseError(f"the {what} has {count} columns, more than any archive table ({MAX_COLUMNS}): "
                               "refused unread")


def read_csv(payload: bytes, required, what, **options):
    """A CSV answer as a frame of stripped strings ("" for empty cells), refusing one without ``required``."""
    refuse_absurd_width(payload[:payload.find(b"\n") if b"\n" in payload else len(payload)].count(b",") + 1, what)
    frame = pd.read_csv(io.BytesIO(payload), dtype=str, keep_default_na=False, **options)
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise BrokerParseError(f"the {what} has no column(s) {missing}")
    return frame


def frame_of_rows(rows, names, required, what):
    """Rows already split into fields, as a frame named by ``names``; refuses a table without the ``required``
    columns, and a row whose number of fields is not the header's (a row cut short)."""
    refuse_absurd_width(len(names), what)
    missing = [c for c in required if c not in names]
    if missing:
        raise BrokerParseError(f"the {what} has no column(s) {missing}")
    short = sum(len(row) != len(names) for row in rows)
    if short:
        raise BrokerParseError(f"{short} row(s) of the {what} do not have the header's {len(names)} fields "
                               "(cut short?)")
    return pd.DataFrame(rows, columns=names)


def read_json(payload: bytes, what, kind=dict):
    """A JSON answer, refusing one that is not JSON or whose top level is not ``kind``."""
    try:
        document = json.loads(payload.decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise BrokerParseError(f"the {what} is not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(document, kind):
        raise BrokerParseError(f"the {what} is not a JSON {'object' if kind is dict else kind.__name__}")
    return document


def column(rows, name):
    """A column of an answer's rows, or an empty one where this answer has none (an older layout)."""
    return rows[name] if name in rows else pd.Series([""] * len(rows), index=rows.index, dtype=object)


def number(values):
    """Floats from a column of text or JSON numbers; empty cells and nulls are NaN."""
    return pd.to_numeric(values.replace({"": None}), errors="raise").to_numpy(dtype=float)


def require_complete(frame, columns, what):
    """Stripped ``columns`` of ``frame``, refusing a row with an empty cell: a row cut short is an error, not
    a point with missing values."""
    cells = frame[list(columns)].apply(lambda column: column.str.strip())
    incomplete = (cells == "").any(axis=1)
    if incomplete.any():
        raise BrokerParseError(f"{int(incomplete.sum())} row(s) of the {what} have empty fields (cut short?)")
    return cells


def filled(column, fill):
    """A plain numpy array from a (possibly masked) astropy column, masked cells replaced by ``fill``."""
    return np.ma.filled(column, fill) if np.ma.isMaskedArray(column) else np.asarray(column)
