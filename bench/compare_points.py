"""Compare the stored points (and the pairs' statuses) of two demo databases, row for row: the check that a
refactor stores what the code before it stored. Usage (each demo on its own database):

    git worktree add /tmp/old <rev>    # or any checkout of the older code
    (cd /tmp/old && DEMO_DB=/tmp/old.sqlite3 python example_site/run_demo.py)
    DEMO_DB=/tmp/new.sqlite3 python example_site/run_demo.py
    python bench/compare_points.py /tmp/old.sqlite3 /tmp/new.sqlite3

A point is compared by its target's name and every column but its primary key and its creation time (in
``source_location``, what differs between two runs of the same code: ``RUN_DEPENDENT``); a status by (target name,
source) with its status, message and point count. Exit status 1 when they differ."""
import re
import sqlite3
import sys

#: what differs between two runs of the same code: the sample archive's scheme, host and port, and the end of a
#: time range asked up to the moment of the request (AAVSO's last JD chunk, ATLAS's mjd_max)
RUN_DEPENDENT = ((re.compile(r"https?://127\.0\.0\.\d+:\d+"), "<archive>"),
                 (re.compile(r"\b(tojd|mjd_max)=[0-9.]+"), r"\1=<now>"))


def normalised(value):
    if isinstance(value, str):
        for pattern, replacement in RUN_DEPENDENT:
            value = pattern.sub(replacement, value)
    return value


POINTS = """select t.name, p.source_name, p.timestamp, p.bandpass, p.brightness, p.brightness_error, p."limit",
                  p.unit, p.telescope, p.instrument, p.source_location, p.value
           from tom_dataproducts_photometryreduceddatum p join tom_targets_basetarget t on t.id = p.target_id"""
STATUSES = """select t.name, s.source, s.status, s.message, s.points_total
              from tom_bhtom_brokers_lightcurveupdate s join tom_targets_basetarget t on t.id = s.target_id"""


def rows(path, query):
    with sqlite3.connect(path) as connection:
        return sorted((tuple(map(normalised, row)) for row in connection.execute(query)), key=repr)


def compare(old, new, query, what):
    before, after = rows(old, query), rows(new, query)
    only_old, only_new = set(before) - set(after), set(after) - set(before)
    print(f"{what}: {len(before)} old, {len(after)} new, {len(only_old)} only in the old, {len(only_new)} only in the "
          f"new: {'the same, row for row' if before == after else 'DIFFERENT'}")
    for row in sorted(only_old, key=repr)[:5]:
        print("  old only:", repr(row)[:300])
    for row in sorted(only_new, key=repr)[:5]:
        print("  new only:", repr(row)[:300])
    return before == after


if __name__ == "__main__":
    old_db, new_db = sys.argv[1:3]
    same = [compare(old_db, new_db, POINTS, "points"), compare(old_db, new_db, STATUSES, "statuses")]
    sys.exit(0 if all(same) else 1)
