"""The tab's period search (``periods.py`` through its view): the stored magnitudes of a target, astropy's
Lomb–Scargle, the best period recovered within 0.1% of the truth — on a light curve with an injected period and on
a real RR Lyrae star's light curve whose period is published — and a clear refusal of what cannot be searched."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from tom_bhtom_brokers import periods
from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.store import sync

pytestmark = pytest.mark.django_db

#: the real SDSS Stripe 82 light curve of RR Lyrae star 1013184 (tests/data/sdss/PROVENANCE.md)
RR_LYRAE = Path(__file__).parent / "data" / "sdss" / "stripe82_rrlyrae_sesar2010_1013184_light-curve-test-data.csv"
#: its period, from Sesar et al. 2010, ApJ 708, 717, Table 2 (apj326724t2, row 1013184, type ab): not computed here
RR_LYRAE_PERIOD = 0.614318300907


@pytest.fixture
def viewer(client):
    client.force_login(User.objects.create_superuser("astronomer", password="pw"))
    return client


def search(client, target, **params):
    response = client.get(f"/bhtom-brokers/targets/{target.pk}/periods.json", params)
    return response.status_code, response.json()


def injected(period, days=400.0, count=300, seed=7):
    """Two surveys' points of one star varying with ``period`` (non-sinusoidal, different amplitudes and zero points
    per band), at irregular night-time epochs, with noise, plus limits and a radio flux that must be left out."""
    rng = np.random.default_rng(seed)
    t = np.sort(58000 + rng.uniform(0, days, count).round() + rng.uniform(0.1, 0.4, count))
    phase = 2 * np.pi * t / period
    shape = np.sin(phase) + 0.3 * np.sin(2 * phase + 0.5)
    return t, shape, rng


def periodic_target(make_target, name, period, count):
    """A target whose ZTF r points vary with ``period``."""
    t, shape, _ = injected(period, count=count)
    target = make_target(name, 1.0, 1.0)
    sync(target, DataSource.ZTF, "ZTF",
         Lightcurve.from_columns(mjd=t, brightness=15 + shape, brightness_error=0.05, filter="r"))
    return target, t, shape


def test_an_injected_period_is_recovered_within_a_thousandth_across_two_surveys(make_target, viewer):
    period = 0.4321
    t, shape, rng = injected(period)
    target = make_target("injected", 10.0, 20.0)
    half = len(t) // 2
    sync(target, DataSource.ZTF, "ZTF", Lightcurve.from_columns(
        mjd=t[:half], brightness=15.0 + 0.3 * shape[:half] + rng.normal(0, 0.02, half), brightness_error=0.02,
        filter="g"))
    sync(target, DataSource.PS1, "PS1", Lightcurve.from_columns(
        mjd=t[half:], brightness=14.2 + 0.2 * shape[half:] + rng.normal(0, 0.02, len(t) - half),
        brightness_error=0.02, filter="r"))
    # what the search must ignore: limits at a wrong period and FIRST's fluxes
    sync(target, DataSource.ATLAS, "ATLAS", Lightcurve.from_columns(
        mjd=t[:40], limit=18 + np.sin(2 * np.pi * t[:40] / 3.3), filter="o"))
    status, result = search(viewer, target, min_period=0.1, max_period=50)
    assert status == 200, result
    assert result["method"] == "LombScargle per band, summed" and sorted(result["bands"]) == ["g(ZTF)", "r(PS1)"]
    assert result["points"] == len(t)  # the limits are not in it
    assert abs(result["best"][0]["period"] - period) / period < 1e-3
    assert result["false_alarm_level"] is None  # astropy has none for several bands: none is invented

    # one band: astropy's LombScargle, with its 1% false-alarm level, which the true peak clears
    status, single = search(viewer, target, band="g(ZTF)", min_period=0.1, max_period=50)
    assert status == 200 and single["method"] == "LombScargle" and single["points"] == half
    assert abs(single["best"][0]["period"] - period) / period < 1e-3
    assert single["best"][0]["power"] > single["false_alarm_level"] > 0


def test_a_real_rr_lyrae_light_curve_gives_its_published_period(make_target, viewer):
    rows = pd.read_csv(RR_LYRAE)
    target = make_target("RR Lyrae 1013184", 1.0, 0.5)
    sync(target, DataSource.SDSS, "SDSS", Lightcurve.from_columns(
        mjd=rows["time"], brightness=rows["mag"], brightness_error=rows["magerr"], filter=rows["band"].to_numpy()))
    for params in ({}, {"band": "r(SDSS)"}):  # the five bands together, and r alone
        status, result = search(viewer, target, min_period=0.1, max_period=100, **params)
        assert status == 200, result
        assert abs(result["best"][0]["period"] - RR_LYRAE_PERIOD) / RR_LYRAE_PERIOD < 1e-3, result["best"][:2]
    assert len(result["periodogram"]["frequency"]) <= periods.PLOT_POINTS


def test_the_same_points_are_searched_once(make_target, viewer, monkeypatch):
    target, t, shape = periodic_target(make_target, "cached", 1.7, 60)
    cache.clear()
    calls = []
    real = periods._search
    monkeypatch.setattr(periods, "_search", lambda *a: calls.append(1) or real(*a))
    first = search(viewer, target, max_period=20)
    assert search(viewer, target, max_period=20) == first and len(calls) == 1
    # a new point changes the fingerprint: searched again
    sync(target, DataSource.ZTF, "ZTF", Lightcurve.from_columns(
        mjd=np.append(t, t[-1] + 3), brightness=np.append(15 + shape, 15.2), brightness_error=0.05, filter="r"))
    search(viewer, target, max_period=20)
    assert len(calls) == 2


@pytest.mark.parametrize("params, reason", [
    ({"min_period": "5", "max_period": "1"}, "below the longest"),
    ({"min_period": "abc"}, "numbers of days"),
    ({"min_period": "nan"}, "numbers of days"),
    ({"min_period": "0.0001"}, "at least 0.01"),
    ({"band": "V(AAVSO)"}, "needs at least 10"),
])
def test_what_cannot_be_searched_is_refused_with_the_reason(make_target, viewer, params, reason):
    target, _, _ = periodic_target(make_target, "refusals", 1.0, 50)
    status, body = search(viewer, target, **params)
    assert status == 400 and reason in body["error"]


def test_a_private_targets_points_are_not_searched_for_strangers(make_target, client):
    target = make_target("private", 1.0, 1.0)
    target.permissions = "PRIVATE"
    target.save()
    client.force_login(User.objects.create_user("stranger", password="pw"))
    response = client.get(f"/bhtom-brokers/targets/{target.pk}/periods.json")
    assert response.status_code in (302, 403, 404)


def test_anonymous_viewers_of_an_open_target_see_no_period_search(make_target, client):
    target = make_target("open", 1.0, 1.0)
    target.permissions = "OPEN"
    target.save()
    sync(target, DataSource.ZTF, "ZTF",
         Lightcurve.from_columns(mjd=[58000.0, 58001.0], brightness=[15.0, 15.1], brightness_error=0.05, filter="r"))
    page = client.get(f"/targets/{target.pk}/").content.decode()
    assert "bhtom-lightcurve-plot" in page and "bhtom-period-panel" not in page  # the figure, not the search
    response = client.get(f"/bhtom-brokers/targets/{target.pk}/periods.json")
    # a 403, which TOM's Raise403Middleware turns into its login page
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_searches_beyond_the_processs_slots_are_asked_to_come_back(make_target, viewer, monkeypatch):
    import threading

    target, _, _ = periodic_target(make_target, "busy", 1.3, 40)
    cache.clear()
    monkeypatch.setattr(periods, "_running", threading.BoundedSemaphore(1))
    monkeypatch.setattr(periods, "BUSY_WAIT_SECONDS", 0.1)
    periods._running.acquire()  # another search holds the only slot
    response = viewer.get(f"/bhtom-brokers/targets/{target.pk}/periods.json", {"max_period": 10})
    assert response.status_code == 429 and response["Retry-After"] == "5"
    periods._running.release()
    assert viewer.get(f"/bhtom-brokers/targets/{target.pk}/periods.json", {"max_period": 10}).status_code == 200


def test_a_band_of_one_point_is_left_out_and_no_result_is_a_grid_edge_or_not_finite(make_target, viewer):
    """The issue's target: many bands, one of them a single point. astropy's multiband method gave NaN at every
    frequency with it (turned into 0, so three of five "best periods" were the grid's edge)."""
    period = 0.4321
    t, shape, rng = injected(period)
    target = make_target("many bands", 10.0, 20.0)
    half = len(t) // 2
    sync(target, DataSource.ZTF, "ZTF", Lightcurve.from_columns(
        mjd=np.concatenate([t[:half], t[half:half + 1]]), brightness=np.concatenate(
            [15.0 + 0.3 * shape[:half] + rng.normal(0, 0.02, half), [15.2]]), brightness_error=0.02,
        filter=np.array(["r"] * half + ["g"], dtype=object)))
    sync(target, DataSource.GAIA_ALERTS, "Gaia Alerts", Lightcurve.from_columns(
        mjd=t[half:], brightness=14.0 + 0.5 * shape[half:] + rng.normal(0, 0.02, len(t) - half),
        brightness_error=0.02, filter="G"))
    status, result = search(viewer, target, band=["r(ZTF)", "g(ZTF)", "G(Gaia Alerts)"])
    assert status == 200, result
    assert result["left_out_bands"] == {"g(ZTF)": 1} and "g(ZTF)" not in result["bands"]
    powers = np.array(result["periodogram"]["power"], dtype=float)
    assert np.isfinite(powers).all() and len(powers) > 100
    low, high = 1 / 100.0, 1 / 0.1  # the view's default period range
    for peak in result["best"]:
        assert np.isfinite(peak["power"]) and 0 <= peak["power"] <= 1
        assert low * 1.001 < 1 / peak["period"] < high * 0.999  # never the grid's edge
    assert abs(result["best"][0]["period"] - period) / period < 1e-3


def test_several_bands_sum_to_astropys_exact_multiband_power_of_independent_bands():
    """SummedBands against astropy's own exact (``flexible``) multiband periodogram of the model it computes: each
    band its own mean, amplitude and phase (nterms_base=0, nterms_band=1)."""
    from astropy.timeseries import LombScargleMultiband

    t, shape, rng = injected(0.4321, count=120)
    band = np.array(["g", "r", "i"] * 40)
    y = 15.0 + np.select([band == "g", band == "r"], [0.5, 0.3], 0.2) * shape + rng.normal(0, 0.02, len(t)) \
        + np.select([band == "g", band == "r"], [0.0, 0.7], 1.1)
    dy = rng.uniform(0.01, 0.05, len(t))
    frequency = np.linspace(0.05, 5.0, 40)
    exact = LombScargleMultiband(t, y, band, dy, nterms_base=0, nterms_band=1).power(frequency, method="flexible")
    summed = periods.SummedBands(t, y, dy, band).power(frequency, method="cython")
    assert summed == pytest.approx(exact, abs=1e-4)  # astropy's two solvers agree to ~1e-5
    assert ((summed >= 0) & (summed <= 1)).all()


def test_a_band_of_a_handful_of_points_has_powers_within_zero_and_one(monkeypatch):
    """astropy's fast method gave powers from -226 to 64 for a band of six epochs (a SkyMapper band) summed with
    another: such a band is computed exactly; with the fast method forced the same search goes out of [0, 1]."""
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(56728, 57300, 6))
    few = pd.DataFrame({"mjd": t, "brightness": 14 + rng.normal(0, 0.5, 6), "brightness_error": 0.015,
                        "bandpass": "g(SkyMapper)", "limit": np.nan, "unit": "mag"})
    many_t = np.sort(rng.uniform(56728, 57300, 300))
    many = pd.DataFrame({"mjd": many_t, "brightness": 15 + 0.05 * np.sin(2 * np.pi * many_t / 0.7),
                         "brightness_error": 0.02, "bandpass": "r(ZTF)", "limit": np.nan, "unit": "mag"})
    frame = pd.concat([few, many], ignore_index=True)

    def powers():
        cache.clear()
        return periods.search(frame, minimum_period=0.2, maximum_period=50)["periodogram"]["power"]

    assert 0 <= min(powers()) and max(powers()) <= 1.0001
    monkeypatch.setattr(periods, "FAST_FROM_POINTS", 0)
    assert min(powers()) < 0 or max(powers()) > 1.0001
