"""One measurement in its own process (so its peak memory is its own); prints one JSON line.

    python bench/measure.py setup N          migrate and create N fleet targets
    python bench/measure.py many N           migrate and create N targets with survey names, in bulk (no archive)
    python bench/measure.py age DAYS         every pair last read DAYS days earlier (days passing)
    python bench/measure.py dryrun 0         update_lightcurves --dry-run over every target
    python bench/measure.py enqueue 0        update_lightcurves --enqueue (BENCH_TASKS=database)
    python bench/measure.py fleet_state 0    the tasks not run yet (and when the next one is due), the pairs' statuses
                                             and duplicate points (the fleet row)
    python bench/measure.py refresh WORKERS [--force]
    python bench/measure.py ingest POINTS    parse + store one light curve of POINTS points
    python bench/measure.py tom_ingest POINTS  TOM Toolkit's per-point get_or_create path, same points
    python bench/measure.py answers 0        per broker: the largest recorded answer it reads, and the peak
                                             memory (tracemalloc) of reading it into a light curve
    python bench/measure.py periods POINTS   the tab's period search on POINTS stored magnitudes (ten years, a
                                             known period): one band, and five bands at once
"""
import json
import os
import resource
import sys
import time
from io import StringIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(n):
    from tests.fleet import create_fleet

    call_command("migrate", "--no-input", "-v", "0")
    create_fleet(n)
    return {"targets": n}


def many(n):
    """n targets with the fleet's survey names, created in bulk: the plan's work for a long target list."""
    from tom_targets.models import Target, TargetExtra

    from tests.fleet import fleet

    call_command("migrate", "--no-input", "-v", "0")
    for start in range(0, n, 2000):
        batch = fleet(min(n, start + 2000))[start:]
        targets = Target.objects.bulk_create([Target(name=f"many-{start + i:06d}", type=Target.SIDEREAL, ra=ra,
                                                     dec=dec, epoch=2000.0) for i, (_, ra, dec, _) in enumerate(batch)])
        TargetExtra.objects.bulk_create([TargetExtra(target=t, key=key, value=alert) for t, (_, _, _, alert)
                                         in zip(targets, batch) for key in ("Gaia Alerts name", "AAVSO name")])
    return {"targets": Target.objects.count()}


def age(days):
    """Every pair was last read ``days`` days earlier than it was: that many days pass for the cadence."""
    from datetime import timedelta

    from django.db.models import F

    from tom_bhtom_brokers.models import LightcurveUpdate

    LightcurveUpdate.objects.update(last_attempt=F("last_attempt") - timedelta(days=days))
    return {"aged": days}


def command_seconds(*args):
    """The command's wall time in this process (Django already set up), its output discarded."""
    started = time.perf_counter()
    call_command("update_lightcurves", *args, stdout=StringIO())
    return {"seconds": time.perf_counter() - started}


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def refresh(workers, force=False):
    out = StringIO()
    args = ["--workers", str(workers), "--no-progress"] + (["--force"] if force else [])
    cpu_before, started = cpu_seconds(), time.perf_counter()
    try:
        call_command("update_lightcurves", *args, stdout=out)
    except SystemExit:
        pass  # pairs failed (a host down): the table below says how many
    except Exception as exc:  # noqa: BLE001 - CommandError (exit status 1): the table is printed all the same
        if "update(s) failed" not in str(exc) and "an archive was unavailable" not in str(exc):
            raise
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    from tom_bhtom_brokers.management.commands.update_lightcurves import COLUMNS

    table = {}  # source -> column -> count: the summary's rows, whose last len(COLUMNS) - 1 cells are numbers
    for cells in (line.split() for line in out.getvalue().splitlines()):
        numbers = cells[1 - len(COLUMNS):]
        if len(cells) >= len(COLUMNS) and all(cell.isdigit() for cell in numbers):
            table[" ".join(cells[:1 - len(COLUMNS)])] = dict(zip(COLUMNS[1:], map(int, numbers)))
    total = table["total"]
    return {"seconds": seconds, "cpu_seconds": cpu, "fetched": total["fetched"] + total["no data"],
            "added": total["added"],
            # no name / not configured / host down: pairs that measured nothing
            "skipped": total["no name"] + total["not conf."] + total["unavail."], "sources": table}


def big_votable(points):
    """A NEOWISE TAP answer with points/2 rows (each row gives a W1 and a W2 point), written by the same
    IPAC writer as the sample archive's fixtures and served as the sample archive serves TAP: a VOTable."""
    import numpy as np

    from tests.data.make_fixtures import NEOWISE_COLUMNS, ipac_table
    from tests.sample_archive.server import as_votable

    mjd = 56700 + np.arange(points // 2) * 0.01
    w1 = 10.8 + 0.05 * np.sin(mjd)
    rows = [["85.0000000", "85.0000000", f"{m:.8f}", f"{a:.3f}", "0.018", f"{a + 0.1:.3f}", "0.022",
             5, "1.0", 90, "00", "0000", "AA", 1, 0] for m, a in zip(mjd, w1)]
    return as_votable(ipac_table(rows, NEOWISE_COLUMNS, {}).encode())


def ingest(points):
    from tom_targets.models import Target

    from tom_bhtom_brokers.brokers.neowise import NeowiseBroker
    from tom_bhtom_brokers.transports.http import Response
    from tom_bhtom_brokers.store import sync
    from tom_bhtom_brokers.target_info import TargetInfo

    import tracemalloc

    payload = big_votable(points)
    target = Target.objects.create(name=f"ingest-{time.time()}", type="SIDEREAL", ra=85.0, dec=85.0)
    broker = NeowiseBroker()
    info = TargetInfo.from_target(target)
    tracemalloc.start()  # the parse alone, once, for its memory: the timed run below is not traced
    broker.parse_response(Response("bench", 200, {}, payload), info)
    parse_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    started = time.perf_counter()
    lightcurve = broker.parse_response(Response("bench", 200, {}, payload), info)
    result = sync(target, broker.source, broker.name, lightcurve)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "points": result.added, "rate": result.added / seconds,
            "payload_bytes": len(payload), "parse_peak_bytes": parse_peak}


def tom_ingest(points):
    """TOM Toolkit's per-point path, as its ALeRCE data service stores photometry: get_or_create per point."""
    from tom_dataproducts.models import PhotometryReducedDatum
    from tom_targets.models import Target

    from tom_bhtom_brokers.brokers.neowise import NeowiseBroker
    from tom_bhtom_brokers.transports.http import Response
    from tom_bhtom_brokers.lightcurve import utc_datetimes
    from tom_bhtom_brokers.target_info import TargetInfo

    payload = big_votable(points)
    target = Target.objects.create(name=f"tom-ingest-{time.time()}", type="SIDEREAL", ra=85.0, dec=85.0)
    started = time.perf_counter()
    frame = NeowiseBroker().parse_response(Response("bench", 200, {}, payload), TargetInfo.from_target(target)).frame
    stamps = utc_datetimes(frame["mjd"].to_numpy())
    created = 0
    for stamp, row in zip(stamps, frame.to_dict("records")):
        _, new = PhotometryReducedDatum.objects.get_or_create(
            target=target, timestamp=stamp, bandpass=f"{row['filter']}(NEOWISE)", source_name="NEOWISE",
            brightness=row["brightness"], brightness_error=row["brightness_error"], unit=row["unit"],
            defaults={"value": {"ph_qual": row["ph_qual"]}})
        created += new
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "points": created, "rate": created / seconds}


def answers(_):
    """Per broker, each recorded answer in its tests/data folder that it reads as a light curve (the others are
    listings, indexes or another request's answers), the largest one: its size and the peak of the memory
    Python, numpy and pandas allocate while ``parse_response`` reads it (tracemalloc; the interpreter and the
    libraries already loaded are not counted)."""
    import tracemalloc

    from django.utils.module_loading import import_string

    from tests.sample_archive.server import DATA_DIR, as_votable
    from tom_bhtom_brokers.brokers import BROKER_CLASSES
    from tom_bhtom_brokers.brokers.irsa import IrsaTapBroker
    from tom_bhtom_brokers.exceptions import BrokerError
    from tom_bhtom_brokers.transports.http import Response
    from tom_bhtom_brokers.target_info import TargetInfo

    target = TargetInfo(1, "bench", 90.26701, -18.9677, survey_names={})
    result = {}
    for source, path in BROKER_CLASSES.items():
        broker = import_string(path)()
        folder = DATA_DIR / broker.source.value.lower()
        best = None
        for file in sorted(folder.iterdir(), key=lambda f: -f.stat().st_size):
            if file.suffix in (".md",) or file.name == "routes.json":
                continue
            payload = file.read_bytes()
            if file.suffix == ".tbl" and isinstance(broker, IrsaTapBroker):  # served to a TAP client as a VOTable
                payload = as_votable(payload)
            tracemalloc.start()
            try:
                lightcurve = broker.parse_response(Response(str(file), 200, {}, payload), target)
            except BrokerError:
                continue
            except NotImplementedError:  # no parse of one answer (LINEAR reads its cached sample files)
                break
            finally:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            if len(lightcurve):
                best = {"file": file.name, "bytes": len(payload), "points": len(lightcurve), "peak_bytes": peak}
                break
        result[broker.name] = best
    return {"answers": result}


def fleet_state(_):
    """What a fleet of workers left: tasks still to run and the soonest one's wait, pair statuses, duplicates."""
    from collections import Counter

    from django.db.models import Count, Min
    from django.utils import timezone
    from django_tasks.backends.database.models import DBTaskResult
    from tom_dataproducts.models import PhotometryReducedDatum

    from tom_bhtom_brokers.models import LightcurveUpdate

    waiting = DBTaskResult.objects.filter(status__in=["NEW", "RUNNING"])
    soonest = waiting.aggregate(when=Min("run_after"))["when"]
    duplicates = (PhotometryReducedDatum.objects.values("target", "source_name", "bandpass", "timestamp", "brightness",
                                                        "limit").annotate(n=Count("id")).filter(n__gt=1).count())
    return {"waiting": waiting.count(),
            "next_in": max(0.0, (soonest - timezone.now()).total_seconds()) if soonest else 0.0,
            "statuses": dict(Counter(LightcurveUpdate.objects.values_list("status", flat=True))),
            "failed_tasks": DBTaskResult.objects.filter(status="FAILED").count(), "duplicates": duplicates,
            "points": PhotometryReducedDatum.objects.count()}


PERIOD_DAYS = 0.5432


def periods(points):
    """The period search as the tab's view runs it (read the target's points, then search; nothing cached), on
    ``points`` magnitudes over ten years: all in one band, then the same count spread over five bands."""
    import numpy as np
    from django.core.cache import cache
    from tom_targets.models import Target

    from tom_bhtom_brokers import periods as period_search
    from tom_bhtom_brokers.export import survey_points
    from tom_bhtom_brokers.lightcurve import Lightcurve
    from tom_bhtom_brokers.sources import PRETTY_SURVEY_NAME, DataSource
    from tom_bhtom_brokers.store import sync

    call_command("migrate", "--no-input", "-v", "0")
    rng = np.random.default_rng(3)
    mjd = np.sort(55000 + rng.uniform(0, 3650, points))
    signal = 0.3 * np.sin(2 * np.pi * mjd / PERIOD_DAYS)
    result = {"points": points, "true_period": PERIOD_DAYS}
    for name, filters in (("one_band", np.full(points, "g")), ("five_bands", rng.choice(list("ugriz"), points))):
        target = Target.objects.create(name=f"periods {name}", type=Target.SIDEREAL, ra=1.0, dec=1.0)
        offsets = {"u": 1.2, "g": 0.3, "r": 0.0, "i": -0.1, "z": -0.15}
        magnitude = 15 + signal + np.array([offsets[f] for f in filters]) + rng.normal(0, 0.03, points)
        source = DataSource.ZTF if name == "one_band" else DataSource.SDSS
        sync(target, source, PRETTY_SURVEY_NAME[source], Lightcurve.from_columns(
            mjd=mjd, brightness=magnitude, brightness_error=0.03, filter=filters))
        cache.clear()
        started = time.perf_counter()
        found = period_search.search(survey_points(target), None, 0.1, 100.0)
        result[name] = {"seconds": time.perf_counter() - started, "method": found["method"],
                        "frequencies": found["frequencies"], "period": found["best"][0]["period"],
                        "relative_error": abs(found["best"][0]["period"] - PERIOD_DAYS) / PERIOD_DAYS}
    return result


if __name__ == "__main__":
    step, value = sys.argv[1], int(sys.argv[2])
    result = {"setup": setup, "refresh": lambda n: refresh(n, "--force" in sys.argv), "ingest": ingest,
              "tom_ingest": tom_ingest, "answers": answers, "periods": periods, "many": many, "age": age,
              "dryrun": lambda _: command_seconds("--dry-run"),
              "enqueue": lambda _: command_seconds("--enqueue"), "fleet_state": fleet_state}[step](value)
    result["peak_mb"] = peak_mb()
    print(json.dumps(result))
