"""Writes the sample archive's recorded responses, in each archive's real format.

The formats follow ../shared/archive-samples (Gaia Alerts ``lightcurve.csv`` in both header layouts,
``alerts.csv``, IRSA IPAC tables); the values are made here, seeded, so the files are ours and
reproducible: ``python tests/data/make_fixtures.py`` rewrites them identically.
"""
import json
from pathlib import Path

import numpy as np
from astropy.time import Time

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(20261122)

# Demo objects: (alert name or None, ra, dec, what it is). Gaia20fnr's position is the one IRSA was
# asked about in the NEOWISE reference sample; the others are fixture positions.
OBJECTS = {
    "Gaia18cbf": (268.887500, -31.247200),
    "Gaia19dke": (304.710800, 55.154700),
    "Gaia20fnr": (90.267010, -18.967700),
    "Gaia14aaa": (12.600000, -17.200000),
}
NEOWISE_ONLY = {"FU Ori": (88.071700, 9.068000)}


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- Gaia Alerts ---------------------------------------------------------------------------------------

def transit_times(start_jd, end_jd):
    """Gaia scans a field every ~30-60 days, each time in both fields of view ~106 min apart."""
    times, t = [], start_jd
    while t < end_jd:
        for k in range(rng.integers(1, 4)):
            base = t + k * 0.25
            times += [base, base + 106.5 / 1440]
        t += rng.uniform(25, 70)
    return np.array(times)


def gaia_lightcurve(name, jd, mag, layout="current"):
    dates = Time(jd, format="jd", scale="utc").to_value("iso", subfmt="date_hms")
    if layout == "current":
        lines = [name, "#Date,JD(TCB),averagemag"]
        jd_text = [f"{j:.5f}" for j in jd]
    else:
        lines = [name, "#Date,JD,averagemag."]
        jd_text = [f"{j:.3f}" for j in jd]
    for d, j, m in zip(dates, jd_text, mag):
        lines.append(f"{d[:19]},{j},{m}")
    return "\n".join(lines) + "\n"


def mag_text(mag, untrusted=0.08, null=0.12, allow_untrusted=True):
    out = []
    for m in mag:
        r = rng.random()
        if allow_untrusted and r < untrusted:
            out.append("untrusted")
        elif r < untrusted + null:
            out.append("null")
        else:
            out.append(f"{m:.2f}")
    return out


def paczynski(jd, t0, te, u0, baseline):
    u = np.hypot(u0, (jd - t0) / te)
    amp = (u ** 2 + 2) / (u * np.sqrt(u ** 2 + 4))
    return baseline - 2.5 * np.log10(amp)


def gaia_alerts():
    folder = HERE / "gaia_alerts"
    jd = transit_times(2456905.2, 2460340.0)
    mag = paczynski(jd, 2458330.0, 60.0, 0.15, 20.3) + rng.normal(0, 0.04, len(jd))
    text = mag_text(mag)
    text[:3] = ["untrusted"] * 3
    # Gaia18cbf and Gaia14aaa are real answers (PROVENANCE.md), not written here; their values are still
    # drawn, so the seeded values of every file after them stay as they were

    jd = transit_times(2457000.0, 2460340.0)
    mag = 17.1 + 0.4 * np.sin((jd - 2457000) / 97.0) + rng.normal(0, 0.02, len(jd))
    write(folder / "Gaia19dke_lightcurve.csv", gaia_lightcurve("Gaia19dke", jd, mag_text(mag)))

    jd = transit_times(2456900.0, 2460340.0)
    mag = np.where(jd > 2459100, 16.0 - 0.8 * np.exp(-(jd - 2459100) / 400.0), 16.0) + rng.normal(0, 0.02, len(jd))
    write(folder / "Gaia20fnr_lightcurve.csv", gaia_lightcurve("Gaia20fnr", jd, mag_text(mag)))

    # the 2014-2015 layout: '#Date,JD,averagemag.' with 3-decimal JDs and only 'null' markers
    jd = transit_times(2456871.25, 2457176.0)
    mag = 18.0 + 1.5 * (jd - 2456871) / 300 + rng.normal(0, 0.05, len(jd))
    mag_text(mag, allow_untrusted=False)

    rows = ["#Name, Date, RaDeg, DecDeg, AlertMag, HistoricMag, HistoricStdDev, Class, Published, Comment, TNSid"]
    entries = [
        ("Gaia20fnr", "2020-09-14 02:11:40", *OBJECTS["Gaia20fnr"], "15.21", "16.02", "0.03", "unknown",
         "2020-09-16 10:02:11", "brightening by 0.8 mag, young stellar object candidate, near IRAS source",
         "AT2020aabc"),
        ("Gaia19dke", "2019-08-20 11:44:02", *OBJECTS["Gaia19dke"], "16.70", "17.45", "0.05", "ULENS",
         "2019-08-22 08:31:00", "long microlensing event, \"Galactic disc\", confirmed", "AT2019npu"),
        ("Gaia18cbf", "2018-07-27 15:48:37", *OBJECTS["Gaia18cbf"], "18.32", "20.30", "0.11", "ULENS",
         "2018-07-30 12:10:05", "candidate microlensing event in the bulge, rises by 2 mag", "AT2018ell"),
        ("Gaia18cbe", "2018-07-27 09:12:44", 101.22041, 12.40551, "17.91", "", "", "SN Ia",
         "2018-07-30 12:09:58", "Candidate SN near galaxy, confirmed SN Ia", "SN2018ele"),
        ("Gaia14aaa", "2014-08-30 02:22:15", *OBJECTS["Gaia14aaa"], "17.00", "", "", "SN Ia",
         "2014-09-02 13:00:00", "candidate SN", ""),
    ]
    for name, date, ra, dec, am, hm, hs, cls, pub, comment, tns in entries:
        comment = comment.replace('"', '""')
        rows.append(f'{name},{date},{ra:.5f},{dec:.5f},{am},{hm},{hs},"{cls}",{pub},"{comment}",{tns}')
    rows[-1] = rows[-1][: -len(",")] + ',"",'  # the oldest rows end with an empty quoted TNSid and a comma
    write(folder / "alerts.csv", "\n".join(rows) + "\n")
    # a template answering for any name Gaia29..., the many targets of the benchmark and fault tests
    jd = transit_times(2457000.0, 2460340.0)
    mag = 18.5 + 0.3 * np.sin((jd - 2457000) / 53.0) + rng.normal(0, 0.03, len(jd))
    write(folder / "synthetic_lightcurve.csv", gaia_lightcurve("{name}", jd, mag_text(mag)))
    write(folder / "routes.json", json.dumps([
        {"path": "/alerts/alert/{name}/lightcurve.csv", "file": "synthetic_lightcurve.csv",
         "name_pattern": "^Gaia29[a-z]+$", "template": True},
        {"path": "/alerts/alert/{name}/lightcurve.csv", "file": "{name}_lightcurve.csv"},
        {"path": "/alerts/alerts.csv", "file": "alerts.csv"},
    ], indent=2) + "\n")


# --- NEOWISE (IRSA TAP, IPAC table) -------------------------------------------------------------------

NEOWISE_COLUMNS = [
    ("ra", "double", "deg"), ("dec", "double", "deg"), ("mjd", "double", "d"), ("w1mpro", "double", "mag"),
    ("w1sigmpro", "double", "mag"), ("w2mpro", "double", "mag"), ("w2sigmpro", "double", "mag"),
    ("qual_frame", "int", ""), ("qi_fact", "double", ""), ("saa_sep", "int", "deg"), ("moon_masked", "char", ""),
    ("cc_flags", "char", ""), ("ph_qual", "char", ""), ("nb", "int", ""), ("na", "int", ""),
]


def ipac_table(rows, columns, keywords):
    """An IPAC table as IRSA writes it: keywords, four '|' header rows, fixed-width data, 'null' for nulls."""
    cells = [[("null" if v is None else v) for v in row] for row in rows]
    widths = [max([len(name), len(kind), len(unit), 4] + [len(str(r[i])) for r in cells]) + 1
              for i, (name, kind, unit) in enumerate(columns)]
    out = ["\\fixlen = T"] + [f"\\{k} = {v}" for k, v in keywords.items()]
    for field in range(3):
        out.append("|" + "|".join(str(col[field]).rjust(w) for col, w in zip(columns, widths)) + "|")
    out.append("|" + "|".join("null".rjust(w) for w in widths) + "|")
    for row in cells:
        out.append(" " + " ".join(str(v).rjust(w) for v, w in zip(row, widths)) + " ")
    return "\n".join(out) + "\n"


def neowise_rows(ra0, dec0, base_w1, base_w2, visits):
    rows = []
    for visit in range(visits):
        mjd0 = 56700.0 + visit * 182.6 + rng.uniform(-3, 3)
        for k in range(rng.integers(10, 16)):
            ra = ra0 + rng.normal(0, 0.3) / 3600 / np.cos(np.radians(dec0))
            dec = dec0 + rng.normal(0, 0.3) / 3600
            w1 = base_w1 + rng.normal(0, 0.03)
            w2 = base_w2 + rng.normal(0, 0.04)
            rows.append([f"{ra:.7f}", f"{dec:.7f}", f"{mjd0 + k * 0.066:.8f}", f"{w1:.3f}", "0.018",
                         f"{w2:.3f}", "0.022", 5, "1.0", 90, "00", "0000", "AA", 1, 0])
    return rows


def neowise():
    folder = HERE / "neowise"
    keywords = {"ORIGIN": "'IPAC Infrared Science Archive (IRSA), Caltech/JPL'",
                "DATABASE": "'NEOWISE-R Single Exposure (L1b) Source Table (neowiser_p1bs_psd)'"}
    routes = []
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    rows = neowise_rows(ra0, dec0, 10.80, 10.88, visits=16)
    # the pitfalls of the real table, one row each:
    rows[3][3:5] = [None, None]                       # W1 missing: a W2-only point
    rows[5][3], rows[5][11] = "6.068", "D000"         # a W1 outlier flagged as a diffraction spike
    rows[7][7] = 0                                    # a bad frame (qual_frame 0)
    rows[9][10] = "10"                                # W1 Moon-contaminated
    rows[11][12], rows[11][4] = "UA", None            # W1 an upper limit
    rows[13][13] = 2                                  # blended (nb 2)
    neighbour = neowise_rows(ra0 + 3.6 / 3600 / np.cos(np.radians(dec0)), dec0, 13.9, 13.7, visits=4)
    write(folder / "cone_Gaia20fnr.tbl", ipac_table(rows + neighbour, NEOWISE_COLUMNS, keywords))
    routes.append({"path": "/TAP/sync", "contains": {"QUERY": "neowiser_p1bs_psd"}, "cone": [ra0, dec0],
                   "file": "cone_Gaia20fnr.tbl"})
    for label, (ra, dec), w1, w2 in (("Gaia19dke", OBJECTS["Gaia19dke"], 12.4, 12.2),
                                     ("FU_Ori", NEOWISE_ONLY["FU Ori"], 4.9, 3.9)):
        write(folder / f"cone_{label}.tbl", ipac_table(neowise_rows(ra, dec, w1, w2, visits=18), NEOWISE_COLUMNS,
                                                       keywords))
        routes.append({"path": "/TAP/sync", "contains": {"QUERY": "neowiser_p1bs_psd"}, "cone": [ra, dec],
                       "file": f"cone_{label}.tbl"})
    # a template answering for any cone north of Dec +80: the detections sit at the cone centre
    rows = neowise_rows(0.0, 80.0, 11.5, 11.3, visits=18)
    for row in rows:
        row[0], row[1] = "%%RA%%%%%%%%", "%%DEC%%%%%%%"
    write(folder / "synthetic_cone.tbl", ipac_table(rows, NEOWISE_COLUMNS, keywords))
    routes.append({"path": "/TAP/sync", "contains": {"QUERY": "neowiser_p1bs_psd"}, "region": {"dec_min": 80},
                   "file": "synthetic_cone.tbl", "template": True})
    write(folder / "no_coverage.tbl", ipac_table([], NEOWISE_COLUMNS, keywords))
    routes.append({"path": "/TAP/sync", "contains": {"QUERY": "neowiser_p1bs_psd"}, "file": "no_coverage.tbl"})
    write(folder / "routes.json", json.dumps(routes, indent=2) + "\n")


# --- AllWISE multi-epoch (IRSA TAP, IPAC table) --------------------------------------------------------

ALLWISE_COLUMNS = [
    ("cntr_mf", "long", ""), ("ra", "double", "deg"), ("dec", "double", "deg"), ("mjd", "double", "day"),
    ("w1mpro_ep", "double", "mag"), ("w1sigmpro_ep", "double", "mag"), ("w2mpro_ep", "double", "mag"),
    ("w2sigmpro_ep", "double", "mag"), ("qi_fact", "double", ""), ("saa_sep", "int", "deg"),
    ("moon_masked", "char", ""), ("cc_flags", "char", ""), ("nb", "int", ""), ("na", "int", ""),
]


def allwise_rows(cntr, ra, dec, w1, w2, epochs):
    """One AllWISE source: its position on every row (as the table has it), ~12 frames per 2010 visit."""
    rows = []
    for visit, start in enumerate((55270.0, 55455.0)[: 1 + (epochs > 12)]):
        for k in range(min(epochs - 12 * visit, 12)):
            rows.append([cntr, f"{ra:.7f}", f"{dec:.7f}", f"{start + k * 0.1323:.8f}",
                         f"{w1 + rng.normal(0, 0.03):.3f}", "0.025", f"{w2 + rng.normal(0, 0.03):.3f}", "0.028",
                         "1.0", 80, "0000", "0000", 1, 0])
    return rows


def allwise():
    folder = HERE / "allwise"
    keywords = {"ORIGIN": "'IPAC Infrared Science Archive (IRSA), Caltech/JPL'",
                "DATABASE": "'AllWISE Multiepoch Photometry Table (allwise_p3as_mep)'"}
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    rows = allwise_rows(906118801351000042, ra0 + 0.2 / 3600, dec0, 10.75, 10.85, epochs=24)
    rows[2][4:6] = [None, None]                     # W1 missing: a W2-only point, never an empty W1 one
    rows[4][6:8] = [None, None]                     # W2 missing: a W1-only point
    rows[6][11] = "H000"                            # W1 halo-contaminated
    rows[8][10] = "01"                              # W2 Moon-contaminated
    rows[10][8] = "0.0"                             # bad image quality
    neighbour = allwise_rows(906118801351000043, ra0 - 3.9 / 3600 / np.cos(np.radians(dec0)), dec0, 14.2, 13.9,
                             epochs=12)
    write(folder / "cone_Gaia20fnr.tbl", ipac_table(rows + neighbour, ALLWISE_COLUMNS, keywords))
    rows = allwise_rows(906118801351000077, 0.0, 80.0, 11.6, 11.4, epochs=24)
    for row in rows:
        row[1], row[2] = "%%RA%%%%%%%%", "%%DEC%%%%%%%"
    write(folder / "synthetic_cone.tbl", ipac_table(rows, ALLWISE_COLUMNS, keywords))
    write(folder / "no_coverage.tbl", ipac_table([], ALLWISE_COLUMNS, keywords))
    query = {"QUERY": "allwise_p3as_mep"}
    write(folder / "routes.json", json.dumps([
        {"path": "/TAP/sync", "contains": query, "cone": [ra0, dec0], "file": "cone_Gaia20fnr.tbl"},
        {"path": "/TAP/sync", "contains": query, "region": {"dec_min": 80}, "file": "synthetic_cone.tbl",
         "template": True},
        {"path": "/TAP/sync", "contains": query, "file": "no_coverage.tbl"},
    ], indent=2) + "\n")


# --- ZTF data releases (IRSA nph_light_curves, CSV) -------------------------------------------------------

ZTF_HEADER = ("oid,expid,hjd,mjd,mag,magerr,catflags,filtercode,ra,dec,chi,sharp,filefracday,field,ccdid,qid,"
              "limitmag,magzp,magzprms,clrcoeff,clrcounc,exptime,airmass,programid")


def ztf_rows(oid, filtercode, field, ra, dec, base, n, start=58200.0):
    rows = []
    for k in range(n):
        mjd = start + k * rng.uniform(1.5, 4.0) + rng.uniform(0, 0.2)
        mag = base + 0.15 * np.sin(mjd / 40.0) + rng.normal(0, 0.02)
        rows.append(f"{oid},{int(mjd * 1000)},{mjd + 2400000.5 + 0.0031:.8f},{mjd:.8f},{mag:.4f},"
                    f"{0.015 + 0.01 * rng.random():.4f},0,{filtercode},{ra},{dec},"
                    f"{rng.uniform(0.8, 1.3):.3f},{rng.normal(0, 0.02):.3f},{int(mjd * 1e6)},{field},5,2,"
                    f"{20.6 + rng.normal(0, 0.2):.3f},26.3,0.02,0.12,0.01,30,1.2,1")
    return rows


def ztf():
    folder = HERE / "ztf"
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    pos = (f"{ra0 + 0.1 / 3600:.7f}", f"{dec0:.7f}")
    rows = (ztf_rows("1352111400012345", "zr", 1352, *pos, 15.9, 40)
            + ztf_rows("316211400005678", "zr", 316, *pos, 15.92, 25)
            + ztf_rows("1352111300009876", "zg", 1352, *pos, 16.6, 35)
            + ztf_rows("1352111200004321", "zi", 1352, *pos, 15.5, 10))
    rows[5] = rows[5].replace(",0,zr,", ",4,zr,")     # a flag bit other than 15: kept, stored in the extras
    write(folder / "cone_Gaia20fnr.csv", "\n".join([ZTF_HEADER] + rows) + "\n")
    template = ztf_rows("1999111100000001", "zr", 1999, "%%RA%%%%%%%%", "%%DEC%%%%%%%", 17.2, 30) \
        + ztf_rows("1999111000000002", "zg", 1999, "%%RA%%%%%%%%", "%%DEC%%%%%%%", 17.8, 30)
    write(folder / "synthetic_cone.csv", "\n".join([ZTF_HEADER] + template) + "\n")
    write(folder / "no_coverage.csv", ZTF_HEADER + "\n")
    # IRSA's 400 answer to a cone it cannot serve (as reported in AAVSO/VStar#560), a VOTable error document
    write(folder / "usage_fault_400.xml",
          '<?xml version="1.0" encoding="UTF-8"?>\n'
          '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
          '<RESOURCE type="results">\n<INFO name="QUERY_STATUS" value="ERROR">UsageFault: Internal error '
          '(invalid TAP query)</INFO>\n</RESOURCE>\n</VOTABLE>\n')
    path = "/cgi-bin/ZTF/nph_light_curves"
    write(folder / "routes.json", json.dumps([
        {"path": path, "cone": [ra0, dec0], "file": "cone_Gaia20fnr.csv"},
        {"path": path, "cone": [200.0, -45.0], "file": "usage_fault_400.xml", "status": 400,
         "content_type": "text/xml"},
        {"path": path, "region": {"dec_min": 80}, "file": "synthetic_cone.csv", "template": True},
        {"path": path, "file": "no_coverage.csv"},
    ], indent=2) + "\n")


# --- Gaia DR3 epoch photometry (Gaia archive TAP cone, CSV; DataLink zip) --------------------------------

GAIA_CONE_HEADER = "source_id,ra,dec,pmra,pmdec,has_epoch_photometry"
#: the one-row-per-transit layout the data server has written since early 2025 (CSV)
TRANSIT_HEADER = ("solution_id,source_id,transit_id,g_transit_time,g_transit_flux,g_transit_flux_error,"
                  "g_transit_flux_over_error,g_transit_mag,bp_obs_time,bp_flux,bp_flux_error,bp_flux_over_error,"
                  "bp_mag,rp_obs_time,rp_flux,rp_flux_error,rp_flux_over_error,rp_mag,variability_flag_g_reject,"
                  "variability_flag_bp_reject,variability_flag_rp_reject,g_other_flags,bp_other_flags,"
                  "rp_other_flags,rejected_by_photometry")
GAIA_ZERO_POINTS = {"G": 25.6874, "BP": 25.3385, "RP": 24.7479}
SOLUTION_ID = "375316653866487564"


def gaia_transits(n_scans, start=1670.0, end=2700.0):
    """Gaia DR3 transit times (BJD(TCB) - 2455197.5) and ids: scans every few weeks, pairs 106.5 min apart."""
    times = []
    for t in np.sort(rng.uniform(start, end, n_scans)):
        times += [t, t + 106.5 / 1440]
    times = np.round(np.array(times), 9)
    return times, [str(int(t * 86400 * 1e4) * 10 + 7) for t in times]


def flux_of(mag, band):
    return 10 ** (-0.4 * (mag - GAIA_ZERO_POINTS[band]))


def zip_bytes(members):
    """A zip as the data server sends it (one member per source), reproducible (fixed member dates)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 3, 1, 0, 0, 0)), content)
    return buffer.getvalue()


def transit_layout_csv(source_id, times, transit_ids, g, bp, rp):
    rows = [TRANSIT_HEADER]
    for k, (t, tid) in enumerate(zip(times, transit_ids)):
        cells = [SOLUTION_ID, source_id, tid]
        for band, mag, dt, soe in (("G", g[k], 0.0, 180.0), ("BP", bp[k], -0.00035, 60.0),
                                   ("RP", rp[k], 0.00041, 75.0)):
            if np.isnan(mag):
                cells += ["", "", "", "", ""]
                continue
            flux = flux_of(mag, band)
            cells += [f"{t + dt:.9f}", f"{flux:.4f}", f"{flux / soe:.4f}", f"{soe:.3f}", f"{mag:.6f}"]
        cells += ["false", "false", "false", "1", "0", "0", "false"]
        rows.append(",".join(cells))
    return "\n".join(rows) + "\n"


def gaia_dr3():
    from astropy.table import Table

    folder = HERE / "gaia_dr3"
    folder.mkdir(parents=True, exist_ok=True)
    routes = []
    tap = {"path": "/tap-server/tap/sync", "contains": {"QUERY": "gaiadr3.gaia_source"}}

    # Gaia20fnr: a star moving 150 mas/yr north, 2.4" from the target's J2000 position at J2016.0 (found
    # only with its proper motion), and a still neighbour 1.5" away (the nearest if proper motion is ignored)
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    star, neighbour = "2945521337401118464", "2945521337401118592"
    write(folder / "cone_Gaia20fnr.csv", "\n".join([
        GAIA_CONE_HEADER,
        f"{star},{ra0 + 0.05 / 3600:.9f},{dec0 + 16 * 0.150 / 3600:.9f},0.0,150.0,True",
        f"{neighbour},{ra0:.9f},{dec0 - 1.5 / 3600:.9f},,,False"]) + "\n")
    routes.append({**tap, "cone": [ra0, dec0], "file": "cone_Gaia20fnr.csv"})
    times, ids = gaia_transits(22)
    g = 16.0 + 0.05 * np.sin(times / 30.0) + rng.normal(0, 0.004, len(times))
    bp, rp = g + 0.9 + rng.normal(0, 0.01, len(times)), g - 1.1 + rng.normal(0, 0.01, len(times))
    bp[[3, 8]] = np.nan                      # transits without BP and RP: empty cells, no point
    rp[[3, 8]] = np.nan
    text = transit_layout_csv(star, times, ids, g, bp, rp).splitlines()
    reject = text[6].split(",")
    reject[18] = "true"                      # G rejected by the variability processing: dropped
    text[6] = ",".join(reject)
    rejected = text[11].split(",")           # rejected by the photometry processing: no fluxes at all
    text[11] = ",".join(rejected[:3] + [rejected[3]] + [""] * 4 + rejected[8:9] + [""] * 4 + rejected[13:14]
                        + [""] * 4 + rejected[18:24] + ["true"])
    flags = text[14].split(",")
    flags[21] = "4097"                       # another G flag: kept in the extras
    text[14] = ",".join(flags)
    (folder / f"epoch_photometry_{star}.zip").write_bytes(
        zip_bytes({f"EPOCH_PHOTOMETRY-Gaia DR3 {star}.csv": "\n".join(text) + "\n"}))
    routes.append({"path": "/data-server/data", "contains": {"ID": star}, "file": f"epoch_photometry_{star}.zip",
                   "content_type": "application/zip"})

    # Gaia19dke: the old one-row-per-band layout, as a VOTable (how the data server wrote it until late 2024)
    ra1, dec1 = OBJECTS["Gaia19dke"]
    old = "2188191553213987072"
    write(folder / "cone_Gaia19dke.csv", "\n".join([
        GAIA_CONE_HEADER, f"{old},{ra1 - 0.2 / 3600:.9f},{dec1 + 0.1 / 3600:.9f},-1.2,-3.4,True"]) + "\n")
    routes.append({**tap, "cone": [ra1, dec1], "file": "cone_Gaia19dke.csv"})
    times, ids = gaia_transits(18)
    rows = []
    for band, base, dt, soe in (("G", 17.3, 0.0, 150.0), ("BP", 18.4, -0.00035, 40.0), ("RP", 16.2, 0.00041, 55.0)):
        for k, (t, tid) in enumerate(zip(times, ids)):
            mag = base + 0.2 * np.sin(t / 90.0) + rng.normal(0, 0.01)
            rows.append((int(old), int(tid), band, t + dt, mag, flux_of(mag, band), flux_of(mag, band) / soe, soe,
                         False, band == "G" and k == 5, 0, int(SOLUTION_ID)))
    table = Table(rows=rows, names=("source_id", "transit_id", "band", "time", "mag", "flux", "flux_error",
                                    "flux_over_error", "rejected_by_photometry", "rejected_by_variability",
                                    "other_flags", "solution_id"))
    import io
    votable = io.BytesIO()
    table.write(votable, format="votable")
    (folder / f"epoch_photometry_{old}.zip").write_bytes(
        zip_bytes({f"EPOCH_PHOTOMETRY-Gaia DR3 {old}.xml": votable.getvalue()}))
    routes.append({"path": "/data-server/data", "contains": {"ID": old}, "file": f"epoch_photometry_{old}.zip",
                   "content_type": "application/zip"})

    # Gaia18cbf: a source without epoch photometry (most of DR3's 1.8 billion)
    ra2, dec2 = OBJECTS["Gaia18cbf"]
    write(folder / "cone_Gaia18cbf.csv", "\n".join([
        GAIA_CONE_HEADER, f"4043383456173344256,{ra2:.9f},{dec2 + 0.3 / 3600:.9f},-2.1,-5.5,False"]) + "\n")
    routes.append({**tap, "cone": [ra2, dec2], "file": "cone_Gaia18cbf.csv"})

    # any cone north of Dec +80: one clean star at the cone centre
    synthetic = "5000000000000000001"
    write(folder / "synthetic_cone.csv", "\n".join([
        GAIA_CONE_HEADER, f"{synthetic},%%RA%%%%%%%%,%%DEC%%%%%%%,0.0,0.0,True"]) + "\n")
    routes.append({**tap, "region": {"dec_min": 80}, "file": "synthetic_cone.csv", "template": True})
    times, ids = gaia_transits(25)
    g = 18.1 + 0.1 * np.sin(times / 40.0)
    (folder / "epoch_photometry_synthetic.zip").write_bytes(zip_bytes({
        f"EPOCH_PHOTOMETRY-Gaia DR3 {synthetic}.csv": transit_layout_csv(synthetic, times, ids, g, g + 0.7, g - 0.9)}))
    routes.append({"path": "/data-server/data", "contains": {"ID": synthetic}, "file": "epoch_photometry_synthetic.zip",
                   "content_type": "application/zip"})
    write(folder / "no_coverage.csv", GAIA_CONE_HEADER + "\n")
    routes.append({**tap, "file": "no_coverage.csv"})
    write(folder / "routes.json", json.dumps(routes, indent=2) + "\n")


# --- CRTS (Catalina CSDR2 cone-search CGI: an HTML page linking to a CSV) ----------------------------------

CRTS_CSV_HEADER = "MasterID,Mag,Magerr,RA,Dec,MJD,Blend"


def crts_page(ra, dec, radius_deg, message):
    """The CGI's answer: the "Querying region" block the real pages start with, then the result message."""
    return f"""<!DOCTYPE html
\tPUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
\t "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" lang="en-US" xml:lang="en-US">
<head>
<title>Positional Cone Search</title>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1" />
</head>
<body link="#E1E10" alink="#ffff00" vlink="#00ffff" bgcolor="#00004f" text="#000000">
<center>
<table border=0 bgcolor="#c0c0c0" cellpadding=2 cellspacing=2><tr><td bgcolor="#000099">
<table border=0 width="100%" cellpadding=6 cellspacing=0><tr align="center" bgcolor="#000099">
<td bgcolor="#000099"><font color="#ffffff">Querying region</font></td></tr></table>
<table border=1 width="100%" bgcolor="#c0c0c0" cellpadding=6 cellspacing=0>
<tr align="center" bgcolor="#000099"><td><font color="yellow">RA</font></td><td><font color="yellow">Dec</font></td>
<td><font color="yellow">Radius</font></td></tr>
<tr align="center" bgcolor="#000099"><td><font color="yellow">{ra}</font></td><td><font color="yellow">{dec}</font></td>
<td><font color="yellow">{radius_deg}</font></td></tr>
</table></td></tr></table>
<font color="#ffffff">Please wait!</font>
<p><font color="#ffffff">Photcat DB query</font></p>
{message}
</center>
</body>
</html>
"""


def crts_link(path, lines):
    return (f'<font color="#ffffff">There were {lines} lines. <a href="{path}">{path.rsplit("/", 1)[-1]}</a> '
            f"(right-mouse-click and save as to download )</font>")


def crts_rows(master_id, ra, dec, base, nights, start=53470.0):
    rows = []
    for night in np.sort(rng.uniform(start, 56430.0, nights)):
        for k in range(4):  # four exposures ~10 minutes apart
            mag = base + 0.12 * np.sin(night / 70.0) + rng.normal(0, 0.05)
            rows.append([master_id, f"{mag:.2f}", f"{0.05 + 0.02 * rng.random():.2f}",
                         f"{ra + rng.normal(0, 0.4) / 3600:.5f}", f"{dec + rng.normal(0, 0.4) / 3600:.5f}",
                         f"{night + k * 0.0069:.5f}", "0"])
    return rows


def crts():
    folder = HERE / "crts"
    path = "/cgi-bin/getcssconedb_release_img.cgi"
    routes = []
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    star = crts_rows("1118084012345", ra0 + 0.5 / 3600, dec0, 15.95, 30)
    star[7][6] = star[8][6] = "1"                     # blended exposures: kept, flag in the extras
    same_star_sss = crts_rows("3018084054321", ra0 + 1.8 / 3600, dec0 + 0.4 / 3600, 15.90, 6)
    neighbour = crts_rows("1118084012399", ra0, dec0 + 5.0 / 3600, 18.7, 8)
    csv = "\n".join([CRTS_CSV_HEADER] + [",".join(r) for r in star + same_star_sss + neighbour]) + "\n"
    upload = "/DataRelease/upload/result_web_fileQ7tx2K.csv"
    write(folder / "result_web_fileQ7tx2K.csv", csv)
    # the real pages link with the archive's own host name: followed on the configured host
    write(folder / "cone_Gaia20fnr.html", crts_page(f"{ra0:.5f}", f"{dec0:.5f}", "0.002",
                                                    crts_link("http://nunuku.caltech.edu" + upload,
                                                              len(csv.splitlines()))))
    routes.append({"path": path, "cone": [ra0, dec0], "file": "cone_Gaia20fnr.html",
                   "content_type": "text/html; charset=iso-8859-1"})
    ra1, dec1 = NEOWISE_ONLY["FU Ori"]
    write(folder / "covered_no_objects.html", crts_page(
        f"{ra1:.5f}", f"{dec1:.5f}", "0.002", '<font color="#ffffff">This area is covered by the data release. '
        "However, no objects were found in the specified area .</font>"))
    routes.append({"path": path, "cone": [ra1, dec1], "file": "covered_no_objects.html",
                   "content_type": "text/html; charset=iso-8859-1"})
    synthetic = "/DataRelease/upload/result_web_fileSynth1.csv"
    rows = crts_rows("1180000000001", 10.0, 85.0, 17.3, 35)
    write(folder / "result_web_fileSynth1.csv", "\n".join([CRTS_CSV_HEADER] + [",".join(r) for r in rows]) + "\n")
    write(folder / "synthetic_cone.html", crts_page("cone", "centre", "0.002", crts_link(synthetic, len(rows) + 1)))
    routes.append({"path": path, "region": {"dec_min": 80}, "file": "synthetic_cone.html",
                   "content_type": "text/html; charset=iso-8859-1"})
    # not_covered.html is the CGI's real answer for an uncovered position (PROVENANCE.md)
    routes.append({"path": path, "file": "not_covered.html", "content_type": "text/html; charset=iso-8859-1"})
    routes.append({"path": "/DataRelease/upload/{name}", "file": "{name}", "content_type": "text/plain"})
    write(folder / "routes.json", json.dumps(routes, indent=2) + "\n")


# --- ASAS-SN Sky Patrol v1 (CSV exports of pasted pages) --------------------------------------------------

ASASSN_V1_HEADER = "HJD,UT Date,Camera,FWHM,Limit,mag,mag_err,flux(mJy),flux_err,Filter"
#: the coordinate job of the demo's FU Ori (our own id, in the archive's uuid form)
ASASSN_FU_ORI_JOB = "3f9c2d4e-7a1b-4c8d-9e0f-a1b2c3d4e5f6"
ASASSN_PHOTOMETRY_ID = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
ASASSN_EMPTY_JOB = "00000000-1111-4222-8333-444444444444"


def ut_date(hjd, ra=88.0717, dec=9.0680):
    """v1's ``UT Date`` (``YYYY-MM-DD.ddddddd``, geocentric UTC) of an HJD: the light time to the Sun's centre
    removed with astropy (FU Ori's direction; the file's HJD and UT Date then agree, as they should)."""
    from astropy.coordinates import EarthLocation, SkyCoord
    import astropy.units as u

    arrival = Time(hjd, format="jd", scale="utc", location=EarthLocation.from_geocentric(0, 0, 0, unit=u.m))
    at_earth = arrival - arrival.light_travel_time(SkyCoord(ra * u.deg, dec * u.deg), kind="heliocentric")
    mjd = at_earth.utc.mjd
    return f"{Time(np.floor(mjd), format='mjd').datetime:%Y-%m-%d}.{int(round(mjd % 1 * 1e7)):07d}"


def asassn_epochs(n, start_jd, base_v, base_g):
    """V from the legacy cameras until late 2018, g from the new ones after: ~daily co-adds."""
    rows = []
    for jd in np.sort(rng.uniform(start_jd, start_jd + 2100, n)):
        v_era = jd < 2458450
        camera = rng.choice(["ba", "bc", "be"] if v_era else ["bi", "bm", "bn", "bq"])
        band, base = ("V", base_v) if v_era else ("g", base_g)
        limit = 16.8 + rng.normal(0, 0.3)
        mag = base + 0.05 * np.sin(jd / 30.0) + rng.normal(0, 0.02)
        flux = 3631e3 * 10 ** (-0.4 * mag)
        rows.append([f"{jd:.5f}", ut_date(jd), camera, f"{1.5 + rng.random():.2f}", f"{limit:.3f}", f"{mag:.3f}",
                     f"{0.01 + 0.02 * rng.random():.3f}", f"{flux:.5f}", f"{flux * 0.02:.5f}", band])
    return rows


def asassn():
    folder = HERE / "asassn"
    rows = asassn_epochs(160, 2456950.0, 9.6, 10.1)
    for k in (5, 40, 120):                               # non-detections: '>' + the limit, error 99.990
        rows[k][5], rows[k][6] = f">{rows[k][4]}", "99.990"
    for k in (17, 90):                                   # failed measurements: every value the sentinel
        rows[k][4:9] = ["99.990"] * 5
    # the export ends without a newline, as the archive's does
    write(folder / f"coordinate_{ASASSN_FU_ORI_JOB}.csv", "\n".join([ASASSN_V1_HEADER] + [",".join(r) for r in rows]))
    # a coordinate job ASAS-SN has not observed yet: the header alone
    write(folder / f"coordinate_{ASASSN_EMPTY_JOB}.csv", ASASSN_V1_HEADER)
    # a photometry-database page: lower-case header, no filter column (the camera says it)
    rows = asassn_epochs(40, 2457300.0, 12.2, 12.6)
    lines = ["hjd,camera,mag,mag_err,flux,flux_err"] + [",".join([r[0], r[2], r[5], r[6], r[7], r[8]]) for r in rows]
    write(folder / f"photometry_{ASASSN_PHOTOMETRY_ID}.csv", "\n".join(lines) + "\n")
    # a template answering for any coordinate job 5e000000-... (the fleet of the reliability tests and benchmark)
    rows = asassn_epochs(120, 2457000.0, 13.1, 13.5)
    write(folder / "coordinate_synthetic.csv", "\n".join([ASASSN_V1_HEADER] + [",".join(r) for r in rows]))
    write(folder / "routes.json", json.dumps([
        {"path": "/sky-patrol/coordinate/{name}/export.csv", "file": "coordinate_synthetic.csv",
         "name_pattern": "^5e000000-", "content_type": "text/csv"},
        {"path": "/sky-patrol/coordinate/{name}/export.csv", "file": "coordinate_{name}.csv",
         "content_type": "text/csv"},
        {"path": "/photometry/{name}.csv", "file": "photometry_{name}.csv", "content_type": "text/csv"},
    ], indent=2) + "\n")


# --- CPCS (get_alert_lc_data: a JSON object of parallel arrays) -------------------------------------------

#: the access key the tests configure; the "newer" answers echo it back, as the real server echoes hashtags
CPCS_TEST_KEY = "test-cpcs-access-key-5f2a9c"


def cpcs_document(alert_name, points, newer=True, echo_key=True):
    """One answer: points are (mjd, mag, magerr, caliberr, filter, catalog, observatory)."""
    columns = {"mjd": [], "mag": [], "magerr": [], "caliberr": [], "filter": [], "catalog": [], "observatory": [],
               "id": [], "alert_name": []}
    if newer:
        columns.update({"hashtag": [], "observatory_id": []})
    for k, (mjd, mag, magerr, caliberr, band, catalog, observatory) in enumerate(points):
        columns["mjd"].append(mjd)
        columns["mag"].append(float(np.float32(mag)))     # float32 printed at double precision, as CPCS does
        columns["magerr"].append(float(np.float32(magerr)))
        columns["caliberr"].append(float(np.float32(caliberr)))
        columns["filter"].append(band)
        columns["catalog"].append(catalog)
        columns["observatory"].append(observatory[:20])
        columns["id"].append(400000 + k)
        columns["alert_name"].append(alert_name if newer else None)
        if newer:
            columns["hashtag"].append(CPCS_TEST_KEY if echo_key and k % 3 == 0 else "someone-elses-hashtag-77")
            columns["observatory_id"].append(10 + k % 4)
    return json.dumps(columns)


def cpcs_points(n, base, start_mjd):
    observatories = ["Liam Hardy, pt5m, La Palma", "Ulrich Kolb, PIRATE, Mallorca", "LCO 1m Siding Spring",
                     "Stuart Littlefair, pt5m"]
    points = []
    for mjd in np.sort(rng.uniform(start_mjd, start_mjd + 200, n)):
        band, catalog = [("V", "APASS"), ("B", "APASS"), ("r", "APASS"), ("i", "PS1")][int(rng.integers(0, 4))]
        limit = rng.random() < 0.1
        mag = base + (0.4 if band == "B" else 0) + 0.3 * np.sin(mjd / 20) + rng.normal(0, 0.03)
        points.append((round(float(mjd), 5), round(mag + (1.5 if limit else 0), 3),
                       -1.0 if limit else 0.02 + 0.03 * rng.random(),
                       0.01 + 0.02 * rng.random(), band, catalog, observatories[int(rng.integers(0, 4))]))
    return points


def cpcs():
    folder = HERE / "cpcs"
    path = "/followup/get_alert_lc_data"
    write(folder / "Gaia19dke.json", cpcs_document("ivo://Gaia19dke", cpcs_points(45, 16.8, 58720.0)))
    # ASASSN-13dl.json is a real answer (PROVENANCE.md); its points are still drawn to keep the seeded sequence
    cpcs_points(30, 14.1, 56560.0)
    write(folder / "no_points.json", cpcs_document("ivo://Gaia20zzz", []))
    write(folder / "synthetic.json", cpcs_document("ivo://Gaia29", cpcs_points(25, 17.5, 59000.0), echo_key=False))
    # a refusal that echoes the key back, as servers do
    write(folder / "refused_403.txt", f"Forbidden: hashtag {CPCS_TEST_KEY} may not read ivo://Gaia21echo\n")
    write(folder / "routes.json", json.dumps([
        {"path": path, "contains": {"alert_name": "ivo://Gaia21echo"}, "file": "refused_403.txt", "status": 403},
        {"path": path, "contains": {"alert_name": "ivo://Gaia19dke"}, "file": "Gaia19dke.json",
         "content_type": "application/json"},
        {"path": path, "contains": {"alert_name": "ivo://asassn/ASASSN-13dl"}, "file": "ASASSN-13dl.json",
         "content_type": "application/json"},
        {"path": path, "contains": {"alert_name": "ivo://Gaia29"}, "file": "synthetic.json",
         "content_type": "application/json"},
        {"path": path, "file": "no_points.json", "content_type": "application/json"},
    ], indent=2) + "\n")


# --- ANTARES (REST API v2: locus listings and loci, the light curve a CSV text inside the JSON) ------------

ANTARES_LC_COLUMNS = ("time,alert_id,ant_mjd,ant_survey,ant_ra,ant_dec,ant_passband,ant_mag,ant_magerr,ant_maglim,"
                      "ant_mag_corrected,ant_magerr_corrected").split(",")
ANTARES_GAIA20FNR = ("ANT2020abcdxyz", "ZTF20abkfnrq")
ANTARES_GAIA19DKE = ("ANT2019aaqdkez", "ZTF19abdkeqz")


def antares_rows(ztf_name, ra, dec, n, base, start_mjd, lsst=0):
    """Light-curve rows of a locus: detections (ant_survey 1) and upper limits (2) in g/R/i, LSST rows too."""
    rows = []
    for k, mjd in enumerate(np.sort(rng.uniform(start_mjd, start_mjd + 600, n))):
        band = "gRi"[int(rng.integers(0, 3))] if k % 7 else "i"
        iso = Time(mjd, format="mjd", scale="utc").to_value("iso", subfmt="date_hms")
        pid = 1000000000000 + int(mjd * 1000) % 999999999
        if rng.random() < 0.3:
            rows.append({"time": iso, "alert_id": f"ztf_upper_limit:{ztf_name}-{pid}", "ant_mjd": round(mjd, 7),
                         "ant_survey": 2, "ant_ra": None, "ant_dec": None, "ant_passband": band, "ant_mag": None,
                         "ant_magerr": None, "ant_maglim": round(20.2 + rng.normal(0, 0.4), 4),
                         "ant_mag_corrected": None, "ant_magerr_corrected": None})
        else:
            mag = base + (0.5 if band == "g" else -0.2 if band == "i" else 0) + 0.4 * np.sin(mjd / 30)
            rows.append({"time": iso, "alert_id": f"ztf_candidate:{pid}015015{k:03d}", "ant_mjd": round(mjd, 7),
                         "ant_survey": 1, "ant_ra": round(ra + rng.normal(0, 1e-5), 7),
                         "ant_dec": round(dec + rng.normal(0, 1e-5), 7), "ant_passband": band,
                         "ant_mag": round(mag + rng.normal(0, 0.05), 4),
                         "ant_magerr": round(0.05 + 0.1 * rng.random(), 4),
                         "ant_maglim": round(20.3 + rng.normal(0, 0.3), 4), "ant_mag_corrected": None,
                         "ant_magerr_corrected": None})
    for k in range(lsst):  # an LSST alert in the same locus: not ZTF photometry, left out
        mjd = 61000.0 + k
        rows.append({"time": Time(mjd, format="mjd").to_value("iso", subfmt="date_hms"),
                     "alert_id": f"lsst:17000000{k}", "ant_mjd": mjd, "ant_survey": 3, "ant_ra": ra,
                     "ant_dec": dec, "ant_passband": "r", "ant_mag": 17.9, "ant_magerr": 0.02,
                     "ant_maglim": 24.0, "ant_mag_corrected": None, "ant_magerr_corrected": None})
    return rows


def antares_csv(rows):
    def cell(value):
        return "" if value is None else str(value)
    return "\n".join([",".join(ANTARES_LC_COLUMNS)] + [",".join(cell(r[c]) for c in ANTARES_LC_COLUMNS)
                                                       for r in rows]) + "\n"


def antares_listing_entry(locus_id, ztf_name, ra, dec, rows):
    detections = [r for r in rows if r["ant_survey"] == 1]
    newest = max(r["ant_mjd"] for r in rows)
    return {"locus": {"locus_id": locus_id, "ra": ra, "dec": dec, "htm16": 45000000000 + len(rows),
                      "properties": {"ztf_object_id": ztf_name, "ztf_ssnamenr": "null", "num_alerts": len(detections),
                                     "num_mag_values": len(detections), "newest_alert_observation_time": newest},
                      "tags": ["lc_feature_extractor"], "grav_wave_events": [], "catalogs": []}}


def antares_listing(entries):
    return json.dumps({"data": entries, "meta": {"count": len(entries)},
                       "links": {"self": "https://api.antares.noirlab.edu/v2/loci", "next": None}}, indent=1)


def antares_locus(locus_id, ztf_name, ra, dec, lightcurve):
    return json.dumps({"data": {"id": locus_id, "htm16": 45000000000, "ra": ra, "dec": dec, "grav_wave_events": [],
                                "internal_properties": {"ztf_object_id": ztf_name, "ztf_ssnamenr": "null"},
                                "user_properties": {}, "lightcurve": lightcurve, "tags": ["lc_feature_extractor"],
                                "catalogs": []},
                       "links": {"self": f"https://api.antares.noirlab.edu/v2/loci/{locus_id}"}}, indent=1)


def antares():
    folder = HERE / "antares"
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    (locus, ztf_name), neighbour = ANTARES_GAIA20FNR, ("ANT2020neighbr", "ZTF20abnbrxx")
    rows = antares_rows(ztf_name, ra0, dec0, 60, 15.8, 59000.0, lsst=3)
    near = antares_rows(neighbour[1], ra0, dec0 + 1.2 / 3600, 8, 19.5, 59100.0)
    write(folder / f"locus_{locus}.json", antares_locus(locus, ztf_name, ra0, dec0, antares_csv(rows)))
    write(folder / f"locus_{neighbour[0]}.json",
          antares_locus(neighbour[0], neighbour[1], ra0, dec0 + 1.2 / 3600, antares_csv(near)))
    # a second locus 1.2 arcsec away, listed first (newest alert): the nearest one must be taken
    write(folder / "listing_Gaia20fnr.json", antares_listing([
        antares_listing_entry(neighbour[0], neighbour[1], ra0, round(dec0 + 1.2 / 3600, 7), near + [
            {**near[-1], "ant_mjd": 61000.0}]),
        antares_listing_entry(locus, ztf_name, ra0, dec0, rows)]))
    ra1, dec1 = OBJECTS["Gaia19dke"]
    locus19, ztf19 = ANTARES_GAIA19DKE
    rows19 = antares_rows(ztf19, ra1, dec1, 40, 16.9, 58700.0)
    # the older layout of the light curve (tom_antares' rows): a list of row objects, not CSV text
    write(folder / f"locus_{locus19}.json", antares_locus(locus19, ztf19, ra1, dec1, rows19))
    write(folder / "listing_Gaia19dke.json",
          antares_listing([antares_listing_entry(locus19, ztf19, ra1, dec1, rows19)]))
    write(folder / "listing_empty.json", antares_listing([]))
    synthetic = antares_rows("ZTF29synthet", 0.0, 85.0, 30, 17.0, 59500.0)
    write(folder / "listing_synthetic.json", antares_listing(
        [antares_listing_entry("ANT2029synthetic", "ZTF29synthet", 0.0, 85.0, synthetic)])
        .replace('"ra": 0.0', '"ra": %%RA%%%%%%%%').replace('"dec": 85.0', '"dec": %%DEC%%%%%%%'))
    # once a cone has recorded the ZTF name, later updates search by it (any position will do there)
    write(folder / "listing_synthetic_by_name.json", antares_listing(
        [antares_listing_entry("ANT2029synthetic", "ZTF29synthet", 0.0, 85.0, synthetic)]))
    write(folder / "locus_synthetic.json", antares_locus("ANT2029synthetic", "ZTF29synthet", 0.0, 85.0,
                                                         antares_csv(synthetic)))
    path = "/v2/loci"
    json_type = "application/json"
    write(folder / "routes.json", json.dumps([
        {"path": path, "contains": {"elasticsearch_query": ztf19}, "file": "listing_Gaia19dke.json",
         "content_type": json_type},
        {"path": path, "contains": {"elasticsearch_query": ztf_name}, "file": "listing_Gaia20fnr.json",
         "content_type": json_type},
        {"path": path, "contains": {"elasticsearch_query": "ZTF29synthet"}, "file": "listing_synthetic_by_name.json",
         "content_type": json_type},
        {"path": path, "cone": [ra0, dec0], "file": "listing_Gaia20fnr.json", "content_type": json_type},
        {"path": path, "region": {"dec_min": 80}, "file": "listing_synthetic.json", "template": True,
         "content_type": json_type},
        {"path": path, "file": "listing_empty.json", "content_type": json_type},
        {"path": path + "/{name}", "file": "locus_synthetic.json", "name_pattern": "^ANT2029",
         "content_type": json_type},
        {"path": path + "/{name}", "file": "locus_{name}.json", "content_type": json_type},
    ], indent=2) + "\n")


# --- AAVSO (VSX api.delim, '@@@'-delimited; the sample archive serves each chunk's [fromjd, tojd) rows) ----

AAVSO_HEADER = ("JD mag uncert band by comCode compStar1 compStar2 charts comment transformed airmass val cmag kmag "
                "starName obsAffil mtype adsRef digitizer credit obsID fainterThan obsType software obsName "
                "obsCountry").split()
AAVSO_EDGE_JD = 2415020.5 + 4 * 3652.5    # a chunk boundary of the default chunks: stored once


def aavso_row(jd, mag, uncert, band, observer, val="V", mtype="STD", fainter=0, obs_type="CCD", star="FU ORI"):
    fields = {"JD": f"{jd:.5f}", "mag": f"{mag:.3f}", "uncert": "" if uncert is None else f"{uncert:.3f}",
              "band": band, "by": observer, "comCode": "", "compStar1": "000-BBC-123" if obs_type == "CCD" else "",
              "compStar2": "", "charts": "X12345AB", "comment": "clouds, moon nearby" if rng.random() < 0.2 else "",
              "transformed": "0", "airmass": "" if obs_type != "CCD" else f"{1 + rng.random():.3f}", "val": val,
              "cmag": "", "kmag": "", "starName": star, "obsAffil": "Facility", "mtype": mtype, "adsRef": "",
              "digitizer": "", "credit": "", "obsID": str(int(rng.integers(10**8, 10**9))),
              "fainterThan": str(fainter), "obsType": obs_type, "software": "",
              "obsName": "Surname, Firstname", "obsCountry": "BE"}
    return "@@@".join(fields[c] for c in AAVSO_HEADER)


def aavso_history(star, start_jd, end_jd, n, base, ccd_from):
    rows = []
    for jd in np.sort(rng.uniform(start_jd, end_jd, n)):
        mag = base + 0.3 * np.sin(jd / 400) + rng.normal(0, 0.05)
        r = rng.random()
        if jd < ccd_from or r < 0.25:   # visual estimates: no uncertainty; a few "fainter than"
            fainter = int(rng.random() < 0.08)
            rows.append(aavso_row(jd, round(mag + 0.5 * fainter, 1), None, "Vis.", "ABC", obs_type="Visual",
                                  fainter=fainter, star=star, val="V" if rng.random() < 0.9 else "T"))
        else:
            band = ["V", "B", "I", "SG", "CV"][int(rng.integers(0, 5))]
            rows.append(aavso_row(jd, mag + {"B": 0.8, "I": -1.1}.get(band, 0), 0.01 + 0.03 * rng.random(), band,
                                  "HMB" if r < 0.6 else "XYZ", val="Z" if r < 0.7 else "V",
                                  mtype="DIF" if r > 0.95 else "STD", star=star))
    return rows


def aavso():
    folder = HERE / "aavso"
    fu_ori = aavso_history("FU ORI", 2428900.0, 2460600.0, 260, 9.6, 2451000.0)
    fu_ori.append(aavso_row(AAVSO_EDGE_JD, 9.4, None, "Vis.", "ABC", obs_type="Visual"))
    fu_ori.sort(key=lambda row: float(row.split("@@@")[0]))
    write(folder / "FU_Ori.txt", "\n".join(["@@@".join(AAVSO_HEADER)] + fu_ori) + "\n")
    gaia = aavso_history("GAIA20FNR", 2459180.0, 2459400.0, 40, 13.1, 2459000.0)
    write(folder / "Gaia20fnr.txt", "\n".join(["@@@".join(AAVSO_HEADER)] + gaia) + "\n")
    synthetic = aavso_history("GAIA29", 2459500.0, 2460500.0, 30, 15.0, 2459000.0)
    write(folder / "synthetic.txt", "\n".join(["@@@".join(AAVSO_HEADER)] + synthetic) + "\n")
    write(folder / "no_observations.txt", "@@@".join(AAVSO_HEADER) + "\n")
    path, delimited = "/index.php", {"view": "api.delim", "delimiter": "@@@"}
    write(folder / "routes.json", json.dumps([
        {"path": path, "contains": {**delimited, "ident": "FU Ori"}, "file": "FU_Ori.txt", "rows_delimiter": "@@@"},
        {"path": path, "contains": {**delimited, "ident": "Gaia20fnr"}, "file": "Gaia20fnr.txt",
         "rows_delimiter": "@@@"},
        {"path": path, "contains": {**delimited, "ident": "Gaia29"}, "file": "synthetic.txt", "rows_delimiter": "@@@"},
        {"path": path, "contains": delimited, "file": "no_observations.txt", "rows_delimiter": "@@@"},
    ], indent=2) + "\n")


# --- ATLAS forced photometry (whitespace-separated text, '###' header; the queue is emulated) ---------------

ATLAS_HEADER = ("###MJD          m      dm   uJy   duJy F err chi/N     RA       Dec        x        y     "
                "maj  min   phi  apfit mag5sig Sky   Obs")
ATLAS_HEADER_PA = ATLAS_HEADER.replace("mag5sig Sky", "mag5sig PA_DEG Sky")   # the layout with PA_DEG
ATLAS_TEST_TOKEN = "test-atlas-token-0c9e47d1"
#: the ZTF forced-photometry account the emulated service accepts (tests/data/ztf_fps/queue.json)
ZTF_FPS_TEST_ACCOUNT = {"email": "tom@example.org", "password": "zfps-test-7f3a"}
ATLAS_PASTED_JOB = "job170001"


def atlas_rows(ra, dec, n, base_mag, start_mjd, pa=False, junk=2, faint=4):
    """Result rows: detections in o and c, non-detections (negative flux, S/N < 3) and junk rows."""
    rows = []
    for k, mjd in enumerate(np.sort(rng.uniform(start_mjd, start_mjd + 900, n))):
        band = "o" if rng.random() < 0.7 else "c"
        mag = base_mag + (0.3 if band == "c" else 0) + 0.2 * np.sin(mjd / 50) + rng.normal(0, 0.02)
        ujy = int(round(10 ** ((23.9 - mag) / 2.5)))
        dujy = int(max(5, ujy * 0.02 + rng.normal(0, 3)))
        if k < faint:   # nothing there: a flux at the noise, half of them negative
            ujy = abs(int(rng.normal(0, dujy))) + 1
            ujy = ujy if k % 2 else -ujy
        m = 23.9 - 2.5 * np.log10(abs(ujy)) if ujy else 99.0
        dm = 1.0857 * dujy / max(abs(ujy), 1)
        obs = f"0{1 + k % 4}a{int(mjd)}{band}{int(rng.integers(100, 999)):04d}{band}"
        sig = 19.5 + rng.normal(0, 0.3)
        extra = f" {rng.uniform(-180, 180):6.1f}" if pa else ""
        rows.append(f"{mjd:.6f} {(m if ujy > 0 else -m):7.3f} {dm:6.3f} {ujy:5d} {dujy:4d} {band} {0:2d} "
                    f"{rng.uniform(0.5, 3):6.2f} {ra} {dec} {rng.uniform(200, 10000):8.2f} "
                    f"{rng.uniform(200, 10000):8.2f} {rng.uniform(1.8, 3):4.2f} {rng.uniform(1.8, 3):4.2f} "
                    f"{rng.uniform(-90, 90):5.1f} {-rng.uniform(0.3, 0.5):6.3f} {sig:5.2f}{extra} "
                    f"{sig + 0.8:5.2f} {obs}")
    for k in range(junk):   # failed photometry, as real results have it: huge fluxes, negative mag5sig
        mjd = start_mjd + 100.5 + k
        rows.append(f"{mjd:.6f}  -1.543  0.000 15037656164 9679410864 o  0 1.00 {ra} {dec}  5000.00  5000.00 "
                    f"2.00 2.00   0.0 -0.400 -2.67{' 0.0' if pa else ''} -1.24 01a{int(mjd)}o0001o")
    rows.sort(key=lambda row: float(row.split()[0]))
    return rows


def atlas():
    folder = HERE / "atlas"
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    pos = f"{ra0:9.5f} {dec0:9.5f}"
    rows = atlas_rows(*pos.split(), 60, 15.9, 59000.0)
    rows.insert(10, rows[10])            # the server's duplicated MJD (atlasserver#57): stored once
    write(folder / f"{ATLAS_PASTED_JOB}.txt", "\n".join([ATLAS_HEADER] + rows) + "\n")
    queued = atlas_rows(*pos.split(), 70, 15.9, 59000.0, pa=True)
    write(folder / "queue_Gaia20fnr.txt", "\n".join([ATLAS_HEADER_PA] + queued) + "\n")
    synthetic = atlas_rows("%%RA%%%%%%%%", "%%DEC%%%%%%%", 25, 16.5, 59500.0, junk=1, faint=2)
    write(folder / "synthetic.txt", "\n".join([ATLAS_HEADER] + synthetic) + "\n")
    write(folder / "queue.json", json.dumps({"tokens": [ATLAS_TEST_TOKEN, "demo-token-for-the-sample-archive"],
                                             "throttled_submissions": 0, "polls_queued": 1}, indent=2) + "\n")
    write(folder / "routes.json", json.dumps([
        {"path": "/forcedphot/static/results/{name}.txt", "file": "{name}.txt"},
        {"path": "/forcedphot/_queue_result", "cone": [ra0, dec0], "file": "queue_Gaia20fnr.txt"},
        {"path": "/forcedphot/_queue_result", "region": {"dec_min": 80}, "file": "synthetic.txt", "template": True},
    ], indent=2) + "\n")


# --- SDSS (SkyServer SQL search, '#Table1' + CSV) ---------------------------------------------------------

SDSS_BANDS = "ugriz"
SDSS_HEADER = ",".join(["objID", "ra", "dec", "mode", "run", "camcol", "field"] + [f"psfMag_{b}" for b in SDSS_BANDS]
                       + [f"psfMagErr_{b}" for b in SDSS_BANDS] + [f"mjd_{b}" for b in SDSS_BANDS])
SDSS_PRIMARY = "1237662225682415746"


def sdss_row(objid, ra, dec, mode, run, mjd_r, base, missing=()):
    # the scan order is r, i, u, z, g: each band's field is exposed ~72 s after the previous one
    offsets = {"r": 0, "i": 1, "u": 2, "z": 3, "g": 4}
    mags = {b: base + {"u": 1.9, "g": 0.6, "r": 0.0, "i": -0.2, "z": -0.3}[b] + rng.normal(0, 0.02) for b in SDSS_BANDS}
    errs = {b: 0.01 + 0.03 * rng.random() + (0.05 if b == "u" else 0) for b in SDSS_BANDS}
    mag_text = [("-9999" if b in missing else f"{mags[b]:.5f}") for b in SDSS_BANDS]
    err_text = [("-9999" if b in missing else f"{errs[b]:.5f}") for b in SDSS_BANDS]
    mjd_text = [f"{mjd_r + offsets[b] * 72 / 86400:.8f}" for b in SDSS_BANDS]
    return ",".join([objid, f"{ra:.7f}", f"{dec:.7f}", str(mode), str(run), "3", "163"] + mag_text + err_text
                    + mjd_text)


def sdss():
    folder = HERE / "sdss"
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    rows = [sdss_row(SDSS_PRIMARY, ra0 + 0.05 / 3600, dec0, 1, 5823, 54412.30915, 17.1),
            sdss_row("1237662225682415747", ra0 + 0.04 / 3600, dec0 - 0.05 / 3600, 2, 6061, 54751.41277, 17.3,
                     missing=("u",)),                                    # a repeat scan; u not measured
            sdss_row("1237662225682415748", ra0 + 0.3 / 3600, dec0, 3, 5823, 54412.30915, 16.9)]  # a deblend family
    write(folder / "cone_Gaia20fnr.csv", "#Table1\n" + "\n".join([SDSS_HEADER] + rows) + "\n")
    synthetic = [sdss_row("1237600000000000001", 0.0, 85.0, 1, 7001, 55000.25, 18.2),
                 sdss_row("1237600000000000002", 0.0, 85.0, 2, 7002, 55300.25, 18.25)]
    synthetic = [row.replace(",0.0000000,85.0000000,", ",%%RA%%%%%%%%,%%DEC%%%%%%%,") for row in synthetic]
    write(folder / "synthetic_cone.csv", "#Table1\n" + "\n".join([SDSS_HEADER] + synthetic) + "\n")
    write(folder / "no_rows.csv", "#Table1\n" + SDSS_HEADER + "\n")
    path = "/dr17/SkyServerWS/SearchTools/SqlSearch"
    write(folder / "routes.json", json.dumps([
        {"path": path, "cone": [ra0, dec0], "file": "cone_Gaia20fnr.csv", "content_type": "text/plain"},
        {"path": path, "region": {"dec_min": 80}, "file": "synthetic_cone.csv", "template": True},
        {"path": path, "file": "no_rows.csv"},
    ], indent=2) + "\n")


# --- Pan-STARRS1 DR2 (MAST Catalogs API JSON: info + data) -------------------------------------------------

PS1_OBJID = "84930902670254137"
PS1_DETECTION_COLUMNS = [("objID", "long"), ("detectID", "long"), ("filterID", "unsignedByte"), ("obsTime", "double"),
                         ("ra", "double"), ("dec", "double"), ("psfFlux", "double"), ("psfFluxErr", "double"),
                         ("psfQfPerfect", "float"), ("infoFlag", "long"), ("infoFlag2", "int"), ("infoFlag3", "int")]


def mast_json(columns, rows):
    info = [{"name": name, "type": kind, "db_type": "NUMBER" if kind != "char" else "STRING",
             "description": ""} for name, kind in columns]
    return json.dumps({"info": info, "data": rows}, indent=1)


def ps1_detections(objid, ra, dec, n, base, start=55200.0):
    rows = []
    for k, t in enumerate(np.sort(rng.uniform(start, start + 1500, n))):
        fid = int(rng.integers(1, 6))
        mag = base + {1: 0.5, 2: 0.0, 3: -0.2, 4: -0.3, 5: -0.35}[fid] + rng.normal(0, 0.02)
        flux = 3631 * 10 ** (-mag / 2.5)
        err = flux * (0.01 + 0.02 * rng.random())
        qf = 0.999 if k % 9 else 0.85                                    # every ninth fails the PSF quality cut
        if k == 4:
            flux = -abs(err)                                             # a non-positive flux: dropped
        if k == 7:
            err = -999                                                   # a missing error: dropped
        rows.append([objid, str(170000000000000000 + k), fid, round(float(t), 8), ra, dec, flux, err, qf,
                     1 << 19 if k % 5 == 0 else 0, 0, 0])
    return rows


def ps1():
    folder = HERE / "ps1"
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    mean_columns = [("objID", "long"), ("raMean", "double"), ("decMean", "double"), ("nDetections", "short")]
    write(folder / "mean_Gaia20fnr.json", mast_json(mean_columns, [
        ["84930902670299999", ra0 - 0.8 / 3600, dec0, 12],               # a neighbour 0.8" away, listed first
        [PS1_OBJID, ra0 + 0.05 / 3600, dec0 + 0.02 / 3600, 45]]))
    write(folder / f"detection_{PS1_OBJID}.json", mast_json(PS1_DETECTION_COLUMNS,
                                                            ps1_detections(PS1_OBJID, ra0, dec0, 45, 16.2)))
    write(folder / "mean_synthetic.json", mast_json(mean_columns, [["99999999999999999", "%%RA%%%%%%%%",
                                                                     "%%DEC%%%%%%%", 20]])
          .replace('"%%RA%%%%%%%%"', "%%RA%%%%%%%%").replace('"%%DEC%%%%%%%"', "%%DEC%%%%%%%"))
    write(folder / "detection_synthetic.json", mast_json(PS1_DETECTION_COLUMNS,
                                                         ps1_detections("99999999999999999", 0.0, 85.0, 20, 17.5)))
    write(folder / "empty.json", mast_json(mean_columns, []))
    api = "/api/v0.1/panstarrs/dr2"
    json_type = "application/json"
    write(folder / "routes.json", json.dumps([
        {"path": f"{api}/mean.json", "cone": [ra0, dec0], "file": "mean_Gaia20fnr.json", "content_type": json_type},
        {"path": f"{api}/mean.json", "region": {"dec_min": 80}, "file": "mean_synthetic.json", "template": True,
         "content_type": json_type},
        {"path": f"{api}/mean.json", "file": "empty.json", "content_type": json_type},
        {"path": f"{api}/detection.json", "contains": {"objID": PS1_OBJID}, "file": f"detection_{PS1_OBJID}.json",
         "content_type": json_type},
        {"path": f"{api}/detection.json", "contains": {"objID": "99999999999999999"},
         "file": "detection_synthetic.json", "content_type": json_type},
        {"path": f"{api}/detection.json", "file": "empty.json", "content_type": json_type},
    ], indent=2) + "\n")


# --- FIRST (VizieR ASU tab-separated output of VIII/92/first14) -------------------------------------------

FIRST_COLUMNS = ["_RAJ2000", "_DEJ2000", "FIRST", "RAJ2000", "DEJ2000", "p(S)", "Fpeak", "Fint", "Rms", "Maj", "Min",
                 "PA", "Ep(JD)", "s_Ep(JD)"]
FIRST_UNITS = ["deg", "deg", "", '"h:m:s"', '"d:m:s"', "", "mJy/beam", "mJy", "mJy/beam", "arcsec", "arcsec", "deg",
               "d", "d"]
VIZIER_PREAMBLE = ("#\n#   VizieR Astronomical Server vizier.cds.unistra.fr\n#    Date: 2026-11-20T10:00:00 [V7.4]\n"
                   "#   In case of problem, please report to:\tcds-question@unistra.fr\n#\n"
                   "#RESOURCE=yCat_8092\n#Name: VIII/92\n"
                   "#Title: The FIRST Survey Catalog, Version 2014Dec17 (Helfand+ 2015)\n"
                   "#Table\tVIII_92_first14:\n#Name: VIII/92/first14\n#Title: The FIRST Survey catalog (946432 rows)\n")


def sexagesimal(ra, dec):
    from astropy.coordinates import Angle

    return (Angle(ra, "deg").to_string("hourangle", sep=" ", precision=3, pad=True),
            Angle(dec, "deg").to_string(sep=" ", precision=2, alwayssign=True, pad=True))


def first_row(name, ra, dec, fint, epoch_jd, spread):
    h, d = sexagesimal(ra, dec) if isinstance(ra, float) else ("", "")
    ra_text = f"{ra:10.6f}" if isinstance(ra, float) else ra
    dec_text = f"{dec:+10.6f}" if isinstance(dec, float) else dec
    return "\t".join([ra_text, dec_text, name, h, d, "0.014", f"{fint * 0.93:.2f}", f"{fint:.2f}", "0.146",
                      "1.87", "0.00", "72.6", f"{epoch_jd:.4f}", f"{spread:.1f}"])


def vizier_tsv(rows):
    dashes = "\t".join("-" * max(len(c), 4) for c in FIRST_COLUMNS)
    table = "\n".join(["\t".join(FIRST_COLUMNS), "\t".join(FIRST_UNITS), dashes] + rows) if rows else ""
    return VIZIER_PREAMBLE + ("\n" + table + "\n" if rows else "#INFO\tQUERY_STATUS=OK\n")


def first():
    folder = HERE / "first"
    ra0, dec0 = OBJECTS["Gaia20fnr"]
    rows = [first_row("J060104.0-185803", ra0 + 0.6 / 3600, dec0 + 0.4 / 3600, 4.71, 2450573.1624, 712.4),
            # a second component of the same radio source, 4.2" away: one point of its own
            first_row("J060104.2-185806", ra0 + 4.0 / 3600, dec0 - 1.3 / 3600, 1.38, 2450573.1624, 712.4)]
    write(folder / "cone_Gaia20fnr.tsv", vizier_tsv(rows))
    write(folder / "synthetic_cone.tsv", vizier_tsv([first_row("J000000.0+850000", "%%RA%%%%%%%%", "%%DEC%%%%%%%",
                                                               2.25, 2451200.5, 120.0)]))
    write(folder / "no_rows.tsv", vizier_tsv([]))
    path = "/viz-bin/asu-tsv"
    tsv = "text/tab-separated-values"
    write(folder / "routes.json", json.dumps([
        {"path": path, "cone": [ra0, dec0], "file": "cone_Gaia20fnr.tsv", "content_type": tsv},
        {"path": path, "region": {"dec_min": 80}, "file": "synthetic_cone.tsv", "template": True, "content_type": tsv},
        {"path": path, "file": "no_rows.tsv", "content_type": tsv},
    ], indent=2) + "\n")


# --- LINEAR (astroML's public sample: a gzipped target list and a tarball of <objectID>.dat) ---------------

LINEAR_GAIA19DKE_ID = 10293547
LINEAR_FLEET_IDS = 20000000                                         # + fleet index: one sample star per fleet target


def linear_dat(n, base, start=52600.0):
    lines = []
    for t in np.sort(rng.uniform(start, start + 2000, n)):
        mag = base + 0.4 * np.sin(t / 0.6) + rng.normal(0, 0.03)
        lines.append(f"{t:.6f} {mag:.3f} {0.02 + 0.03 * rng.random():.3f}")
    return ("\n".join(lines) + "\n").encode()


def linear():
    import gzip
    import io
    import sys
    import tarfile

    sys.path.insert(0, str(HERE.parent.parent))
    from tests.fleet import fleet

    folder = HERE / "linear"
    header = ("##   *** sample-archive fixture in the layout of astroML's allLINEARfinal_targets.dat ***\n"
              "## objectID raLIN decLIN raSDSS decSDSS r ug gr ri iz JK <mL> std rms Lchi2 LP1 phi1 S prior\n")
    entries, files = [], {}
    ra1, dec1 = OBJECTS["Gaia19dke"]
    entries.append((LINEAR_GAIA19DKE_ID, ra1 + 0.3 / 3600, dec1 - 0.2 / 3600))
    files[LINEAR_GAIA19DKE_ID] = linear_dat(180, 15.8)
    for k in range(25):                                              # other sample stars, far from every target
        entries.append((10000000 + k * 3571, 120.0 + k * 2.1, 40.0 + k * 0.9))
        files[10000000 + k * 3571] = linear_dat(20, 16.0 + k * 0.03)
    synthetic = linear_dat(40, 16.4)
    for i, (_, ra, dec, _) in enumerate(fleet(200)):
        entries.append((LINEAR_FLEET_IDS + i, ra, dec))
        files[LINEAR_FLEET_IDS + i] = synthetic
    lines = [f"{oid:15d} {ra:10.5f} {dec:10.5f} {ra:10.6f} {dec:10.6f}  16.36   1.11   0.43   0.15   0.06   0.40 "
             f"16.31  0.14  0.17  0.63 -0.53 -0.02 -1   0 " for oid, ra, dec in entries]
    write_bytes(folder / "allLINEARfinal_targets.dat.gz",
                gzip.compress((header + "\n".join(lines) + "\n").encode(), mtime=0))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for oid in sorted(files):
            info = tarfile.TarInfo(f"{oid}.dat")
            info.size, info.mtime, info.mode = len(files[oid]), 1300000000, 0o644
            archive.addfile(info, io.BytesIO(files[oid]))
    write_bytes(folder / "allLINEARfinal_dat.tar.gz", gzip.compress(buffer.getvalue(), mtime=0))
    datasets = "/astroML/astroML-data/raw/master/datasets"
    write(folder / "routes.json", json.dumps([
        {"path": f"{datasets}/allLINEARfinal_targets.dat.gz", "file": "allLINEARfinal_targets.dat.gz",
         "content_type": "application/octet-stream"},
        {"path": f"{datasets}/allLINEARfinal_dat.tar.gz", "file": "allLINEARfinal_dat.tar.gz",
         "content_type": "application/octet-stream"},
    ], indent=2) + "\n")


def write_bytes(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


if __name__ == "__main__":
    gaia_alerts()
    neowise()
    allwise()
    ztf()
    gaia_dr3()
    crts()
    asassn()
    cpcs()
    antares()
    aavso()
    atlas()
    sdss()
    ps1()
    first()
    linear()
