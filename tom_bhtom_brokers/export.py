"""A target's merged survey light curve, read once from the database, shaped for the plot and the download.

One query reads every stored point of every survey source (``sources.SURVEYS``) for the target;
:func:`plot_payload` turns it into one compact JSON document (columns, plus a small table of traces
and of distinct hover notes, so 100,000 points cost one request and a few MB), and :func:`table`
into the rows of the CSV/ECSV download.
"""
import html
import json

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.table import MaskedColumn, Table

from tom_dataproducts.models import PhotometryReducedDatum

from tom_bhtom_brokers.lightcurve import UNIX_EPOCH_MJD
from tom_bhtom_brokers.photometry import DIFFERENCE_KINDS
from tom_bhtom_brokers.plot_style import LIMIT_SYMBOL, SURVEY_SYMBOLS, colours
from tom_bhtom_brokers.sources import SURVEYS

SURVEY_NAMES = [survey.name for survey in SURVEYS]
FIELDS = ("source_name", "bandpass", "timestamp", "brightness", "brightness_error", "limit", "unit", "telescope",
          "value")
#: per-point extras worth showing on hover, per survey (its record's ``hover``)
HOVER_KEYS = {survey.name: survey.hover for survey in SURVEYS}


def survey_points(target) -> pd.DataFrame:
    """Every stored survey point of the target (one query), sorted by time, with the UTC MJD."""
    rows = list(PhotometryReducedDatum.objects.filter(target=target, source_name__in=SURVEY_NAMES)
                .order_by("timestamp").values_list(*FIELDS))
    frame = pd.DataFrame(rows, columns=FIELDS)
    for name in ("brightness", "brightness_error", "limit"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["mjd"] = (frame["timestamp"] - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds() / 86400 \
        + UNIX_EPOCH_MJD
    frame["value"] = [v if isinstance(v, dict) else (json.loads(v) if v else {}) for v in frame["value"]]
    return frame


def _none_for_nan(values, digits):
    """Rounded floats, with NaN and +-inf as None: the figure's JSON must parse in a browser whatever is stored."""
    rounded = np.round(np.asarray(values, dtype=float), digits)
    return [float(v) if np.isfinite(v) else None for v in rounded]


def plot_payload(frame: pd.DataFrame) -> dict:
    """The figure's data: one trace per (survey, bandpass, detection/limit, unit), all points as columns.

    ``traces[k]`` describes trace k (survey, bandpass, colour, symbol, whether it holds limits, whether it is a
    flux to draw in the lower panel); ``points`` holds columns ``mjd``, ``y`` (magnitude, flux or limit),
    ``error``, ``trace`` (index into ``traces``) and ``note`` (index into ``notes``, the distinct hover texts).
    """
    if not len(frame):
        return {"traces": [], "notes": [], "points": {"mjd": [], "y": [], "error": [], "trace": [], "note": []}}
    is_limit = frame["brightness"].isna() & frame["limit"].notna()
    unit = frame["unit"].fillna("mag").replace("", "mag")
    # forced photometry (LSST, ALeRCE) is its own trace, drawn with the survey's marker open; a difference flux (or
    # a limit on the change) of an alert broker is its own trace in the flux panel, named so
    forced = np.array([extras.get("kind") == "forced" for extras in frame["value"]], dtype=bool)
    difference = np.array([extras.get("magnitude_kind") in DIFFERENCE_KINDS for extras in frame["value"]], dtype=bool)
    keys = pd.DataFrame({"source": frame["source_name"], "bandpass": frame["bandpass"], "limit": is_limit,
                         "unit": unit, "forced": forced, "difference": difference})
    trace_keys = keys.drop_duplicates().sort_values(["source", "bandpass", "difference", "forced", "limit"]) \
        .reset_index(drop=True)
    trace_index = keys.merge(trace_keys.reset_index(), on=list(keys.columns), how="left")["index"].to_numpy()
    colour = colours(zip(trace_keys["source"], trace_keys["bandpass"]))
    traces = [trace_of(row, colour) for row in trace_keys.itertuples()]
    notes, note_index = hover_notes(frame)
    # one flux axis: every flux drawn in mJy (radio in mJy, alert brokers' differences in uJy or nJy)
    scale = unit.map({name: to_mjy(name) for name in unit.unique()}).to_numpy(dtype=float)
    y = frame["brightness"].where(~is_limit, frame["limit"]).to_numpy(dtype=float) * scale
    error = frame["brightness_error"].to_numpy(dtype=float) * scale
    return {
        "traces": traces,
        "notes": notes,
        "points": {"mjd": _none_for_nan(frame["mjd"], 6), "y": _significant(y),
                   "error": _significant(error),
                   "trace": trace_index.astype(int).tolist(), "note": note_index},
    }


def newest_points(frame, starts):
    """The indices (into the payload's points) of the newest points: those of a band at or after the first new
    point of its latest change record (``changes.newest_starts``)."""
    if not starts or not len(frame):
        return []
    first = pd.Series([starts.get((source, band)) for source, band in zip(frame["source_name"], frame["bandpass"])],
                      index=frame.index)
    known = first.notna()
    newest = pd.Series(False, index=frame.index)
    newest[known] = frame.loc[known, "timestamp"] >= pd.to_datetime(first[known], utc=True)
    return np.flatnonzero(newest.to_numpy()).tolist()


def trace_of(row, colour):
    """What the figure needs to draw one trace (a row of the distinct trace keys)."""
    marker = SURVEY_SYMBOLS.get(row.source, "circle")
    return {"source": row.source, "bandpass": row.bandpass, "unit": drawn_unit(row.unit), "limit": bool(row.limit),
            "flux": row.unit != "mag", "colour": colour[row.source, row.bandpass], "forced": bool(row.forced),
            "difference": bool(row.difference),
            "symbol": LIMIT_SYMBOL if row.limit else open_symbol(marker) if row.forced else marker}


def hover_notes(frame):
    """(the distinct hover texts, each point's index into them): the telescope and the survey's hover extras."""
    notes, note_index = {"": 0}, []
    for source, telescope, extras in zip(frame["source_name"], frame["telescope"], frame["value"]):
        parts = [f"{key}={extras[key]}" for key in HOVER_KEYS.get(source, ()) if extras.get(key) not in (None, "", 0)]
        if telescope:
            parts.insert(0, str(telescope))
        # hover labels are rendered as (plotly's subset of) HTML: archive-supplied text is escaped
        text = html.escape(", ".join(parts), quote=False)  # plotly shows &quot; as it is
        note_index.append(notes.setdefault(text, len(notes)))
    return list(notes), note_index


def to_mjy(unit):
    """The factor from ``unit`` to the figure's flux unit, mJy (1 for a magnitude or a unit astropy does not know,
    which is then drawn as stored)."""
    if unit == "mag":
        return 1.0
    try:
        return u.Unit(unit).to(u.mJy)
    except (ValueError, TypeError, u.UnitConversionError):
        return 1.0


def drawn_unit(unit):
    """The unit a trace of ``unit`` is drawn in (``to_mjy``)."""
    return unit if unit == "mag" or to_mjy(unit) == 1.0 else "mJy"


def _significant(values):
    """Magnitudes to 4 decimals; small fluxes (a difference of a few uJy, in mJy) to 6 significant figures."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        digits = np.where(np.isfinite(values) & (np.abs(values) > 0),
                          np.clip(5 - np.floor(np.log10(np.abs(values))), 4, 15), 4).astype(int)
    factor = 10.0 ** digits
    rounded = np.round(values * factor) / factor
    return [float(v) if np.isfinite(v) else None for v in rounded]


def open_symbol(symbol):
    """The open (or, for an open marker already, open-dotted) variant of a plotly marker."""
    return f"{symbol}-dot" if symbol.endswith("-open") else f"{symbol}-open"


DOWNLOAD_COLUMNS = ("source", "bandpass", "time_utc", "mjd", "time_original", "time_system", "value", "error",
                    "limit", "unit", "telescope", "extras")


def table(frame: pd.DataFrame) -> Table:
    """One row per point: source, bandpass, UTC time, MJD, the archive's own time and its system, value, error,
    limit, unit, telescope and the remaining extras (JSON)."""
    extras = frame["value"] if len(frame) else pd.Series(dtype=object)
    original = [e.get("time_original") for e in extras]
    return Table({
        # text columns as numpy strings: object columns would be written as JSON in the ECSV ("""FIRST""")
        "source": frame["source_name"].to_numpy(dtype=str),
        "bandpass": frame["bandpass"].to_numpy(dtype=str),
        "time_utc": frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").to_numpy(dtype=str),
        "mjd": frame["mjd"].to_numpy(dtype=float),
        "time_original": np.array([np.nan if v is None else float(v) for v in original], dtype=float),
        "time_system": np.array([str(e.get("time_system", "")) for e in extras], dtype=str),
        "value": frame["brightness"].to_numpy(dtype=float),
        "error": frame["brightness_error"].to_numpy(dtype=float),
        "limit": frame["limit"].to_numpy(dtype=float),
        "unit": frame["unit"].fillna("").to_numpy(dtype=str),
        "telescope": frame["telescope"].fillna("").to_numpy(dtype=str),
        "extras": np.array([json.dumps({k: v for k, v in e.items() if k not in ("time_original", "time_system")},
                                       sort_keys=True, default=str) for e in extras], dtype=str),
    }, names=DOWNLOAD_COLUMNS)


#: what makes a spreadsheet read a cell as a formula (OWASP, "CSV injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(rows: Table) -> Table:
    """A copy of the download table for spreadsheets: no value (a missing limit, error or original time) is an
    empty cell, not the text ``nan``; and text cells cannot run as formulas: a cell starting with ``= + - @``,
    tab or CR gets a leading apostrophe (OWASP's rule). Numeric columns stay numbers; the ECSV download does not
    use this, so its data stay exact."""
    safe = rows.copy()
    for name in safe.colnames:
        column = safe[name]
        if column.dtype.kind == "f":
            missing = np.isnan(np.asarray(column, dtype=float))
            if missing.any():  # a masked cell is written empty
                safe[name] = MaskedColumn(column, mask=missing)
            continue
        if column.dtype.kind not in "USO":  # text (object columns hold the archive's strings too)
            continue
        values = np.asarray(column, dtype=str)
        risky = np.char.startswith(values, FORMULA_START[0])
        for start in FORMULA_START[1:]:
            risky |= np.char.startswith(values, start)
        if risky.any():
            safe[name] = np.where(risky, np.char.add("'", values), values)
    return safe
