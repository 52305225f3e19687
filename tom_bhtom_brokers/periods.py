"""A period search over a target's stored survey magnitudes: astropy's Lomb–Scargle periodogram.

One band (one survey's bandpass) is searched with ``LombScargle`` (floating mean, the points' errors as weights),
which also gives the power a peak needs for a 1% false-alarm probability (Baluev's approximation). Several are
searched together (``SummedBands``): each band its own floating-mean sinusoid, so two surveys' zero points, a
star's colour and its amplitude per band do not blur the period, and the power is the share of the bands' total
chi-square the fits remove — exact and within [0, 1] at every frequency from astropy's fast single-band method
(astropy's ``LombScargleMultiband`` fast approximation gave powers from -1000 to 144 on the demo's richest target,
and its exact method is a thousand times slower). No false-alarm level is given for several bands. Bands of
fewer than ``MINIMUM_BAND_POINTS`` are left out and said. Limits and fluxes are left out.

The frequency grid runs from 1/longest to 1/shortest period at five samples per peak, thinned to at most
``MAX_FREQUENCIES`` (the sampling actually used is returned), and searched with astropy's fast methods; the best
peaks are then refined on a fine grid around each, so a period is found to a small fraction of its peak's width,
and ranked by their exact power. Results are cached by the points' and the
parameters' fingerprint: the same light curve is never searched twice.
"""
import hashlib
import threading

import numpy as np
from astropy.timeseries import LombScargle
from django.core.cache import cache

from tom_bhtom_brokers import __version__

MAX_FREQUENCIES = 200_000
SAMPLES_PER_PEAK = 5
#: the periodogram sent to the browser: at most this many (frequency, power) pairs, each the highest of its bin
PLOT_POINTS = 4000
BEST = 5
FALSE_ALARM_PROBABILITY = 0.01
MINIMUM_POINTS = 10
#: a band with fewer points cannot fit its own mean and a sinusoid (astropy's multiband method then returns NaN at
#: every frequency): it is left out of the search, and the result says so
MINIMUM_BAND_POINTS = 5
#: the shortest period one may ask for (about 15 minutes): shorter would ask for millions of frequencies
MIN_PERIOD_DAYS = 0.01
CACHE_SECONDS = 24 * 3600
#: searches one process runs at once; more wait their turn for BUSY_WAIT_SECONDS, then are refused
CONCURRENT_SEARCHES = 2
BUSY_WAIT_SECONDS = 10
_running = threading.BoundedSemaphore(CONCURRENT_SEARCHES)


class PeriodSearchError(ValueError):
    """The search cannot run on what was asked (too few points, a wrong range): said to the user as it is."""


class PeriodSearchBusy(RuntimeError):
    """Every search slot of this process stayed taken: try again in a moment."""


def magnitudes(frame, bands=None):
    """The detections in magnitudes (no limits, no fluxes) in the chosen stored bandpasses (all when None; a
    bandpass names its survey too: 'r(ZTF)'), as arrays t (UTC MJD), y, dy and band."""
    keep = frame["brightness"].notna() & frame["unit"].fillna("mag").isin(["mag", ""])
    if bands is not None:
        keep &= frame["bandpass"].isin(list(bands))
    chosen = frame[keep]
    error = chosen["brightness_error"].to_numpy(dtype=float)
    # a point without an error gets the median error of the chosen points (astropy weighs every point by one)
    median = np.nanmedian(error) if np.isfinite(error).any() else 0.05
    error = np.where(np.isfinite(error) & (error > 0), error, median)
    return (chosen["mjd"].to_numpy(dtype=float), chosen["brightness"].to_numpy(dtype=float), error,
            chosen["bandpass"].astype(str).to_numpy())


def frequency_grid(baseline, minimum_period, maximum_period):
    """Frequencies (1/d) from 1/maximum_period to 1/minimum_period, SAMPLES_PER_PEAK per peak width
    (1/baseline), thinned to MAX_FREQUENCIES; and the samples per peak actually used."""
    low, high = 1 / maximum_period, 1 / minimum_period
    samples = SAMPLES_PER_PEAK
    count = int(np.ceil((high - low) * baseline * samples)) + 1
    if count > MAX_FREQUENCIES:
        samples = samples * MAX_FREQUENCIES / count
        count = MAX_FREQUENCIES
    return np.linspace(low, high, max(count, 2)), samples


def distinct_peaks(frequency, power, count, width):
    """Indices of the ``count`` highest peaks at least ``width`` apart in frequency: local maxima inside the grid
    with a finite power (a grid edge is where the search stopped, not a period)."""
    inside = np.zeros(len(power), dtype=bool)
    inside[1:-1] = (power[1:-1] >= power[:-2]) & (power[1:-1] >= power[2:])
    candidates = np.flatnonzero(inside & np.isfinite(power))
    chosen = []
    for index in candidates[np.argsort(power[candidates])[::-1]]:
        if all(abs(frequency[index] - frequency[other]) > width for other in chosen):
            chosen.append(index)
            if len(chosen) == count:
                break
    return chosen


def thinned(frequency, power, points=PLOT_POINTS):
    """At most ``points`` (frequency, power) pairs: each the highest of its bin, so no peak disappears."""
    if len(power) <= points:
        return frequency, power
    edges = np.linspace(0, len(power), points + 1).astype(int)
    top = np.array([start + np.argmax(power[start:stop]) for start, stop in zip(edges[:-1], edges[1:])])
    return frequency[top], power[top]


def fingerprint(t, y, dy, band, minimum_period, maximum_period):
    digest = hashlib.sha256()
    for array in (t, y, dy):
        digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
    digest.update("\x1f".join(band).encode())
    # the package's version too: a result cached by an older search (a site's file or Redis cache) is not reused
    digest.update(f"{minimum_period!r} {maximum_period!r} {MAX_FREQUENCIES} {SAMPLES_PER_PEAK} {FAST_FROM_POINTS} "
                  f"{__version__}".encode())
    return "bhtom-period:" + digest.hexdigest()


def search(frame, bands=None, minimum_period=0.1, maximum_period=100.0):
    """The periodogram of the chosen points, its best periods and (one band) its 1% false-alarm level."""
    if not 0 < minimum_period < maximum_period:
        raise PeriodSearchError("the shortest period must be positive and below the longest")
    t, y, dy, band = magnitudes(frame, bands)
    names, counts = np.unique(band, return_counts=True)
    too_few = {str(name): int(count) for name, count in zip(names, counts) if count < MINIMUM_BAND_POINTS}
    if too_few:
        keep = ~np.isin(band, list(too_few))
        t, y, dy, band = t[keep], y[keep], dy[keep], band[keep]
    if len(t) < MINIMUM_POINTS:
        raise PeriodSearchError(f"{len(t)} magnitude(s) chosen; a period search needs at least {MINIMUM_POINTS}")
    key = fingerprint(t, y, dy, band, minimum_period, maximum_period)
    result = cache.get(key)
    if result is None:
        # a few seconds of CPU each on 100,000 points: a handful at once, so page views keep being served
        if not _running.acquire(timeout=BUSY_WAIT_SECONDS):
            raise PeriodSearchBusy("the server is running other period searches; try again in a moment")
        try:
            result = _search(t, y, dy, band, minimum_period, maximum_period)
        finally:
            _running.release()
        cache.set(key, result, CACHE_SECONDS)
    return {**result, "left_out_bands": too_few}


class SummedBands:
    """Several bands' Lomb–Scargle periodograms as one: band b's fit removes the share P_b of its chi-square about
    its own weighted mean (chi2_b), so all of them remove sum(chi2_b P_b) / sum(chi2_b) of the total: the power of
    the model in which every band has its own mean, amplitude and phase (VanderPlas & Ivezic 2015's (0, 1)
    multiband model), exact wherever the single-band powers are."""

    def __init__(self, t, y, dy, band):
        self.models, weights = [], []
        for name in sorted(set(band)):
            chosen = band == name
            weight = 1 / dy[chosen] ** 2
            mean = np.sum(weight * y[chosen]) / np.sum(weight)
            self.models.append(LombScargle(t[chosen], y[chosen], dy[chosen]))
            weights.append(np.sum(weight * (y[chosen] - mean) ** 2))
        self.weights = np.asarray(weights) / np.sum(weights)

    def power(self, frequency, method="fast"):
        return sum(weight * (fast_power(model, frequency) if method == "fast" else
                             model.power(frequency, method=method)) for weight, model in zip(self.weights, self.models))


#: below this many points a band's periodogram is computed exactly: astropy's fast method (Press & Rybicki's
#: extirpolation) gave powers above 1 for bands of a handful of points (SkyMapper's six epochs), and the exact sum
#: over so few points costs less than the fast method's grids
FAST_FROM_POINTS = 100


def fast_power(model, frequency):
    """The periodogram by astropy's O(N log N) method (Press & Rybicki), of one band or of each band summed; a band
    of few points exactly (``FAST_FROM_POINTS``)."""
    if isinstance(model, SummedBands):
        return model.power(frequency)
    return model.power(frequency, method="fast" if len(model.t) >= FAST_FROM_POINTS else "cython")


def _search(t, y, dy, band, minimum_period, maximum_period):
    baseline = float(t.max() - t.min())
    if baseline <= 0:
        raise PeriodSearchError("all chosen points have the same time")
    bands = sorted(set(band))
    frequency, samples = frequency_grid(baseline, minimum_period, maximum_period)
    if len(bands) == 1:
        model, method = LombScargle(t, y, dy), "LombScargle"
        level = float(model.false_alarm_level(FALSE_ALARM_PROBABILITY, minimum_frequency=frequency[0],
                                              maximum_frequency=frequency[-1]))
    else:
        model, method = SummedBands(t, y, dy, band), "LombScargle per band, summed"
        level = None
    power = np.asarray(fast_power(model, frequency), dtype=float)
    step = frequency[1] - frequency[0]
    best = []
    for index in distinct_peaks(frequency, power, BEST, width=4 / baseline):
        # refine with the fast method on 200 frequencies across the two grid steps around the peak, then rank the
        # peaks by the exact power at each refined frequency (the fast method's approximation can swap a period
        # and its one-day alias when their peaks are nearly equal)
        fine = np.linspace(max(frequency[index] - step, frequency[0] / 2), frequency[index] + step, 201)
        fine_power = np.asarray(fast_power(model, fine), dtype=float)
        if not np.isfinite(fine_power).any():
            continue
        peak = fine[int(np.nanargmax(fine_power))]
        exact = float(model.power(np.array([peak]), method="cython")[0])
        if np.isfinite(exact) and 0 <= exact <= 1:  # a normalised power: anything else is no result
            best.append({"period": float(1 / peak), "power": exact})
    best.sort(key=lambda peak: -peak["power"])
    finite = np.isfinite(power)
    shown_frequency, shown_power = thinned(frequency[finite], power[finite])
    return {
        "method": method, "bands": bands, "points": int(len(t)), "t0": float(t.min()),
        "baseline_days": baseline, "frequencies": int(len(frequency)), "samples_per_peak": float(samples),
        "false_alarm_probability": FALSE_ALARM_PROBABILITY, "false_alarm_level": level,
        "best": best,
        "periodogram": {"frequency": np.round(shown_frequency, 9).tolist(),
                        "power": np.round(shown_power, 5).tolist()},
    }
