"""What changed in a refresh: for every (target, archive, band) that gained points, one ``SurveyChange`` record —
how many new points, their dates, and whether they depart from the target's own recent behaviour there.

The rule (defaults in ``DEFAULTS``; a site changes them in ``settings.BHTOM_BROKERS["changes"]``, per archive under
``"sources"``, e.g. ``{"sigma": 3, "sources": {"ZTF": {"min_mag": 0.2}}}``):

* **baseline**: the band's earlier detections (before the first new point) within ``baseline_days`` of it: their
  median and robust scatter (1.4826 x the median absolute deviation); at least ``min_baseline_points`` of them;
* **newest**: the new detections' error-weighted mean and its error;
* **brightened / faded**: ``|newest - baseline| > sigma x sqrt(error^2 + scatter^2)`` and, for magnitudes,
  ``> min_mag``; for fluxes (radio, X-ray, difference fluxes) ``> min_flux_fraction x |baseline|``: a magnitude
  that fell, or a flux that rose, brightened;
* **new detection**: new detections after a baseline window of limits only;
* **no longer detected**: new limits only, where the baseline has detections, and the deepest new limit is fainter
  than the baseline by more than the same margins (a shallow limit says nothing);
* otherwise **new data** (or **first data**, the first points the pair ever stored: no baseline, no departure).

Every record keeps the numbers it was decided on and the rule's settings. A departure sends
``signals.survey_departure`` once the refresh's transaction is committed.
"""
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Count, Max, Min

from tom_dataproducts.models import PhotometryReducedDatum

from tom_bhtom_brokers.app_settings import app_setting
from tom_bhtom_brokers.models import SurveyChange
from tom_bhtom_brokers.signals import survey_departure

DEFAULTS = {"sigma": 3.0, "min_mag": 0.3, "min_flux_fraction": 0.3, "baseline_days": 180, "min_baseline_points": 3}
Kind = SurveyChange.Kind
POINT_FIELDS = ("pk", "timestamp", "bandpass", "brightness", "brightness_error", "limit", "unit")


def rule_for(source_name):
    """The rule's settings for one archive: the defaults, the site's, the site's for that archive."""
    configured = dict(app_setting("changes", {}) or {})
    per_source = dict(configured.pop("sources", {}) or {}).get(source_name, {})
    return {**DEFAULTS, **configured, **per_source}


@dataclass
class BandChange:
    bandpass: str
    unit: str
    new_points: int
    first_new: object
    last_new: object
    kind: str = Kind.NEW_DATA
    departed: bool = False
    baseline: float | None = None
    scatter: float | None = None
    baseline_points: int = 0
    newest: float | None = None
    newest_error: float | None = None
    difference: float | None = None
    significance: float | None = None


def band_change(earlier, new, rule):
    """The change one band's ``new`` points (a frame of ``POINT_FIELDS``) make against its ``earlier`` ones."""
    change = BandChange(new["bandpass"].iloc[0], str(new["unit"].iloc[0]), len(new), new["timestamp"].min(),
                        new["timestamp"].max())
    window = earlier[earlier["timestamp"] >= change.first_new - timedelta(days=float(rule["baseline_days"]))]
    detected = window[window["brightness"].notna()]
    new_detected = new[new["brightness"].notna()]
    if len(detected) == 0:
        if len(window) and len(new_detected):
            change.kind, change.departed = Kind.NEW_DETECTION, True
            weigh(change, new_detected)
        return change
    values = detected["brightness"].to_numpy(dtype=float)
    change.baseline, change.baseline_points = float(np.median(values)), len(values)
    change.scatter = float(1.4826 * np.median(np.abs(values - change.baseline)))
    if len(values) < int(rule["min_baseline_points"]):
        return change
    if len(new_detected):
        weigh(change, new_detected)
        return judged(change, rule, change.newest_error)
    limits = new["limit"].dropna().to_numpy(dtype=float)
    if len(limits) and change.unit == "mag":
        change.newest = float(limits.max())  # the deepest new limit: the star is fainter than this
        judged(change, rule, 0.0)
        if change.kind == Kind.FADED:
            change.kind = Kind.NOT_DETECTED
        elif change.kind == Kind.BRIGHTENED:  # a limit brighter than the star's usual brightness says nothing
            change.kind, change.departed = Kind.NEW_DATA, False
    return change


def weigh(change, detections):
    """The new detections' error-weighted mean and its error (a plain mean where errors are missing)."""
    values = detections["brightness"].to_numpy(dtype=float)
    errors = detections["brightness_error"].to_numpy(dtype=float)
    usable = np.isfinite(errors) & (errors > 0)
    if usable.all():
        weights = 1 / errors ** 2
        change.newest, change.newest_error = float(np.sum(weights * values) / weights.sum()), \
            float(1 / np.sqrt(weights.sum()))
    else:
        change.newest, change.newest_error = float(values.mean()), float("nan")


def judged(change, rule, newest_error):
    """Set kind and departure from newest vs baseline by the rule's margins."""
    change.difference = change.newest - change.baseline
    combined = float(np.hypot(np.nan_to_num(newest_error), change.scatter or 0.0))
    change.significance = abs(change.difference) / combined if combined > 0 else float("inf")
    magnitude = change.unit == "mag"
    minimum = float(rule["min_mag"]) if magnitude else float(rule["min_flux_fraction"]) * abs(change.baseline)
    if change.significance > float(rule["sigma"]) and abs(change.difference) > minimum:
        change.departed = True
        change.kind = Kind.BRIGHTENED if (change.difference < 0) == magnitude else Kind.FADED
    return change


def record_changes(target, source_name, previous_max_pk, now=None):
    """The SurveyChange records of the points a sync just added to (target, source_name) (those above
    ``previous_max_pk``), written; departures signalled after the transaction commits."""
    points = PhotometryReducedDatum.objects.filter(target=target, source_name=source_name)
    rule = rule_for(source_name)
    # nothing stored before this sync (no key to compare with, or none at or below it): a first read
    if not previous_max_pk or not points.filter(pk__lte=previous_max_pk).exists():
        changes = first_data(points.filter(pk__gt=previous_max_pk))
    else:
        changes = band_changes(points, previous_max_pk, rule)
    records = [SurveyChange(target=target, source=source_name, rule=rule, **{
        name: nan_to_none(value) for name, value in vars(change).items()}, **({"recorded_at": now} if now else {}))
        for change in changes]
    SurveyChange.objects.bulk_create(records)
    departures = [record for record in records if record.departed]
    if departures:
        transaction.on_commit(lambda: [survey_departure.send(sender=SurveyChange, change=record, target=target)
                                       for record in departures])
    return records


def first_data(new_points):
    """A first read's changes, one per band: counted in the database (a first read of a long history would
    otherwise read every point it just wrote back, the most of a first refresh's writing time)."""
    bands = new_points.values("bandpass").annotate(n=Count("pk"), unit=Min("unit"), first=Min("timestamp"),
                                                   last=Max("timestamp")).order_by("bandpass")
    return [BandChange(band["bandpass"], str(band["unit"]), band["n"], band["first"], band["last"],
                       kind=Kind.FIRST_DATA) for band in bands]


def band_changes(points, previous_max_pk, rule):
    """Each band's change by the points above ``previous_max_pk`` against the band's earlier ones."""
    new = pd.DataFrame(list(points.filter(pk__gt=previous_max_pk).values(*POINT_FIELDS)), columns=POINT_FIELDS)
    if new.empty:
        return []
    since = new["timestamp"].min() - timedelta(days=float(rule["baseline_days"]))
    earlier = pd.DataFrame(list(points.filter(pk__lte=previous_max_pk, timestamp__gte=since).values(*POINT_FIELDS)),
                           columns=POINT_FIELDS)
    return [band_change(earlier[(earlier["bandpass"] == band) & (earlier["timestamp"] < band_new["timestamp"].min())],
                        band_new, rule) for band, band_new in new.groupby("bandpass")]


def nan_to_none(value):
    return None if isinstance(value, float) and not np.isfinite(value) else value


def changes_since(since):
    """The change records since ``since`` (an aware datetime), departures first, then the newest."""
    return SurveyChange.objects.filter(recorded_at__gte=since).select_related("target") \
        .order_by("-departed", "-recorded_at", "target__name", "source", "bandpass")


def describe(change):
    """One line of a departure, as the command and the digest say it."""
    return f"{change.target.name} · {change.source} {change.bandpass}: {what_moved(change)}"


def what_moved(change):
    """A departure's kind and numbers: ``brightened 15 -> 14.2 (12.0 sigma)``."""
    unit = "" if change.unit == "mag" else f" {change.unit}"
    if change.kind == Kind.NEW_DETECTION:
        return f"{change.get_kind_display()} at {change.newest:.4g}{unit}"
    sigma = f" ({change.significance:.1f} sigma)" if change.significance not in (None, float("inf")) else ""
    return f"{change.get_kind_display()} {change.baseline:.4g} -> {change.newest:.4g}{unit}{sigma}"


def report_lines(since):
    """What changed since ``since``: the departures, one line each, then how many targets got new data."""
    changes = list(changes_since(since))
    departures = [describe(change) for change in changes if change.departed]
    with_data = len({change.target_id for change in changes})
    return departures, with_data


def newest_starts(target):
    """{(source, bandpass): the first new point's time} of each band's latest change record (a pair's first read
    excepted: every point would be new): the target tab marks the points from there on as the newest."""
    starts = {}
    for source, band, first in SurveyChange.objects.filter(target=target).exclude(kind=Kind.FIRST_DATA) \
            .order_by("source", "bandpass", "-recorded_at").values_list("source", "bandpass", "first_new"):
        starts.setdefault((source, band), first)
    return starts


def last_departures(target):
    """{source: [one line per band: its latest departure]} for the target tab's status table."""
    lines = {}
    seen = set()
    for change in SurveyChange.objects.filter(target=target, departed=True) \
            .order_by("source", "bandpass", "-recorded_at"):
        if (change.source, change.bandpass) not in seen:
            seen.add((change.source, change.bandpass))
            lines.setdefault(change.source, []).append(
                f"{change.bandpass}: {what_moved(change)}, {change.last_new:%Y-%m-%d}")
    return lines
