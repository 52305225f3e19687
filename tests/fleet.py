"""Many distinct targets the sample archive answers for: Gaia29... alert names (the Gaia Alerts template)
and positions north of Dec +80 (the cone-search archives' templates). Used by the reliability tests and
the benchmark."""
import json
import string
import tarfile
import zipfile

from tests.sample_archive.server import DATA_DIR


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
    """Points per fleet target and source, counted from the template files."""
    import pandas as pd
    from astropy.table import Table

    lc = pd.read_csv(DATA_DIR / "gaia_alerts" / "synthetic_lightcurve.csv", skiprows=2, header=None, dtype=str)
    counts = {"Gaia Alerts": int(pd.to_numeric(lc[2], errors="coerce").notna().sum())}
    for name, folder in (("NEOWISE", "neowise"), ("ALLWISE", "allwise")):
        table = Table.read((DATA_DIR / folder / "synthetic_cone.tbl").read_text()
                           .replace("%%RA%%%%%%%%", f"{10:12.7f}").replace("%%DEC%%%%%%%", f"{85:12.7f}"),
                           format="ascii.ipac")
        counts[name] = 2 * len(table)  # the templates' rows are all clean detections in both bands
    counts["ZTF"] = len(pd.read_csv(DATA_DIR / "ztf" / "synthetic_cone.csv"))  # one point per row, all clean
    with zipfile.ZipFile(DATA_DIR / "gaia_dr3" / "epoch_photometry_synthetic.zip") as archive:
        (member,) = archive.namelist()
        transits = pd.read_csv(archive.open(member), dtype=str, keep_default_na=False)
    counts["Gaia DR3"] = int(sum((transits[mag] != "").sum() for mag in ("g_transit_mag", "bp_mag", "rp_mag")))
    counts["CRTS"] = len(pd.read_csv(DATA_DIR / "crts" / "result_web_fileSynth1.csv"))  # one object, all clean
    counts["ASAS-SN"] = len(pd.read_csv(DATA_DIR / "asassn" / "coordinate_synthetic.csv"))  # every epoch clean
    counts["CPCS"] = len(json.loads((DATA_DIR / "cpcs" / "synthetic.json").read_text())["mjd"])  # limits included
    locus = json.loads((DATA_DIR / "antares" / "locus_synthetic.json").read_text())["data"]
    counts["ANTARES"] = len(locus["lightcurve"].strip().splitlines()) - 1  # ZTF rows only, limits included
    aavso = pd.read_csv(DATA_DIR / "aavso" / "synthetic.txt", sep="@@@", engine="python", dtype=str,
                        keep_default_na=False)
    counts["AAVSO"] = int((aavso["val"].isin(["V", "Z"]) & (aavso["mtype"] != "DIF")).sum())
    atlas = pd.read_csv(DATA_DIR / "atlas" / "synthetic.txt", sep=r"\s+", comment=None, dtype=str)
    counts["ATLAS"] = int((pd.to_numeric(atlas["mag5sig"]) >= 10).sum())  # junk rows dropped, limits included
    counts["SDSS"] = 5 * (len((DATA_DIR / "sdss" / "synthetic_cone.csv").read_text().splitlines()) - 2)  # all clean
    ps1 = json.loads((DATA_DIR / "ps1" / "detection_synthetic.json").read_text())
    ps1 = pd.DataFrame(ps1["data"], columns=[c["name"] for c in ps1["info"]])
    counts["PS1"] = int(((ps1["psfFlux"] > 0) & (ps1["psfFluxErr"] > 0) & (ps1["psfQfPerfect"] >= 0.9)).sum())
    counts["FIRST"] = 1
    with tarfile.open(DATA_DIR / "linear" / "allLINEARfinal_dat.tar.gz") as archive:  # the fleet's sample stars
        counts["LINEAR"] = len(archive.extractfile("20000000.dat").read().splitlines())
    sources, forced = (json.loads((DATA_DIR / "lsst" / f"synthetic_{kind}.json").read_text())
                       for kind in ("sources", "fp"))
    detected = {(row["r:visit"], row["r:band"]) for row in sources}  # forced rows of detected visits are left out
    counts["LSST"] = len(sources) + sum((row["r:visit"], row["r:band"]) not in detected for row in forced)
    lightcurve = json.loads((DATA_DIR / "alerce" / "synthetic_lightcurve.json").read_text())
    forced = json.loads((DATA_DIR / "alerce" / "synthetic_forced.json").read_text())
    counts["ALeRCE ZTF"] = len(lightcurve["detections"]) + len(lightcurve["non_detections"]) + len(forced)  # limits too
    ptf = pd.read_csv(DATA_DIR / "ptf" / "synthetic_cone.csv")
    counts["PTF"] = int((ptf["mag_autocorr"] >= 0).sum())  # placeholders left out
    counts["OGLE EWS"] = len((DATA_DIR / "ogle_ews" / "synthetic_phot.dat").read_text().splitlines())
    return counts
