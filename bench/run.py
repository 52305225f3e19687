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
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tom_bhtom_brokers.brokers import BROKER_CLASSES, IMPLEMENTED_SOURCE_NAMES  # noqa: E402
PER_HOST = 4          # tom_bhtom_brokers default, settings.BHTOM_BROKERS['max_requests_per_host']
DEFAULT_WORKERS = 16  # update_lightcurves --workers default
#: the host taken down in the "one archive host down" rows: the Gaia Alerts and CPCS host, the one with most pairs
DOWN_HOST = "gsaweb.ast.cam.ac.uk"
#: ATLAS's queue in the "ATLAS queue" rows: each job waits this long, and is asked every POLL seconds (the
#: broker's default)
ATLAS_QUEUE_SECONDS, ATLAS_POLL_SECONDS = 60, 10
#: the brokers' default ``timeout``: what one round of requests to a host that answers nothing costs at least
DEFAULT_TIMEOUT = 60


def floor_ratio(seconds, floor, without):
    """The run's time against what is physically possible: the larger of its floor (a queue's wait, a timeout
    round) and the same run without the slow part."""
    bound = max(floor, without)
    return f"floor {floor:.0f} s, ratio {seconds / bound:.2f}x to max(floor, without)"


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


def control(url, what, payload):
    """Switch a sample archive: its clock, the emulated ATLAS queue, faults (``/_sample_archive/<what>``)."""
    request = urllib.request.Request(f"{url}/_sample_archive/{what}", data=json.dumps(payload).encode(),
                                     method="POST")
    urllib.request.urlopen(request).read()


def newest_fleet_aavso_jd():
    """The JD of the newest observation in the fleet's AAVSO answers: the "day" the daily refresh brings."""
    lines = (REPO / "tests" / "data" / "aavso" / "synthetic.txt").read_text().splitlines()[1:]
    return max(float(line.split("@@@", 1)[0]) for line in lines if line.strip())


def per_due_pair(result, per_host, hosts):
    """Requests per due pair of each host whose sources were due, from one refresh's summary and request counts:
    {host label: (requests, due pairs)}."""
    figures = {}
    for (host, sources), requests in zip(hosts.items(), per_host):
        due = sum(result["sources"][s]["checked"] - result["sources"][s]["not due"] for s in sources)
        if due:
            figures["/".join(sources)] = (requests, due)
    return figures


def stored_elsewhere(result, hosts):
    """Whether every pair of the other hosts ended as in a healthy run: fetched or no data (or not applicable)."""
    others = [s for host, sources in hosts.items() if host != DOWN_HOST for s in sources]
    failed = sum(result["sources"][s]["errors"] + result["sources"][s]["unavail."] for s in others)
    return "every other pair stored" if not failed else f"{failed} other pair(s) failed"


def served(urls):
    """Requests served so far by each archive process."""
    return [json.load(urllib.request.urlopen(f"{u}/_sample_archive/stats"))["requests"] for u in urls]


def served_since(urls, before):
    return [now - then for now, then in zip(served(urls), before)]


#: db_worker processes in the fleet row, sharing one PostgreSQL database and one Redis
FLEET_WORKERS = 3


def measure_fleet(base, urls, targets):
    """The fleet row: FLEET_WORKERS db_worker processes on PostgreSQL sharing Redis (Debian's packages, started here
    as the tests start them) drain ``--enqueue``'s tasks and the deferred collections of queued jobs; the most
    requests any archive host had at once. None (and why) when PostgreSQL or Redis cannot start."""
    from tests.fleet import db_workers
    from tests.postgres import PostgresServer, PostgresUnavailable
    from tests.redis_server import RedisServer, RedisUnavailable

    servers = []
    try:
        servers.append(PostgresServer().start())
        servers.append(RedisServer().start())
        env = {**base, "BENCH_DB": "unused", "BENCH_PG": servers[0].create_database("fleet"),
               "BENCH_REDIS": servers[1].url, "BENCH_TASKS": "database"}
        measure(env, "setup", targets)
        for url in urls:
            control(url, "peak", {})
        started = time.perf_counter()
        measure(env, "enqueue", 0)
        db_workers({**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}, FLEET_WORKERS, timeout=3600)
        state = measure(env, "fleet_state", 0)
        while state["waiting"]:  # the deferred collections of ATLAS's and ZTF FPS's jobs, as they come due
            time.sleep(min(state["next_in"], 60.0))
            db_workers({**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}, 1, timeout=3600)
            state = measure(env, "fleet_state", 0)
        state["seconds"] = time.perf_counter() - started
        state["peak"] = max(json.load(urllib.request.urlopen(f"{u}/_sample_archive/stats"))["max_in_flight"]
                            for u in urls)
        return state
    except (PostgresUnavailable, RedisUnavailable) as exc:
        return {"skipped": str(exc)}
    finally:
        for server in reversed(servers):
            server.stop()


def measure(env, *args):
    done = subprocess.run([sys.executable, str(REPO / "bench" / "measure.py"), *map(str, args)], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"measurement {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


SECTIONS = ("refresh", "daily", "atlas", "down", "fleet", "many", "ingest", "periods")


def fleet_table_row(fleet, default):
    label = f"fleet: {FLEET_WORKERS} db_workers, PostgreSQL + Redis"
    if "skipped" in fleet:
        return label, "-", f"not measured: {fleet['skipped']}", ""
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(fleet["statuses"].items()))
    against = f"; {fleet['seconds'] / default['seconds']:.2f}x the one-process refresh" if default else ""
    return (label, f"{fleet['seconds']:.1f} s",
            f"most requests at once at one archive host {fleet['peak']} (limit {PER_HOST}); pairs: {statuses}; "
            f"{fleet['duplicates']} duplicate points, {fleet['failed_tasks']} failed tasks{against}", "")


def table_rows(m, args, hosts, n_hosts):
    """The printed table's rows (measure, time, detail, peak RSS) of whatever was measured."""
    rows = []
    if "serial" in m:
        serial, default, per_host = m["serial"], m["default"], m["per_host"]
        requests, pairs = sum(per_host), len(IMPLEMENTED_SOURCE_NAMES) * args.targets
        # each host can serve PER_HOST requests at once, and all hosts together at most DEFAULT_WORKERS:
        # the busiest host, or the pool as a whole, sets the bound
        bound = max(max(per_host) * args.latency / PER_HOST, requests * args.latency / DEFAULT_WORKERS)
        rows += [
            ("refresh, --workers 1", f"{serial['seconds']:.1f} s", f"{pairs} pairs, {requests} requests, "
             f"{serial['added']} points", f"{serial['peak_mb']:.0f} MB"),
            (f"refresh, default (--workers {DEFAULT_WORKERS}, {PER_HOST}/host)", f"{default['seconds']:.1f} s",
             f"{default['added']} points", f"{default['peak_mb']:.0f} MB"),
            ("lower bound", f"{bound:.1f} s", f"busiest host {max(per_host)} requests x {args.latency:g} s / "
             f"{PER_HOST}; all {requests} x {args.latency:g} s / {DEFAULT_WORKERS} workers", ""),
            ("ratio serial / default", f"{serial['seconds'] / default['seconds']:.1f}x",
             f"ceiling {min(DEFAULT_WORKERS, PER_HOST * n_hosts)}x with {n_hosts} archive hosts", ""),
            ("ratio default / bound", f"{default['seconds'] / bound:.2f}x", "target <= 1.25x", ""),
            # one process runs its Python one thread at a time (the GIL): its CPU time is a floor too
            ("  its process's CPU time", f"{default['cpu_seconds']:.1f} s",
             f"ratio default / max(bound, CPU) {default['seconds'] / max(bound, default['cpu_seconds']):.2f}x: "
             "parsing and writing on this machine's cores (shared with the sample archives)", ""),
            ("second refresh, nothing due", f"{m['nothing_due']['seconds']:.2f} s",
             f"{m['nothing_due']['seconds'] / default['seconds']:.1%} of the first; {m['nothing_due_requests']} "
             "requests", f"{m['nothing_due']['peak_mb']:.0f} MB"),
            ("second refresh --force, nothing changed", f"{m['unchanged']['seconds']:.1f} s",
             f"{m['unchanged']['seconds'] / default['seconds']:.0%} of the first; {m['forced_requests']} requests, "
             f"{m['unchanged']['added']} added", f"{m['unchanged']['peak_mb']:.0f} MB"),
        ]
    if "daily" in m:
        daily, first, by_host = m["daily"], m["default"], m["daily_requests"]
        requests, due = sum(r for r, _ in by_host.values()), sum(d for _, d in by_host.values())
        by_get = [(r, d) for k, (r, d) in by_host.items() if k != "ATLAS"]
        get_requests, get_due = sum(r for r, _ in by_get), sum(d for _, d in by_get)
        # the daily refresh's own floor: its busiest host's requests through that host's slots
        busiest, busiest_requests = max(((k, r) for k, (r, _) in by_host.items()), key=lambda kr: kr[1])
        floor = busiest_requests * args.latency / PER_HOST
        rows += [
            ("daily refresh, a day later", f"{daily['seconds']:.1f} s",
             f"{daily['seconds'] / first['seconds']:.0%} of the first refresh ({first['seconds']:.1f} s; target "
             f"<= 10%); {daily['added']} points added; its floor {floor:.1f} s ({floor / first['seconds']:.0%} of the "
             f"first: {busiest}'s {busiest_requests} requests x {args.latency:g} s / {PER_HOST}), ratio "
             f"{daily['seconds'] / floor:.2f}x", f"{daily['peak_mb']:.0f} MB"),
            ("  requests per due pair, daily archives", f"{requests / due:.2f}",
             f"target <= 1.1 (ATLAS: each job's result, its delete within 50 a minute, a share of the batch "
             f"and task list); {requests} requests for {due} pairs: "
             + ", ".join(f"{k} {r / d:.1f}" for k, (r, d) in by_host.items()), ""),
            ("  the same, archives read by GET (no job queue)", f"{get_requests / get_due:.2f}",
             f"{get_requests} requests for {get_due} pairs", ""),
        ]
    if "with_atlas" in m:
        with_atlas, without = m["with_atlas"], m["without_atlas"]
        collected = with_atlas["sources"]["ATLAS"]["fetched"] + with_atlas["sources"]["ATLAS"]["no data"]
        rows += [
            (f"first refresh, ATLAS jobs queued {ATLAS_QUEUE_SECONDS} s", f"{with_atlas['seconds']:.1f} s",
             f"jobs asked through the account's task list (one read a pass for all), {ATLAS_POLL_SECONDS} s after "
             f"submission, then every half job age (<= 60 s); {collected} of "
             f"{args.targets} ATLAS results collected in the run", f"{with_atlas['peak_mb']:.0f} MB"),
            ("  the same without ATLAS", f"{without['seconds']:.1f} s",
             f"{floor_ratio(with_atlas['seconds'], ATLAS_QUEUE_SECONDS + ATLAS_POLL_SECONDS, without['seconds'])} "
             f"(the queue's {ATLAS_QUEUE_SECONDS} s + the first poll; target <= 1.1x)", f"{without['peak_mb']:.0f} MB"),
        ]
    if "host_removed" in m:
        removed = m["host_removed"]
        for key, how, floor in (("host_refused", "refusing connections", 0),
                                ("host_stalled", "answering nothing", DEFAULT_TIMEOUT)):
            down = m[key]
            rows.append((f"first refresh, {DOWN_HOST} {how}", f"{down['seconds']:.1f} s",
                         f"{floor_ratio(down['seconds'], floor, removed['seconds'])} (target <= 1.2x); "
                         f"{down['sources']['total']['unavail.']} pairs not asked, {stored_elsewhere(down, hosts)}",
                         f"{down['peak_mb']:.0f} MB"))
        rows.append((f"  the same with {DOWN_HOST}'s sources removed", f"{removed['seconds']:.1f} s",
                     f"{', '.join(hosts[DOWN_HOST])} disabled", f"{removed['peak_mb']:.0f} MB"))
    if "fleet" in m:
        rows.append(fleet_table_row(m["fleet"], m.get("default")))
    if "dry_run" in m:
        rows += [
            (f"--dry-run, {args.many_targets:,} targets x {len(IMPLEMENTED_SOURCE_NAMES)} sources",
             f"{m['dry_run']['seconds']:.1f} s", "the command alone (Django's start not included); peak RSS of "
             "the process", f"{m['dry_run']['peak_mb']:.0f} MB"),
            (f"--enqueue, {args.many_targets:,} targets", f"{m['enqueue']['seconds']:.1f} s",
             "one django-tasks task per target on the database backend, one transaction",
             f"{m['enqueue']['peak_mb']:.0f} MB"),
        ]
    if "ingest" in m:
        ingest, tom = m["ingest"], m["tom"]
        rows += [
            (f"ingest {ingest['points']:,} points (parse + sync)", f"{ingest['seconds']:.1f} s",
             f"{ingest['rate']:,.0f} points/s", f"{ingest['peak_mb']:.0f} MB"),
            ("  its parse: the answer, and its peak memory", f"{ingest['payload_bytes'] / 2**20:.1f} MB",
             f"peak {ingest['parse_peak_bytes'] / 2**20:.0f} MB allocated while parsing = "
             f"{ingest['parse_peak_bytes'] / ingest['payload_bytes']:.1f}x the answer", ""),
            (f"TOM per-point get_or_create, {tom['points']:,} points", f"{tom['seconds']:.1f} s",
             f"{tom['rate']:,.0f} points/s", f"{tom['peak_mb']:.0f} MB"),
            ("ratio ingest / TOM per-point", f"{ingest['rate'] / tom['rate']:.0f}x", "target >= 20x", ""),
        ]
        for source, answer in m["answers"]["answers"].items():
            if answer is None:
                rows.append((f"  largest answer read: {source}", "-", "read from its download cache, not parsed "
                             "whole", ""))
                continue
            rows.append((f"  largest answer read: {source}", f"{answer['bytes'] / 1024:.0f} KB",
                         f"{answer['file']}: {answer['points']} points, peak {answer['peak_bytes'] / 1024:.0f} KB "
                         f"allocated ({answer['peak_bytes'] / answer['bytes']:.0f}x)", ""))
    if "periods" in m:
        periods = m["periods"]
        for name, label in (("one_band", "one band"), ("five_bands", "five bands")):
            search = periods[name]
            rows.append((f"period search, {periods['points']:,} points, {label}", f"{search['seconds']:.1f} s",
                         f"{search['method']}, {search['frequencies']:,} frequencies, read included; period found "
                         f"within {search['relative_error']:.0e} of the injected one", f"{periods['peak_mb']:.0f} MB"))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request")
    parser.add_argument("--ingest-points", type=int, default=100_000)
    parser.add_argument("--tom-points", type=int, default=10_000,
                        help="points for TOM's per-point path (its rate is what is compared)")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--many-targets", type=int, default=10_000, help="targets for the --dry-run/--enqueue rows")
    parser.add_argument("--only", default="", help=f"comma-separated sections to measure (default all: "
                                                   f"{', '.join(SECTIONS)})")
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
    sections = args.only.split(",") if args.only else SECTIONS
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        sys.exit(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    overrides = lambda name, o: {**env(name), "BENCH_OVERRIDES": json.dumps(o)}  # noqa: E731
    m = {}  # measurement name -> its figures
    # the newest AAVSO observation of the fleet is not made yet: the daily refresh brings it
    for url in urls:
        control(url, "clock", {"jd": newest_fleet_aavso_jd() - 0.5})
    try:
        if "refresh" in sections:
            measure(env("serial"), "setup", args.targets)
            before = served(urls)
            m["serial"] = measure(env("serial"), "refresh", 1)
            if m["serial"]["skipped"]:
                sys.exit(f"{m['serial']['skipped']} pair(s) had no name or no configuration: the figures would "
                         "flatter")
            m["per_host"] = served_since(urls, before)
        if {"refresh", "daily"} & set(sections):
            measure(env("default"), "setup", args.targets)
            m["default"] = measure(env("default"), "refresh", DEFAULT_WORKERS)
        if "refresh" in sections:
            before = served(urls)
            m["nothing_due"] = measure(env("default"), "refresh", DEFAULT_WORKERS)
            m["nothing_due_requests"] = sum(served_since(urls, before))
            before = served(urls)
            m["unchanged"] = measure(env("default"), "refresh", DEFAULT_WORKERS, "--force")
            m["forced_requests"] = sum(served_since(urls, before))
        if "daily" in sections:
            # a day later: every daily pair is due, and each AAVSO star has its newest observation
            for url in urls:
                control(url, "clock", {"jd": 1e12})
            measure(env("default"), "age", 1)
            before = served(urls)
            m["daily"] = measure(env("default"), "refresh", DEFAULT_WORKERS)
            m["daily_requests"] = per_due_pair(m["daily"], served_since(urls, before), hosts)
        if "atlas" in sections:
            # ATLAS's queue takes a minute per job: the fleet's first refresh with ATLAS, and the same without it
            control(source_urls["ATLAS"], "atlas", {"queue_seconds": ATLAS_QUEUE_SECONDS, "polls_queued": 0})
            slow_atlas = overrides("atlas_queue", {"ATLAS": {"poll_seconds": ATLAS_POLL_SECONDS}})
            measure(slow_atlas, "setup", args.targets)
            m["with_atlas"] = measure(slow_atlas, "refresh", DEFAULT_WORKERS)
            control(source_urls["ATLAS"], "atlas", {"queue_seconds": 0, "polls_queued": 1})
            no_atlas = overrides("no_atlas", {"ATLAS": {"enabled": False}})
            measure(no_atlas, "setup", args.targets)
            m["without_atlas"] = measure(no_atlas, "refresh", DEFAULT_WORKERS)
        if "down" in sections:
            # one archive host down (no connection; then answering nothing), against the fleet without it
            down_sources = hosts[DOWN_HOST]
            refused = overrides("host_refused", {s: {"url": "http://127.0.0.1:9"} for s in down_sources})
            measure(refused, "setup", args.targets)
            m["host_refused"] = measure(refused, "refresh", DEFAULT_WORKERS)
            staller, stall_url = archive(f"127.0.0.{len(hosts) + 1}", args.port, args.latency)
            processes.append(staller)
            control(stall_url, "faults", [{"kind": "stall", "seconds": 300}])
            stalled = overrides("host_stalled", {s: {"url": stall_url} for s in down_sources})
            measure(stalled, "setup", args.targets)
            m["host_stalled"] = measure(stalled, "refresh", DEFAULT_WORKERS)
            removed = overrides("host_removed", {s: {"enabled": False} for s in down_sources})
            measure(removed, "setup", args.targets)
            m["host_removed"] = measure(removed, "refresh", DEFAULT_WORKERS)
        if "fleet" in sections:
            m["fleet"] = measure_fleet(base, urls, args.targets)
        if "many" in sections:
            # 10,000 targets in the database, no archive asked
            measure(env("many"), "many", args.many_targets)
            m["dry_run"] = measure(env("many"), "dryrun", 0)
            m["enqueue"] = measure({**env("many"), "BENCH_TASKS": "database"}, "enqueue", 0)
        if "ingest" in sections:
            measure(env("ingest"), "setup", 0)
            m["ingest"] = measure(env("ingest"), "ingest", args.ingest_points)
            m["tom"] = measure(env("ingest"), "tom_ingest", args.tom_points)
            m["answers"] = measure(env("ingest"), "answers", 0)
        if "periods" in sections:
            m["periods"] = measure(env("periods"), "periods", args.ingest_points)
    finally:
        for process in processes:
            process.terminate()
    rows = table_rows(m, args, hosts, len(urls))
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
