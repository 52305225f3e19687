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
    text[:3] = ["untrusted"] * 3  # the archive's first epochs are often untrusted
    write(folder / "Gaia18cbf_lightcurve.csv", gaia_lightcurve("Gaia18cbf", jd, text))

    jd = transit_times(2457000.0, 2460340.0)
    mag = 17.1 + 0.4 * np.sin((jd - 2457000) / 97.0) + rng.normal(0, 0.02, len(jd))
    write(folder / "Gaia19dke_lightcurve.csv", gaia_lightcurve("Gaia19dke", jd, mag_text(mag)))

    jd = transit_times(2456900.0, 2460340.0)
    mag = np.where(jd > 2459100, 16.0 - 0.8 * np.exp(-(jd - 2459100) / 400.0), 16.0) + rng.normal(0, 0.02, len(jd))
    write(folder / "Gaia20fnr_lightcurve.csv", gaia_lightcurve("Gaia20fnr", jd, mag_text(mag)))

    # the 2014-2015 layout: '#Date,JD,averagemag.' with 3-decimal JDs and only 'null' markers
    jd = transit_times(2456871.25, 2457176.0)
    mag = 18.0 + 1.5 * (jd - 2456871) / 300 + rng.normal(0, 0.05, len(jd))
    write(folder / "Gaia14aaa_lightcurve.csv",
          gaia_lightcurve("Gaia14aaa", jd, mag_text(mag, allow_untrusted=False), layout="old"))

    rows = ["#Name, Date, RaDeg, DecDeg, AlertMag, HistoricMag, HistoricStdDev, Class, Published, Comment, TNSid"]
    entries = [
        ("Gaia20fnr", "2020-09-14 02:11:40", *OBJECTS["Gaia20fnr"], "15.21", "16.02", "0.03", "unknown",
         "2020-09-16 10:02:11", "brightening by 0.8 mag, young stellar object candidate, near IRAS source", "AT2020aabc"),
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
    rows[5][3] = "6.068"; rows[5][11] = "D000"        # a W1 outlier flagged as a diffraction spike
    rows[7][7] = 0                                    # a bad frame (qual_frame 0)
    rows[9][10] = "10"                                # W1 Moon-contaminated
    rows[11][12] = "UA"; rows[11][4] = None           # W1 an upper limit
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
          '<?xml version="1.0" encoding="UTF-8"?>\n<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
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


if __name__ == "__main__":
    gaia_alerts()
    neowise()
    allwise()
    ztf()
