"""One default refresh of N fleet targets with this tree's code and sample archive (bench/run.py's archive
hosts and 100 ms latency), printed as one line. To compare two versions on the same machine, run it in each
checkout in turn, alternating (a git worktree of the older commit, the same virtualenv):

    git worktree add /tmp/old <commit> && (cd /tmp/old && /path/to/this/.venv/bin/python bench/side_by_side.py 60)
    .venv/bin/python bench/side_by_side.py 60 --port 8811

Each tree serves its own fixtures (an older tree answers TAP with IPAC tables, this one with VOTables).
"""
import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

TREE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TREE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("targets", type=int)
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    import django

    django.setup()
    from bench import run

    processes, source_urls = [], {}
    for number, (host, sources) in enumerate(run.archive_hosts().items(), start=1):
        process, url = run.archive(f"127.0.0.{number}", args.port, args.latency)
        processes.append(process)
        source_urls.update({source: url for source in sources})
    env = {**os.environ, "PYTHONPATH": str(TREE), "BENCH_URLS": json.dumps(source_urls),
           "BENCH_DB": os.path.join(tempfile.mkdtemp(prefix="bhtom_side_"), "side.sqlite3")}
    env.pop("DJANGO_SETTINGS_MODULE")
    try:
        run.measure(env, "setup", args.targets)
        print(TREE, json.dumps(run.measure(env, "refresh", run.DEFAULT_WORKERS)))
    finally:
        for process in processes:
            process.terminate()


if __name__ == "__main__":
    main()
