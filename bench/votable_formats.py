"""How long astropy takes to read one TAP answer in each serialisation a TAP service may offer (VOTable TABLEDATA,
BINARY, BINARY2; CSV), measured in this one run: whether asking a service for another one (``RESPONSEFORMAT``)
would make the TAP archives' ingest faster.

    python bench/votable_formats.py [ROWS]

The table is a NEOWISE-like answer (nine columns, ROWS rows, default 50,000); each format is read three times
and the best time kept; the ratio is to TABLEDATA, what the archives send by default.
"""
import io
import sys
import time

import numpy as np
from astropy.io.votable import from_table, parse_single_table
from astropy.table import Table


def answer_table(rows):
    rng = np.random.default_rng(1)
    return Table({"mjd": 55000 + 1000 * rng.random(rows), "w1mpro": 10 + rng.random(rows),
                  "w1sigmpro": rng.random(rows), "w2mpro": 10 + rng.random(rows), "w2sigmpro": rng.random(rows),
                  "ra": rng.random(rows), "dec": rng.random(rows), "cc_flags": ["0000"] * rows,
                  "qual_frame": np.arange(rows)})


def serialised(table, fmt):
    if fmt == "csv":
        out = io.StringIO()
        table.write(out, format="ascii.csv")
        return out.getvalue().encode()
    votable = from_table(table)
    for resource_table in votable.iter_tables():
        resource_table.format = fmt
    out = io.BytesIO()
    votable.to_xml(out)
    return out.getvalue()


def read(payload, fmt):
    if fmt == "csv":
        return Table.read(payload.decode(), format="ascii.csv")
    return parse_single_table(io.BytesIO(payload), verify="ignore").to_table()


def best_seconds(payload, fmt, tries=3):
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        read(payload, fmt)
        times.append(time.perf_counter() - started)
    return min(times)


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    table = answer_table(rows)
    figures = {fmt: (len(payload), best_seconds(payload, fmt))
               for fmt in ("tabledata", "binary", "binary2", "csv") for payload in [serialised(table, fmt)]}
    base = figures["tabledata"][1]
    print(f"{'serialisation':<14} {'size':>9}  {'read':>8}  ratio to TABLEDATA ({rows:,} rows)")
    for fmt, (size, seconds) in figures.items():
        print(f"{fmt:<14} {size / 2**20:7.1f} MB  {seconds:7.3f} s  {seconds / base:.2f}x")


if __name__ == "__main__":
    main()
