"""Store a Lightcurve as TOM ``PhotometryReducedDatum`` rows of one (target, source): a sync, not an append.

In one transaction: insert the points that are new, delete the points the archive no longer serves,
and leave the unchanged ones alone, so the same light curve stored twice writes nothing and a new
data release replaces the old one instead of adding near-duplicates. A point is identified by its
bandpass, time, value, error, limit, unit, telescope, instrument, exposure time and extras.

Rows are built column by column and inserted with one parameterised ``executemany`` per batch:
instantiating a Django model per point and ``bulk_create`` cost ~0.2 ms a point, most of a refresh's
CPU time; the statement is built from the model's own table and column names and the database's own
"ignore conflicts" clause, so it stays right on SQLite and PostgreSQL.
"""
import json
import logging
from dataclasses import dataclass
from itertools import repeat

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.constants import OnConflict

from tom_dataproducts.models import PhotometryReducedDatum

from tom_bhtom_brokers.lightcurve import DATUM_COLUMNS, Lightcurve, utc_datetimes
from tom_bhtom_brokers.sources import DataSource, bandpass

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
#: what makes two stored points the same point
KEY_FIELDS = ("bandpass", "timestamp", "brightness", "brightness_error", "limit", "unit", "telescope",
              "instrument", "exposure_time", "value")


@dataclass
class SyncResult:
    added: int = 0
    removed: int = 0
    total: int = 0
    #: points the answer would have removed when it was held back as a sudden shrink (nothing was changed)
    held: int = 0
    #: points the held answer holds
    offered: int = 0
    #: the highest primary key of the pair's points before this sync: the points it added are above it
    previous_max_pk: int = 0


def canonical_json(value):
    return json.dumps(value, sort_keys=True, default=str)


def _finite(value):
    """A per-light-curve extra with any non-finite float as None (valid JSON, storable in jsonb)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _nullable(values):
    """A list of Python objects with NaN/NA as None (the database's NULL), whole-column."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        out = values.astype(object)  # Python floats
        out[~np.isfinite(values)] = None  # NaN and +-inf: JSON has neither, PostgreSQL's jsonb refuses both
        return out.tolist()
    if values.dtype.kind in "iub":
        return values.tolist()
    out = values.astype(object)
    out[pd.isna(out)] = None
    return [v.item() if isinstance(v, np.generic) else v for v in out.tolist()]


def point_columns(source: DataSource, lightcurve: Lightcurve):
    """The lightcurve as database-ready columns (lists), keyed by model field name; ``value`` holds the
    extras as canonical JSON, the form stored points are compared in and the form inserted."""
    frame = lightcurve.frame
    n = len(frame)
    columns = {
        "timestamp": utc_datetimes(frame["mjd"].to_numpy(dtype=float)),
        "bandpass": frame["filter"].map({f: bandpass(source, f) for f in frame["filter"].unique()}).tolist(),
        "unit": frame["unit"].astype(str).tolist(),
    }
    for name in ("brightness", "brightness_error", "limit"):
        columns[name] = _nullable(frame[name].to_numpy())
    for name in DATUM_COLUMNS:
        blank = None if name == "exposure_time" else ""
        values = _nullable(frame[name].to_numpy()) if name in frame else [None] * n
        columns[name] = [blank if v is None else v for v in values]
    columns["value"] = _extras_json(lightcurve, n)
    return columns


def _json_column(values):
    """Each value JSON-encoded; columns of flags repeat a few values, so each distinct one is encoded once, and a
    column of floats is written as ``json`` writes a float (its ``repr``; NaN and infinities as null) without a
    call to ``json.dumps`` per value."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        texts = list(map(float.__repr__, array.astype(float).tolist()))
        for i in np.flatnonzero(~np.isfinite(array)).tolist():
            texts[i] = "null"
        return texts
    values = _nullable(values)
    try:
        distinct = {v: json.dumps(v) for v in set(values)}
    except TypeError:  # unhashable values (lists): encode each
        return [json.dumps(v, default=str) for v in values]
    return [distinct[v] for v in values]


def _extras_json(lightcurve, n):
    """The ``value`` JSON of every point, canonical (sorted keys), assembled from per-column fragments
    instead of a dict and a ``json.dumps`` per point."""
    frame = lightcurve.frame
    per_point = {name: _json_column(frame[name].to_numpy()) for name in lightcurve.extra_columns()}
    common = {k: _finite(v) for k, v in lightcurve.extras.items() if k not in per_point}
    keys = sorted(set(per_point) | set(common))
    fragments = [[f"{json.dumps(k)}: {json.dumps(common[k], sort_keys=True, default=str)}"] * n if k in common
                 else _prefixed(f"{json.dumps(k)}: ", per_point[k]) for k in keys]
    return ["{" + ", ".join(parts) + "}" for parts in zip(*fragments)] if keys else ["{}"] * n


def _prefixed(prefix, texts):
    """Each text with the prefix before it (a key's encoding, done once for its column)."""
    return [prefix + text for text in texts]


def sync(target, source: DataSource, source_name, lightcurve: Lightcurve, columns=None, max_removed=None,
         asked_from_mjd=None, location=""):
    """Make the stored points of (target, source_name) equal to ``lightcurve``; returns the counts. ``columns``: its
    ``point_columns``, if the caller built them already (the updater does, in the fetching thread); ``location``:
    the address the points came from, kept with each point. An empty light curve deletes nothing: an archive
    answering "nothing here" once (a wrong name, a bad day) must not wipe a light curve it served before.
    ``max_removed``: a function of the number of stored points giving by how many points this answer may be smaller
    than what is stored; an answer smaller by more changes nothing (``SyncResult.held``): a cut-short answer looks
    complete to any client, so a sudden shrink is not taken on trust. A light curve asked from a time on
    (``asked_from_mjd``, an incremental refresh) is a sync over that range: only the stored points from that time
    (or from its own first point, if earlier) are compared, so the older ones are not taken as vanished. The caller
    records the answer."""
    existing = PhotometryReducedDatum.objects.filter(target=target, source_name=source_name)
    if not len(lightcurve):
        return SyncResult(total=existing.count())
    columns = columns or point_columns(source, lightcurve)
    new_keys = list(zip(*(columns[f] for f in KEY_FIELDS)))
    compared = existing
    if asked_from_mjd is not None:
        first = min(utc_datetimes([asked_from_mjd])[0], min(columns["timestamp"]))
        compared = existing.filter(timestamp__gte=first)
    with transaction.atomic():
        stored, repeats = stored_keys(compared)
        wanted = {}
        for index, key in enumerate(new_keys):
            wanted.setdefault(key, index)
        gone = [pk for key, pk in stored.items() if key not in wanted] + repeats
        to_insert = [index for key, index in wanted.items() if key not in stored]
        # a shrink is an answer with fewer points than are stored: one that replaces points (a corrected time,
        # a re-calibrated value, a parser fix) is not held, however many it replaces
        vanished = len(gone) - len(repeats)
        if max_removed is not None and vanished and len(stored) - len(wanted) > max_removed(len(stored)):
            return SyncResult(total=len(stored) + len(repeats), held=vanished, offered=len(wanted))
        for start in range(0, len(gone), BATCH_SIZE):
            PhotometryReducedDatum.objects.filter(pk__in=gone[start:start + BATCH_SIZE]).delete()
        previous_max_pk = highest_key(existing, compared, stored, to_insert)
        _insert(target, source_name, location[:200], columns, to_insert)
        total = existing.count()
    return SyncResult(added=len(to_insert), removed=len(gone), total=total, previous_max_pk=previous_max_pk)


def highest_key(existing, compared, stored, to_insert):
    """The pair's highest key before an insert (an incremental sync compares only its recent points): the points
    inserted now are above it (keys only grow), which TOM's sharing and the change records read."""
    if compared is existing or not to_insert:
        return max(stored.values(), default=0)
    return existing.aggregate(highest=Max("pk"))["highest"] or 0


def stored_keys(points):
    """({identity key: pk} of the stored ``points``, the pks of repeats of a key already seen): a duplicate left
    by something else is healed by the sync."""
    stored, repeats = {}, []
    for pk, *row in points.values_list("pk", *KEY_FIELDS).iterator(chunk_size=BATCH_SIZE):
        row[-1] = canonical_json(row[-1])
        key = tuple(row)
        if key in stored:
            repeats.append(pk)
        else:
            stored[key] = pk
    return stored, repeats


INSERT_FIELDS = ("target", "timestamp", "value", "telescope", "instrument", "source_name", "source_location",
                 "reduction_version", "brightness", "brightness_error", "limit", "unit", "bandpass", "exposure_time")


def _insert(target, source_name, location, columns, indices):
    """Insert the chosen rows, ignoring conflicts: a concurrent run that stored the same point first wins,
    and TOM's unique constraints on (target, bandpass, timestamp, brightness|limit, ...) keep the one copy."""
    if not indices:
        return
    meta = PhotometryReducedDatum._meta
    fields = [meta.get_field(name) for name in INSERT_FIELDS]
    ops = connection.ops
    sql = (f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {ops.quote_name(meta.db_table)} "
           f"({', '.join(ops.quote_name(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))}) "
           f"{ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None) or ''}")
    # the backend's own adaptation of an aware datetime, as the field's get_db_prep_save ends in (its checks, for
    # naive or string values, have nothing to do for utc_datetimes' values): the same text on SQLite, so TOM's
    # unique constraints compare like with like
    adapt = connection.ops.adapt_datetimefield_value
    constant = {"target": target.pk, "source_name": source_name, "source_location": location,
                "reduction_version": ""}
    everything = len(indices) == len(columns["timestamp"])  # a first read inserts every row, in order
    chosen = {name: values if everything else [values[i] for i in indices] for name, values in columns.items()}
    chosen["timestamp"] = list(map(adapt, chosen["timestamp"]))
    # "value" is already JSON text, which the column's type (text, jsonb) takes as such; the rows are the columns
    # zipped (the constants repeated), built in C rather than cell by cell
    rows = list(zip(*(repeat(constant[name], len(indices)) if name in constant else chosen[name]
                      for name in INSERT_FIELDS)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[start:start + BATCH_SIZE])
