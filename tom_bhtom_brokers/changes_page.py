"""The "Survey changes" page: the targets whose survey data changed in a period, departures first, filtered by
archive, band, size of change and target group (TOM's target lists), only the targets the viewer may see (TOM's
``targets_for_user``), each row with a small light curve of its band's last months, the new points marked.

The small light curves are inline SVG drawn here, not the target page's plotly figure: a page of two hundred
plotly figures takes seconds to draw, an SVG of a few dozen points none. Two queries build the page's rows (the
changes, then the points of the bands shown), whatever the number of rows.
"""
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.db.models import Value
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone

from tom_dataproducts.models import PhotometryReducedDatum
from tom_targets.models import Target, TargetList
from tom_targets.permissions import targets_for_user

from tom_bhtom_brokers.models import SurveyChange

PERIODS = {"1": "last day", "3": "last 3 days", "7": "last week", "30": "last month"}
SORTS = {"departures": ("-departed", "-recorded_at"), "size": ("-departed", "-size"), "newest": ("-recorded_at",),
         "target": ("target__name", "source", "bandpass")}
#: the months a row's small light curve shows, and the most rows a page shows
SPARK_DAYS, MAX_ROWS = 120, 500
SPARK_WIDTH, SPARK_HEIGHT = 160, 36


@dataclass
class Filters:
    days: str = "7"
    source: str = ""
    band: str = ""
    group: str = ""
    min_change: float | None = None
    departed_only: bool = False
    sort: str = "departures"

    @classmethod
    def from_query(cls, query):
        days = query.get("days", "7") if query.get("days", "7") in PERIODS else "7"
        try:
            min_change = float(query["min_change"]) if query.get("min_change") else None
        except ValueError:
            min_change = None
        return cls(days, query.get("source", "")[:100], query.get("band", "")[:100], query.get("group", "")[:20],
                   min_change, query.get("departed") == "1", query.get("sort") if query.get("sort") in SORTS
                   else "departures")


def visible_changes(user, filters, now=None):
    """The change records of the period that the viewer may see, filtered and sorted."""
    since = (now or timezone.now()) - timedelta(days=int(filters.days))
    changes = SurveyChange.objects.filter(recorded_at__gte=since,
                                          target__in=targets_for_user(user, Target.objects.all(), "view_target"))
    if filters.source:
        changes = changes.filter(source=filters.source)
    if filters.band:
        changes = changes.filter(bandpass__icontains=filters.band)
    if filters.group.isdigit():
        changes = changes.filter(target__targetlist__pk=int(filters.group))
    if filters.departed_only:
        changes = changes.filter(departed=True)
    # the size of a change, in the database: the filter and the order apply before the page's row limit
    changes = changes.annotate(size=Abs(Coalesce("difference", Value(0.0))))
    if filters.min_change is not None:
        changes = changes.exclude(difference__isnull=True).filter(size__gte=filters.min_change)
    return list(changes.select_related("target").order_by(*SORTS[filters.sort])[:MAX_ROWS])


def add_sparklines(rows):
    """Each row's ``spark``: an inline SVG of its band over the last ``SPARK_DAYS``, its new points marked."""
    if not rows:
        return
    start = min(row.first_new for row in rows) - timedelta(days=SPARK_DAYS)
    points = PhotometryReducedDatum.objects.filter(target__in={row.target_id for row in rows},
                                                   source_name__in={row.source for row in rows},
                                                   bandpass__in={row.bandpass for row in rows}, timestamp__gte=start)
    series = {}
    for target, source, band, stamp, value, limit in points.values_list(
            "target_id", "source_name", "bandpass", "timestamp", "brightness", "limit").iterator(chunk_size=2000):
        series.setdefault((target, source, band), []).append((stamp, value, limit))
    for row in rows:
        row.spark = sparkline(series.get((row.target_id, row.source, row.bandpass), []), row)


def sparkline(points, row):
    """One small light curve: the band's points from ``SPARK_DAYS`` before the new ones, magnitudes upwards
    brighter, limits as open marks, the new points filled and red."""
    start = row.first_new - timedelta(days=SPARK_DAYS)
    shown = [(stamp, value if value is not None else limit, value is None) for stamp, value, limit in points
             if stamp >= start and (value is not None or limit is not None)]
    if not shown:
        return ""
    seconds = np.array([(stamp - start).total_seconds() for stamp, _, _ in shown])
    values = np.array([value for _, value, _ in shown], dtype=float)
    span_t = max(seconds.max(), 1.0)
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    span_v = (high - low) or 1.0
    upward = -1.0 if row.unit == "mag" else 1.0  # brighter is up
    marks = []
    for (stamp, _, is_limit), t, v in zip(shown, seconds, values):
        x = 3 + (SPARK_WIDTH - 6) * t / span_t
        fraction = (v - low) / span_v
        y = 3 + (SPARK_HEIGHT - 6) * (fraction if upward < 0 else 1 - fraction)
        new = stamp >= row.first_new
        colour = "#d62728" if new else "#6c757d"
        fill = "none" if is_limit else colour
        marks.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{2.6 if new else 1.8}" fill="{fill}" stroke="{colour}"/>')
    return (f'<svg class="bhtom-spark" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" role="img" '
            f'aria-label="last {SPARK_DAYS} days, new points in red">{"".join(marks)}</svg>')


def page_context(user, query):
    filters = Filters.from_query(query)
    rows = visible_changes(user, filters)
    add_sparklines(rows)
    visible = targets_for_user(user, Target.objects.all(), "view_target")
    return {"filters": filters, "rows": rows, "periods": PERIODS,
            "sources": sorted(SurveyChange.objects.filter(target__in=visible).values_list("source", flat=True)
                              .distinct()),
            "groups": TargetList.objects.filter(targets__in=visible).distinct().order_by("name"),
            "targets": len({row.target_id for row in rows}), "departures": sum(row.departed for row in rows),
            "max_rows": MAX_ROWS}
