import logging

import numpy as np
import pytest

from tom_dataproducts.models import PhotometryReducedDatum

from tom_bhtom_brokers.lightcurve import Lightcurve, utc_mjd
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.store import sync

SOURCE = DataSource.NEOWISE


def curve(mjd, mag, filters=None, **extra):
    mjd = np.asarray(mjd, dtype=float)
    return Lightcurve.from_columns(mjd=mjd, brightness=mag, brightness_error=np.full(len(mjd), 0.02),
                                   filter=filters if filters is not None else "W1", unit="mag", **extra)


def points(target):
    return PhotometryReducedDatum.objects.filter(target=target, source_name="NEOWISE")


@pytest.fixture
def target(make_target):
    return make_target("star", 10.0, 20.0)


def test_sync_inserts_then_writes_nothing_the_second_time(target):
    lc = curve([59000.1, 59000.2, 59000.3], [10.1, 10.2, 10.3])
    first = sync(target, SOURCE, "NEOWISE", lc)
    ids = sorted(points(target).values_list("pk", flat=True))
    second = sync(target, SOURCE, "NEOWISE", lc)
    assert (first.added, first.total) == (3, 3)
    assert (second.added, second.removed, second.total) == (0, 0, 3)
    assert sorted(points(target).values_list("pk", flat=True)) == ids


def test_a_new_release_replaces_changed_and_vanished_points(target):
    sync(target, SOURCE, "NEOWISE", curve([59000.1, 59000.2, 59000.3], [10.1, 10.2, 10.3]))
    kept = points(target).get(brightness=10.1).pk
    result = sync(target, SOURCE, "NEOWISE", curve([59000.1, 59000.2, 59000.4], [10.1, 10.25, 10.4]))
    assert (result.added, result.removed, result.total) == (2, 2, 3)
    assert sorted(points(target).values_list("brightness", flat=True)) == [10.1, 10.25, 10.4]
    assert points(target).get(brightness=10.1).pk == kept


def test_an_empty_answer_deletes_nothing(target):
    sync(target, SOURCE, "NEOWISE", curve([59000.1], [10.1]))
    assert sync(target, SOURCE, "NEOWISE", Lightcurve.empty()).total == 1
    assert points(target).count() == 1


def test_other_sources_points_are_never_touched(target):
    PhotometryReducedDatum.objects.create(target=target, source_name="my telescope", bandpass="V",
                                          brightness=12.0, timestamp="2020-01-01T00:00:00Z")
    sync(target, SOURCE, "NEOWISE", curve([59000.1], [10.1]))
    sync(target, SOURCE, "NEOWISE", curve([59000.2], [10.2]))
    assert PhotometryReducedDatum.objects.filter(target=target, source_name="my telescope").count() == 1


def test_duplicates_in_the_answer_and_in_the_database_end_as_one(target):
    sync(target, SOURCE, "NEOWISE", curve([59000.1, 59000.1], [10.1, 10.1]).cleaned(SOURCE))
    assert points(target).count() == 1
    stray = points(target).get()
    stray.pk = None
    stray.reduction_version = "copy"  # slips past TOM's unique constraint, as a hand edit would
    stray.save()
    result = sync(target, SOURCE, "NEOWISE", curve([59000.1], [10.1]))
    assert result.removed == 1 and points(target).count() == 1


def test_unknown_filters_are_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        cleaned = curve([1.0, 2.0], [10.0, 11.0], filters=np.array(["W1", "W9"], dtype=object)).cleaned(SOURCE)
    assert list(cleaned.frame["filter"]) == ["W1"]
    assert "W9" in caplog.text


def test_extras_and_limits_are_stored(target):
    lc = Lightcurve.from_columns(mjd=[59000.1, 59000.2], brightness=[10.0, np.nan], brightness_error=[0.1, np.nan],
                                 limit=[np.nan, 15.5], filter="W2", unit="mag", flag=np.array([3, 0]),
                                 extras={"magnitude_system": "Vega"})
    sync(target, SOURCE, "NEOWISE", lc)
    detection, limit = points(target).order_by("timestamp")
    assert detection.value == {"magnitude_system": "Vega", "flag": 3}
    assert (limit.brightness, limit.limit, limit.bandpass) == (None, 15.5, "W2(NEOWISE)")


def test_time_conversions_to_utc():
    # TAI is 37 s ahead of UTC since 2017
    assert np.isclose(utc_mjd([60000.0], scale="tai")[0], 60000.0 - 37 / 86400, atol=1e-9)
    assert np.isclose(utc_mjd([2460000.5], format="jd")[0], 60000.0)


def test_utc_datetimes_match_astropy_including_leap_second_days():
    from astropy.time import Time

    from tom_bhtom_brokers.lightcurve import utc_datetimes

    mjd = np.array([57753.5, 57753.999999, 57754.0, 60000.123456789, 51544.5])
    stamps = utc_datetimes(mjd)
    ordinary = Time(mjd[[0, 2, 3, 4]], format="mjd", scale="utc").to_datetime()
    # 2016-12-31 ends with a leap second: astropy's day has 86401 s, so noon is 12:00:00.5
    assert stamps[0].isoformat() == "2016-12-31T12:00:00.500000+00:00"
    for ours, theirs in zip((stamps[2], stamps[3], stamps[4]), ordinary[1:]):
        assert abs((ours.replace(tzinfo=None) - theirs).total_seconds()) <= 1e-6
    assert stamps[1].isoformat() == "2016-12-31T23:59:59.999999+00:00"  # inside 23:59:60: end of its day


@pytest.mark.django_db
def test_a_shrink_is_held_but_replaced_points_are_not_a_shrink(make_target):
    """The guard is against fewer points (a cut answer), not changed ones (corrected times after an upgrade)."""
    target = make_target("guarded", 1.0, 1.0)
    full = Lightcurve.from_columns(mjd=[59000.0 + i for i in range(10)], filter="W1", brightness=[12.0] * 10,
                                   brightness_error=[0.02] * 10)
    sync(target, DataSource.NEOWISE, "NEOWISE", full)
    never = lambda n: 0  # noqa: E731 - a release read once: no shrink allowed
    shifted = Lightcurve.from_columns(mjd=[59000.0004 + i for i in range(10)], filter="W1", brightness=[12.0] * 10,
                                      brightness_error=[0.02] * 10)
    replaced = sync(target, DataSource.NEOWISE, "NEOWISE", shifted, max_removed=never)
    assert (replaced.held, replaced.added, replaced.removed, replaced.total) == (0, 10, 10, 10)
    cut = Lightcurve.from_columns(mjd=[59000.0004 + i for i in range(4)], filter="W1", brightness=[12.0] * 4,
                                  brightness_error=[0.02] * 4)
    held = sync(target, DataSource.NEOWISE, "NEOWISE", cut, max_removed=never)
    assert (held.held, held.offered, held.added, held.removed, held.total) == (6, 4, 0, 0, 10)
