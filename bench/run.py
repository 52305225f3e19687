"""`make bench`: refresh, ingest and period-search figures, all measured in this one run, printed as one table.

One sample-archive process per real archive host (sources sharing a host in reality, such as IRSA's
NEOWISE, ALLWISE and ZTF, share one here), on 127.0.0.1, 127.0.0.2, ..., so the per-host limit applies as
it would in production; each adds the same latency to every request. Each measurement runs in its own
process (bench/measure.py) on its own SQLite file, so its peak memory is its own.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tom_bhtom_brokers.brokers import BROKER_CLASSES, IMPLEMENTED_SOURCE_NAMES  # noqa: E402
PER_HOST = 4          # tom_bhtom_brokers default, settings.BHTOM_BROKERS['max_requests_per_host']
DEFAULT_WORKERS = 16  # update_lightcurves --workers default


def archive(host, port, latency):
    process = subprocess.Popen([sys.executable, "-m", "tests.sample_archive", "--host", host, "--port", str(port),
                                "--latency", str(latency)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    process.stdout.readline()
    return process, f"http://{host}:{port}"


def archive_hosts():
    """Real archive host -> the implemented sources it serves, from each broker's default URL."""
    from urllib.parse import urlsplit

    from django.utils.module_loading import import_string

    hosts = {}
    for path in BROKER_CLASSES.values():
        broker = import_string(path)
        hosts.setdefault(urlsplit(broker.default_url).hostname, []).append(broker.name)
    return hosts


def served(urls):
    """Requests served so far by each archive process."""
    return [json.load(urllib.request.urlopen(f"{u}/_sample_archive/stats"))["requests"] for u in urls]


def served_since(urls, before):
    return [now - then for now, then in zip(served(urls), before)]


def measure(env, *args):
    done = subprocess.run([sys.executable, str(REPO / "bench" / "measure.py"), *map(str, args)], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"measurement {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request")
    parser.add_argument("--ingest-points", type=int, default=100_000)
    parser.add_argument("--tom-points", type=int, default=10_000,
                        help="points for TOM's per-point path (its rate is what is compared)")
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="bhtom_bench_")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django
    django.setup()
    hosts = archive_hosts()
    processes, urls, source_urls = [], [], {}
    for number, (host, sources) in enumerate(hosts.items(), start=1):
        process, url = archive(f"127.0.0.{number}", args.port, args.latency)
        processes.append(process)
        urls.append(url)
        source_urls.update({source: url for source in sources})
    base = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_URLS": json.dumps(source_urls)}
    base.pop("DJANGO_SETTINGS_MODULE")
    env = lambda name: {**base, "BENCH_DB": os.path.join(workdir, f"{name}.sqlite3")}  # noqa: E731
    rows = []
    try:
        measure(env("serial"), "setup", args.targets)
        before = served(urls)
        serial = measure(env("serial"), "refresh", 1)
        if serial["skipped"]:
            sys.exit(f"{serial['skipped']} pair(s) had no name or no configuration: the figures would flatter")
        per_host = served_since(urls, before)
        requests = sum(per_host)

        measure(env("default"), "setup", args.targets)
        default = measure(env("default"), "refresh", DEFAULT_WORKERS)
        before = served(urls)
        nothing_due = measure(env("default"), "refresh", DEFAULT_WORKERS)
        nothing_due_requests = sum(served_since(urls, before))
        before = served(urls)
        unchanged = measure(env("default"), "refresh", DEFAULT_WORKERS, "--force")
        forced_requests = sum(served_since(urls, before))

        # each host can serve PER_HOST requests at once, and all hosts together at most DEFAULT_WORKERS:
        # the busiest host, or the pool as a whole, sets the bound
        bound = max(max(per_host) * args.latency / PER_HOST, requests * args.latency / DEFAULT_WORKERS)
        permitted = min(DEFAULT_WORKERS, PER_HOST * len(urls))
        measure(env("ingest"), "setup", 0)
        ingest = measure(env("ingest"), "ingest", args.ingest_points)
        tom = measure(env("ingest"), "tom_ingest", args.tom_points)
        answers = measure(env("ingest"), "answers", 0)
        periods = measure(env("periods"), "periods", args.ingest_points)
    finally:
        for process in processes:
            process.terminate()

    pairs = len(IMPLEMENTED_SOURCE_NAMES) * args.targets
    rows = [
        ("refresh, --workers 1", f"{serial['seconds']:.1f} s", f"{pairs} pairs, {requests} requests, "
         f"{serial['added']} points", f"{serial['peak_mb']:.0f} MB"),
        (f"refresh, default (--workers {DEFAULT_WORKERS}, {PER_HOST}/host)", f"{default['seconds']:.1f} s",
         f"{default['added']} points", f"{default['peak_mb']:.0f} MB"),
        ("lower bound", f"{bound:.1f} s", f"busiest host {max(per_host)} requests x {args.latency:g} s / {PER_HOST}; "
         f"all {requests} x {args.latency:g} s / {DEFAULT_WORKERS} workers", ""),
        ("ratio serial / default", f"{serial['seconds'] / default['seconds']:.1f}x",
         f"ceiling {permitted}x with {len(urls)} archive hosts", ""),
        ("ratio default / bound", f"{default['seconds'] / bound:.2f}x", "target <= 1.5x", ""),
        (f"ingest {ingest['points']:,} points (parse + sync)", f"{ingest['seconds']:.1f} s",
         f"{ingest['rate']:,.0f} points/s", f"{ingest['peak_mb']:.0f} MB"),
        ("  its parse: the answer, and its peak memory", f"{ingest['payload_bytes'] / 2**20:.1f} MB",
         f"peak {ingest['parse_peak_bytes'] / 2**20:.0f} MB allocated while parsing = "
         f"{ingest['parse_peak_bytes'] / ingest['payload_bytes']:.1f}x the answer", ""),
        (f"TOM per-point get_or_create, {tom['points']:,} points", f"{tom['seconds']:.1f} s",
         f"{tom['rate']:,.0f} points/s", f"{tom['peak_mb']:.0f} MB"),
        ("ratio ingest / TOM per-point", f"{ingest['rate'] / tom['rate']:.0f}x", "target >= 20x", ""),
        ("second refresh, nothing due", f"{nothing_due['seconds']:.2f} s",
         f"{nothing_due['seconds'] / default['seconds']:.1%} of the first; {nothing_due_requests} requests",
         f"{nothing_due['peak_mb']:.0f} MB"),
        ("second refresh --force, nothing changed", f"{unchanged['seconds']:.1f} s",
         f"{unchanged['seconds'] / default['seconds']:.0%} of the first; {forced_requests} requests, "
         f"{unchanged['added']} added", f"{unchanged['peak_mb']:.0f} MB"),
    ]
    for name, label in (("one_band", "one band"), ("five_bands", "five bands")):
        search = periods[name]
        rows.append((f"period search, {periods['points']:,} points, {label}", f"{search['seconds']:.1f} s",
                     f"{search['method']}, {search['frequencies']:,} frequencies, read included; period found "
                     f"within {search['relative_error']:.0e} of the injected one", f"{periods['peak_mb']:.0f} MB"))
    for source, answer in answers["answers"].items():
        if answer is None:
            rows.append((f"  largest answer read: {source}", "-", "read from its download cache, not parsed whole",
                         ""))
            continue
        rows.append((f"  largest answer read: {source}", f"{answer['bytes'] / 1024:.0f} KB",
                     f"{answer['file']}: {answer['points']} points, peak {answer['peak_bytes'] / 1024:.0f} KB "
                     f"allocated ({answer['peak_bytes'] / answer['bytes']:.0f}x)", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"tom_bhtom_brokers benchmark: {args.targets} targets x {len(IMPLEMENTED_SOURCE_NAMES)} sources "
          f"({', '.join(IMPLEMENTED_SOURCE_NAMES)}), {args.latency * 1000:.0f} ms latency "
          f"per request; {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("  ".join(h.ljust(w) for h, w in zip(("measure", "time", "detail", "peak RSS"), widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))


if __name__ == "__main__":
    main()
