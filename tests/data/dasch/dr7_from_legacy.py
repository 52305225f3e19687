"""Writes lightcurve_apass_J200349.json (DR7's layout) from the real legacy answer next to it: a subset of its rows
under DR7's column names (tests/data/dasch/PROVENANCE.md). Run from the repository's root:
``python tests/data/dasch/dr7_from_legacy.py``."""
import json
from pathlib import Path

import numpy as np
from astropy.io.votable import parse_single_table

HERE = Path(__file__).parent
#: DR7 name <- legacy name
COLUMNS = {"date_jd": "ExposureDate", "magcal_magdep": "magcal_magdep", "magcal_magdep_rms": "magcal_magdep_rms",
           "magcal_local_rms": "magcal_local_rms", "limiting_mag_local": "limiting_mag_local", "aflags": "AFLAGS",
           "bflags": "BFLAGS", "series": "series", "plate_number": "plateNumber", "gsc_bin_index": "gsc_bin_index",
           "sextractor_number": "NUMBER", "ref_number": "REFNumber", "time_accuracy_days": "timeAccuracy",
           "ra_deg": "ra", "dec_deg": "dec"}


def cell(name, value, detected):
    if name in ("magcal_magdep", "magcal_magdep_rms", "magcal_local_rms", "ra_deg", "dec_deg", "ref_number",
                "gsc_bin_index", "sextractor_number") and not detected:
        return ""  # DR7 leaves a non-detection's measurement columns empty (daschlab masks them)
    return str(value)


def main():
    table = parse_single_table(HERE / "APASS_J200349.5+441051.xml.gz").to_table()
    detected = np.asarray(table["magcal_magdep"]) != 0
    rms = np.asarray(table["magcal_local_rms"])
    index = np.arange(len(table))
    keep = (detected & (index % 5 == 0)) | (~detected & (index % 50 == 0)) | (detected & (rms >= 99))
    lines = [",".join(COLUMNS)]
    for i in np.flatnonzero(keep):
        lines.append(",".join(cell(new, table[old][i], detected[i]) for new, old in COLUMNS.items()))
    (HERE / "lightcurve_apass_J200349.json").write_text(json.dumps(lines, indent=0) + "\n")


if __name__ == "__main__":
    main()
