"""Many distinct targets the sample archive answers for: Gaia29... alert names (the Gaia Alerts template)
and positions north of Dec +80 (the cone-search archives' templates). Used by the reliability, PostgreSQL and
hostile fleets, on a fixed set of sources (``FLEET_SOURCES``), and by the benchmark, on every source."""
import json
import re
import string
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.sample_archive.server import DATA_DIR

#: the sources the test fleets update: one of each way an archive is read (an HTTP CSV by name, a TAP cone, a zip
#: through DataLink, a job queue, time-range chunks, a remembered locus), fixed so that the fleets' time does not
#: grow with the number of archives; each archive's own path is its contract's
FLEET_SOURCES = ("Gaia Alerts", "NEOWISE", "Gaia DR3", "ATLAS", "AAVSO", "ANTARES")


def fleet_brokers():
    """The brokers of the fleet's sources."""
    from tom_bhtom_brokers import updating

    return updating.installed_brokers(FLEET_SOURCES)


def source_options():
    """``--source`` options of ``update_lightcurves`` for the fleet's sources."""
    return [option for name in FLEET_SOURCES for option in ("--source", name)]


def alert_name(i):
    letters = string.ascii_lowercase
    return "Gaia29" + letters[i // 676 % 26] + letters[i // 26 % 26] + letters[i % 26]


def asassn_url(i):
    """A Sky Patrol coordinate job per fleet target (the ASAS-SN template answers for any 5e000000-... job)."""
    return f"https://asas-sn.osu.edu/sky-patrol/coordinate/5e000000-0000-4000-8000-{i:012d}"


def fleet(n):
    """(target name, ra, dec, Gaia Alerts name) for n targets, each with its own name and position."""
    return [(f"fleet-{i:04d}", round(3.0 + i * 1.7133, 7) % 360, 80.5 + (i % 90) * 0.1, alert_name(i))
            for i in range(n)]


def create_fleet(n):
    """The n fleet targets in the database, with their survey names (Gaia Alerts, ASAS-SN URL, CPCS name, AAVSO
    name, OGLE EWS name); ANTARES and ATLAS (the emulated queue) find them by position."""
    from tom_targets.models import Target, TargetExtra

    targets = []
    for i, (name, ra, dec, alert) in enumerate(fleet(n)):
        target = Target.objects.create(name=name, type=Target.SIDEREAL, ra=ra, dec=dec, epoch=2000.0)
        TargetExtra.objects.bulk_create([TargetExtra(target=target, key="Gaia Alerts name", value=alert),
                                         TargetExtra(target=target, key="ASAS-SN URL", value=asassn_url(i)),
                                         TargetExtra(target=target, key="CPCS name", value=f"ivo://{alert}"),
                                         TargetExtra(target=target, key="AAVSO name", value=alert),
                                         TargetExtra(target=target, key="OGLE EWS name",
                                                     value=f"OGLE-2029-BLG-{i:04d}")])
        targets.append(target)
    return targets


def expected_points():
    """Points per fleet target and fleet source, counted from the template files (independently of the parsers)."""
    import pandas as pd
    from astropy.table import Table

    lc = pd.read_csv(DATA_DIR / "gaia_alerts" / "synthetic_lightcurve.csv", skiprows=2, header=None, dtype=str)
    counts = {"Gaia Alerts": int(pd.to_numeric(lc[2], errors="coerce").notna().sum())}
    table = Table.read((DATA_DIR / "neowise" / "synthetic_cone.tbl").read_text()
                       .replace("%%RA%%%%%%%%", f"{10:12.7f}").replace("%%DEC%%%%%%%", f"{85:12.7f}"),
                       format="ascii.ipac")
    counts["NEOWISE"] = 2 * len(table)  # the template's rows are all clean detections in both bands
    with zipfile.ZipFile(DATA_DIR / "gaia_dr3" / "epoch_photometry_synthetic.zip") as archive:
        (member,) = archive.namelist()
        transits = pd.read_csv(archive.open(member), dtype=str, keep_default_na=False)
    counts["Gaia DR3"] = int(sum((transits[mag] != "").sum() for mag in ("g_transit_mag", "bp_mag", "rp_mag")))
    atlas = pd.read_csv(DATA_DIR / "atlas" / "synthetic.txt", sep=r"\s+", comment=None, dtype=str)
    counts["ATLAS"] = int((pd.to_numeric(atlas["mag5sig"]) >= 10).sum())  # junk rows dropped, limits included
    aavso = pd.read_csv(DATA_DIR / "aavso" / "synthetic.txt", sep="@@@", engine="python", dtype=str,
                        keep_default_na=False)
    counts["AAVSO"] = int((aavso["val"].isin(["V", "Z"]) & (aavso["mtype"] != "DIF")).sum())
    locus = json.loads((DATA_DIR / "antares" / "locus_synthetic.json").read_text())["data"]
    counts["ANTARES"] = len(locus["lightcurve"].strip().splitlines()) - 1  # ZTF rows only, limits included
    assert set(counts) == set(FLEET_SOURCES)
    return counts


def db_workers(env, count, timeout=600):
    """``count`` django-tasks ``db_worker`` processes started at once (the site of ``env``), each running until the
    queue has nothing due: how many tasks each ran. Raises with a worker's log when one fails."""
    repo = Path(__file__).resolve().parent.parent
    workers = [subprocess.Popen([sys.executable, "-m", "django", "db_worker", "--batch", "--no-startup-delay",
                                 "--interval", "0.1", "-v", "2"], cwd=repo, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(count)]
    logs = [worker.communicate(timeout=timeout) for worker in workers]
    failed = [err[-1500:] for worker, (_, err) in zip(workers, logs) if worker.returncode]
    if failed:
        raise RuntimeError(f"db_worker failed: {failed}")
    return [len(set(re.findall(r"Task id=([0-9a-f-]+)", out + err))) for out, err in logs]
