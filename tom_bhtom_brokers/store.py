"""Store a Lightcurve as TOM ``PhotometryReducedDatum`` rows of one (target, source): a sync, not an append.

In one transaction: insert the points that are new, delete the points the archive no longer serves,
and leave the unchanged ones alone, so the same light curve stored twice writes nothing and a new
data release replaces the old one instead of adding near-duplicates. A point is identified by its
bandpass, time, value, error, limit, unit, telescope, instrument, exposure time and extras.
"""
import json
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db import transaction

from tom_dataproducts.models import PhotometryReducedDatum

from tom_bhtom_brokers.lightcurve import DATUM_COLUMNS, Lightcurve, utc_datetimes
from tom_bhtom_brokers.sources import DataSource, bandpass

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
KEY_FIELDS = ("bandpass", "timestamp", "brightness", "brightness_error", "limit", "unit", "telescope",
              "instrument", "exposure_time", "value")


@dataclass
class SyncResult:
    added: int = 0
    removed: int = 0
    total: int = 0
    created: list = field(default_factory=list)


def _key(row):
    *fields, value = row
    return (*fields, json.dumps(value, sort_keys=True, default=str))


def _none_if_nan(values):
    """Object array with NaN/NA replaced by None (the database's NULL)."""
    series = pd.Series(values, dtype=object)
    return series.where(pd.notna(series), None).to_numpy(dtype=object)


def build_datums(target, source: DataSource, source_name, lightcurve: Lightcurve, source_location=""):
    """Unsaved ``PhotometryReducedDatum`` objects for every point, built column by column."""
    frame = lightcurve.frame
    n = len(frame)
    if n == 0:
        return []
    timestamps = utc_datetimes(frame["mjd"].to_numpy(dtype=float))
    bandpasses = frame["filter"].map({f: bandpass(source, f) for f in frame["filter"].unique()}).to_numpy()
    columns = {name: _none_if_nan(frame[name].to_numpy()) for name in ("brightness", "brightness_error", "limit")}
    optional = {name: (_none_if_nan(frame[name].to_numpy()) if name in frame else np.full(n, None, dtype=object))
                for name in DATUM_COLUMNS}
    extra_names = lightcurve.extra_columns()
    extras = frame[extra_names].astype(object).where(frame[extra_names].notna(), None).to_dict("records") \
        if extra_names else [{} for _ in range(n)]
    common = lightcurve.extras
    location = (source_location or lightcurve.url or "")[:200]
    return [
        PhotometryReducedDatum(
            target=target, source_name=source_name, source_location=location, timestamp=timestamps[i],
            bandpass=bandpasses[i], brightness=columns["brightness"][i],
            brightness_error=columns["brightness_error"][i], limit=columns["limit"][i],
            unit=str(frame["unit"].iat[i]), telescope=optional["telescope"][i] or "",
            instrument=optional["instrument"][i] or "", exposure_time=optional["exposure_time"][i],
            value={**common, **_plain(extras[i])},
        )
        for i in range(n)
    ]


def _plain(record):
    """JSON-ready extras: numpy scalars to Python numbers."""
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in record.items()}


def sync(target, source: DataSource, source_name, lightcurve: Lightcurve, source_location=""):
    """Make the stored points of (target, source_name) equal to ``lightcurve``; returns the counts.

    An empty light curve deletes nothing: an archive answering "nothing here" once (a wrong name, a
    bad day) must not wipe a light curve it served before. The caller records the answer.
    """
    new = build_datums(target, source, source_name, lightcurve, source_location)
    with transaction.atomic():
        existing = PhotometryReducedDatum.objects.filter(target=target, source_name=source_name)
        if not new:
            return SyncResult(total=existing.count())
        stored = {}
        repeats = []
        for pk, *row in existing.values_list("pk", *KEY_FIELDS).iterator(chunk_size=BATCH_SIZE):
            key = _key(row)
            if key in stored:
                repeats.append(pk)  # a duplicate left by something else: heal it
            else:
                stored[key] = pk
        wanted = {}
        for datum in new:
            wanted.setdefault(_key([getattr(datum, f) for f in KEY_FIELDS]), datum)
        gone = [pk for key, pk in stored.items() if key not in wanted] + repeats
        to_insert = [datum for key, datum in wanted.items() if key not in stored]
        for start in range(0, len(gone), BATCH_SIZE):
            PhotometryReducedDatum.objects.filter(pk__in=gone[start:start + BATCH_SIZE]).delete()
        # ignore_conflicts: a concurrent run that stored the same point first wins; TOM's unique
        # constraints on (target, bandpass, timestamp, brightness|limit, ...) keep the one copy.
        created = PhotometryReducedDatum.objects.bulk_create(to_insert, batch_size=BATCH_SIZE,
                                                             ignore_conflicts=True)
        total = existing.count()
    return SyncResult(added=len(to_insert), removed=len(gone), total=total, created=created)
