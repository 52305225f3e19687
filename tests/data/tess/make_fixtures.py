"""Writes the synthetic TESS files of this folder (tests/data/tess/PROVENANCE.md) in SPOC's and QLP's documented
layouts, and the MAST API answers that list them. Deterministic; run from the repository's root:
``python tests/data/tess/make_fixtures.py``."""
import json
from pathlib import Path

import numpy as np
from astropy.io import fits

HERE = Path(__file__).parent
TIC, RA, DEC, TESSMAG = 443387847, 97.0302326462, -6.6868466254, 11.3371
SPOC_FLUX = 10 ** (-0.4 * (TESSMAG - 20.44))  # e-/s at SPOC's zero point
FILES = {  # name: (sector, layout, first BTJD, cadence in seconds, cadences)
    "tess2018349182500-s0006-0000000443387847-0126-s_lc.fits": (6, "SPOC", 1470.0, 120, 1440),
    "hlsp_tess-spoc_tess_phot_0000000443387847-s0033_tess_v1_lc.fits": (33, "SPOC", 2205.0, 600, 144),
    "hlsp_qlp_tess_ffi_s0087-0000000443387847_tess_v01_llc.fits": (87, "QLP", 3690.0, 200, 432),
}
URIS = {
    "tess2018349182500-s0006-0000000443387847-0126-s_lc.fits": ("TESS", "SPOC", 120.0, "mast:TESS/product/"),
    "hlsp_tess-spoc_tess_phot_0000000443387847-s0033_tess_v1_lc.fits":
        ("HLSP", "TESS-SPOC", 600.0, "mast:HLSP/tess-spoc/s0033/target/0000/0004/4338/7847/"),
    "hlsp_qlp_tess_ffi_s0087-0000000443387847_tess_v01_llc.fits":
        ("HLSP", "QLP", 200.0, "mast:HLSP/qlp/s0087/0000/0004/4338/7847/"),
}


def light_curve(sector, layout, start, cadence, count, rng):
    time = start + np.arange(count) * cadence / 86400.0
    relative = 1 + 0.01 * np.sin(2 * np.pi * time / 0.8) + rng.normal(0, 0.001, count)
    quality = np.zeros(count, dtype=np.int32)
    quality[[5, 17, 300 % count]] = [32, 128, 1024]  # a reaction-wheel desaturation, a manual exclude, a stray
    relative[[9, 40]] = np.nan  # NaN fluxes (scattered light), QUALITY 0
    columns = [fits.Column("TIME", "D", "BJD - 2457000, days", array=time),
               fits.Column("QUALITY", "J", array=quality)]
    if layout == "SPOC":
        flux = (SPOC_FLUX * relative).astype(np.float32)
        error = np.full(count, SPOC_FLUX * 0.001, dtype=np.float32)
        columns += [fits.Column("CADENCENO", "J", array=np.arange(count) + 1000 * sector),
                    fits.Column("SAP_FLUX", "E", "e-/s", array=flux * 0.97),
                    fits.Column("SAP_FLUX_ERR", "E", "e-/s", array=error),
                    fits.Column("PDCSAP_FLUX", "E", "e-/s", array=flux),
                    fits.Column("PDCSAP_FLUX_ERR", "E", "e-/s", array=error)]
    else:  # QLP: fluxes normalised to the star's median
        columns += [fits.Column("SAP_FLUX", "E", array=relative.astype(np.float32)),
                    fits.Column("KSPSAP_FLUX", "E", array=relative.astype(np.float32)),
                    fits.Column("KSPSAP_FLUX_ERR", "E", array=np.full(count, 0.001, dtype=np.float32))]
    table = fits.BinTableHDU.from_columns(columns, name="LIGHTCURVE")
    table.header.update({"TIMEREF": "SOLARSYSTEM", "TASSIGN": "SPACECRAFT", "TIMESYS": "TDB", "BJDREFI": 2457000,
                         "BJDREFF": 0.0, "TIMEUNIT": "d", "TIMEPIXR": 0.5})
    primary = fits.PrimaryHDU()
    primary.header.update({"TELESCOP": "TESS", "TICID": TIC, "SECTOR": sector, "RA_OBJ": RA, "DEC_OBJ": DEC,
                           "TESSMAG": TESSMAG})
    return fits.HDUList([primary, table])


def mast_answer(rows):
    return json.dumps({"status": "COMPLETE", "msg": "", "data": rows, "fields": [{"name": k} for k in
                                                                                   (rows[0] if rows else {})],
                       "paging": {"page": 1, "pageSize": len(rows), "rows": len(rows), "pagesFiltered": 1}},
                      indent=1) + "\n"


def main():
    rng = np.random.default_rng(443387847)
    for name, spec in FILES.items():
        light_curve(*spec, rng).writeto(HERE / name, overwrite=True)
    products = [{"obs_collection": collection, "provenance_name": provenance, "sequence_number": FILES[name][0],
                 "t_exptime": exptime, "dataURL": prefix + name, "target_name": str(TIC)}
                for name, (collection, provenance, exptime, prefix) in URIS.items()]
    # QLP's sector 6 file: listed, not chosen (SPOC's two-minute light curve covers sector 6)
    products.append({"obs_collection": "HLSP", "provenance_name": "QLP", "sequence_number": 6, "t_exptime": 1800.0,
                     "dataURL": "mast:HLSP/qlp/s0006/0000/0004/4338/7847/"
                                "hlsp_qlp_tess_ffi_s0006-0000000443387847_tess_v01_llc.fits",
                     "target_name": str(TIC)})
    (HERE / "products_443387847.json").write_text(mast_answer(products))
    (HERE / "products_empty.json").write_text(mast_answer([]))
    stars = [{"ID": str(TIC), "ra": RA, "dec": DEC, "Tmag": TESSMAG, "dstArcSec": 0.0},
             {"ID": "443387850", "ra": RA + 6.0 / 3600, "dec": DEC + 2.0 / 3600, "Tmag": 15.2, "dstArcSec": 6.3}]
    (HERE / "tic_cone_443387847.json").write_text(mast_answer(stars))
    (HERE / "tic_cone_empty.json").write_text(mast_answer([]))


if __name__ == "__main__":
    main()
