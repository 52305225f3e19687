"""A local stand-in for the survey archives: replays recorded responses over real HTTP on 127.0.0.1.

Requests are answered by path and parameters from ``tests/data/<survey>/routes.json``; a cone search
(an ADQL ``CIRCLE``, ``POS=CIRCLE ra dec r``, ``ra``/``dec`` parameters, SkyServer's ``fGetNearbyObjAllEq``,
VizieR's ``-c``, ANTARES' ``sky_distance``) is answered with the recorded response whose position lies
inside the cone, else with the survey's "no coverage" file. AAVSO's JD chunks get the rows of their range
only; the ATLAS forced-photometry queue (submit, poll, result, delete, token, throttling) is emulated by
``atlas_queue``. Switches add latency to every request and inject faults (status codes with
``Retry-After``, HTML error pages, truncated or empty bodies, stalls, connection resets, garbage, oversize
bodies).
"""
from tests.sample_archive.server import Fault, SampleArchive  # noqa: F401
