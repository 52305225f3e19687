"""UKSSDC's API emulated for the real ``swifttools`` client: ``POST /API/main.php`` with a JSON body naming an
``APIFunc``. Three functions, as the client sends and reads them (swifttools.ukssdc ``main.submitAPICall``,
``query.dataquery_base``, ``data.SXPS.getLightCurves``):

* ``getMetadata`` -> ``{"metadata": {"columns", "metadata"}}`` for LSXPS's sources table
  (tests/data/swift_xrt/metadata_sources.json);
* ``queryDB`` with ``searchRA``/``searchDec``/``searchRad`` (arcsec) and ``cols`` -> ``{"Results", "NumRows"}``, the
  rows of tests/data/swift_xrt/sources.csv in the cone with their distance ``_r``;
* ``getSXPSLC`` with ``sourceID`` -> tests/data/swift_xrt/lc_<sourceID>.json, else the API's error.

Every answer carries ``OK`` and ``APIVersion``, or ``ERROR``/``ERRORTEXT``, as the real API's do.
"""
import json
import math
from pathlib import Path

import pandas as pd

PATH = "/API/main.php"
JSON = "application/json"
API_VERSION = "1.0.5"


def answer(document):
    return 200, JSON, json.dumps({"APIVersion": API_VERSION, **document}).encode()


class UkssdcApi:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.calls = []

    def reset(self):
        self.calls = []

    def handle(self, method, path, body):
        if path != PATH:
            return None
        try:
            request = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return answer({"ERROR": 1, "ERRORTEXT": "The request was not JSON"})
        function = request.get("APIFunc")
        self.calls.append(function)
        if function == "getMetadata":
            return 200, JSON, (self.folder / "metadata_sources.json").read_bytes()
        if function == "queryDB":
            return self.query(request)
        if function == "getSXPSLC":
            file = self.folder / f"lc_{int(request.get('sourceID', 0))}.json"
            if file.is_file():
                return 200, JSON, file.read_bytes()
            return answer({"ERROR": 4, "ERRORTEXT": f"No source with ID {request.get('sourceID')}"})
        return answer({"ERROR": 2, "ERRORTEXT": f"Unknown APIFunc {function}"})

    def query(self, request):
        sources = pd.read_csv(self.folder / "sources.csv")
        ra, dec, radius = (float(request[key]) for key in ("searchRA", "searchDec", "searchRad"))
        if request.get("adUnits", "arcsec") == "arcmin":
            radius *= 60
        distance = [3600 * math.degrees(math.acos(min(1.0, math.sin(math.radians(dec)) * math.sin(math.radians(d))
                                                      + math.cos(math.radians(dec)) * math.cos(math.radians(d))
                                                      * math.cos(math.radians(ra - r)))))
                    for r, d in zip(sources["RA"], sources["Decl"])]
        sources["_r"] = distance
        inside = sources[sources["_r"] <= radius].sort_values("_r")
        columns = ["_r"] + [c for c in request.get("cols", list(sources.columns)) if c in sources.columns]
        rows = json.loads(inside[columns].to_json(orient="records", double_precision=15))
        return answer({"OK": 1, "Results": rows, "NumRows": len(rows)})
