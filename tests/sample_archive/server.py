"""The sample archive server; see the package docstring. In-process (tests) or as a process (demo, bench)."""
import functools
import io
import json
import math
import re
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from astropy.coordinates import SkyCoord
from astropy.table import Table

from tests.sample_archive.atlas_queue import AtlasQueue
from tests.sample_archive.ukssdc_api import UkssdcApi
from tests.sample_archive.ztf_fps_queue import ZtfFpsQueue

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

CIRCLE_ADQL = re.compile(r"CIRCLE\(\s*'ICRS'\s*,\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*\)", re.I)
CIRCLE_POS = re.compile(r"^CIRCLE\s+([-+\d.eE]+)\s+([-+\d.eE]+)\s+([-+\d.eE]+)$", re.I)
#: ANTARES' Elasticsearch cone, as antares-client 2.x sends it: {"sky_distance": {"radius": "<r> degree",
#: "location": "<h m s d m s>"}}
#: SkyServer's cone: fGetNearbyObjAllEq(ra, dec, radius_arcmin)
NEARBY_SQL = re.compile(r"fGetNearbyObjAllEq\(\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*\)", re.I)
SKY_DISTANCE = re.compile(r'"sky_distance":\s*\{\s*"radius":\s*"([\d.eE+-]+) degree",\s*"location":\s*"([^"]+)"')

HTML_ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Service temporarily unavailable</title></head>"
                   b"<body><h1>Service temporarily unavailable</h1><p>Please try again later.</p></body></html>\n")


@dataclass
class Fault:
    """An injected misbehaviour for requests whose path contains ``path`` (and whose query contains ``query``).

    kind: status (``status``, with ``body`` if given) | html | truncate | stall | reset | garbage | oversize | empty
          | replace (answer ``body``, 200)
          | drip (declare the answer's length, or ``size``, then send one byte every ``seconds``)
          | redirect (``status`` 3xx to ``location``) | cut_at_line (the first ``keep`` share of the answer's
          lines, no Content-Length, connection closed: complete as far as any client can tell)
    query: a substring, or a list of substrings that must all appear, of the decoded query string and body.
    times: how many matching requests it spoils (None: all of them).
    """

    kind: str
    path: str = ""
    query: str | list = ""
    times: int | None = None
    status: int = 500
    retry_after: str | None = None
    seconds: float = 5.0
    size: int = 0
    body: bytes | str = b""
    location: str = ""
    keep: float = 0.4
    served: int = 0

    def matches(self, path, query):
        wanted = [self.query] if isinstance(self.query, str) else self.query
        return self.path in path and all(text in query for text in wanted) \
            and (self.times is None or self.served < self.times)


def body_params(body, content_type):
    """A POST body's fields: a form's, or a JSON object's (the Starglass API's), as strings."""
    if content_type.startswith("application/json"):
        try:
            document = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return {}
        return {key: str(value) for key, value in document.items()} if isinstance(document, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def mast_cone(value):
    """(ra, dec, radius_deg) of a MAST API cone request (the JSON form field ``request``), else None."""
    if not value.lstrip().startswith("{"):
        return None
    try:
        params = json.loads(value).get("params", {})
        return float(params["ra"]), float(params["dec"]), float(params.get("radius", 0.0))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def cone_of(params):
    """(ra, dec, radius_deg) of a cone search in any of the archives' spellings, else None."""
    for value in params.values():
        mast = mast_cone(value)
        if mast:
            return mast
        match = CIRCLE_ADQL.search(value) or CIRCLE_POS.match(value.strip())
        if match:
            return tuple(float(x) for x in match.groups())
        match = NEARBY_SQL.search(value)
        if match:
            ra, dec, radius_arcmin = (float(x) for x in match.groups())
            return ra, dec, radius_arcmin / 60.0
        match = SKY_DISTANCE.search(value)
        if match:  # the location as antares-client writes it: "06h01m04.0824s -18d58m03.72s"
            centre = SkyCoord(match.group(2), frame="icrs")
            return centre.ra.deg, centre.dec.deg, float(match.group(1))
    if "-c" in params:  # VizieR: -c="ra dec", -c.rs in arcsec
        ra, dec = (float(x) for x in params["-c"].split())
        return ra, dec, float(params.get("-c.rs", 0.0)) / 3600.0
    lower = {k.lower(): v for k, v in params.items()}
    if "ra_deg" in lower and "dec_deg" in lower:  # DASCH's querycat, radius in arcsec
        return float(lower["ra_deg"]), float(lower["dec_deg"]), float(lower.get("radius_arcsec", 0.0)) / 3600.0
    if "ra" in lower and "dec" in lower:
        radius = float(lower.get("radius", lower.get("sr", 0.0)))
        if "rad" in lower:  # the Catalina CGI's radius, in arcmin
            radius = float(lower["rad"]) / 60.0
        return float(lower["ra"]), float(lower["dec"]), radius
    return None


@functools.lru_cache(maxsize=64)
def as_votable(content):
    """A recorded IPAC or CSV table written as the VOTable a TAP service answers with (nulls as nulls, the
    CSV's True/False as booleans)."""
    text = content.decode("utf-8")
    table = Table.read(text, format="ascii.ipac" if text.lstrip().startswith(("\\", "|")) else "ascii.csv")
    for name in table.colnames:
        if table[name].dtype.kind in "US" and len(table) and set(table[name]) <= {"True", "False", "true", "false"}:
            table[name] = [value.lower() == "true" for value in table[name]]
    out = io.BytesIO()
    table.write(out, format="votable")
    return out.getvalue()


def separation_deg(ra1, dec1, ra2, dec2):
    ra1, dec1, ra2, dec2 = map(math.radians, (ra1, dec1, ra2, dec2))
    cos = math.sin(dec1) * math.sin(dec2) + math.cos(dec1) * math.cos(dec2) * math.cos(ra1 - ra2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


#: fixed-width placeholders of a template file, replaced by the cone centre (same width, so IPAC columns stay aligned)
RA_TOKEN, DEC_TOKEN = "%%RA%%%%%%%%", "%%DEC%%%%%%%"
#: numbers no recorded table holds, standing in for the cone centre in a template written as a VOTable
STAND_IN_RA, STAND_IN_DEC = 111.1111111, -88.8888888


@dataclass
class Route:
    """One recorded response: a path (``{name}`` matches one path segment), parameter substrings that must
    appear, an optional cone centre, and the file to serve.

    Template routes answer for many objects at once (the benchmark's and the fault tests' hundreds of
    targets): ``name_pattern`` restricts which names a ``{name}`` route serves, ``region`` which cone
    centres (``{"dec_min": 80}``), and ``template`` substitutes the name and the cone centre into the file.
    """

    survey: str
    path: str
    file: str
    contains: dict = field(default_factory=dict)
    cone: list | None = None
    content_type: str = "text/plain; charset=utf-8"
    status: int = 200
    name_pattern: str | None = None
    region: dict | None = None
    template: bool = False
    #: serve only the data rows whose first field lies in [fromjd, tojd) (AAVSO's JD chunks); ``rows_delimiter``
    #: splits the fields
    rows_delimiter: str | None = None

    def in_region(self, cone):
        return bool(cone) and self.region.get("dec_min", -90) <= cone[1] <= self.region.get("dec_max", 90)

    def path_match(self, path):
        pattern = "^" + re.escape(self.path).replace(r"\{name\}", r"(?P<name>[^/]+)") + "/?$"
        return re.match(pattern, path)


def rows_between(content, delimiter, start, stop):
    """The header and the rows whose first field (a JD, or an MJD) lies in [start, stop); ``delimiter`` None:
    whitespace."""
    header, *rows = content.decode("utf-8").splitlines(keepends=True)
    kept = [row for row in rows if row.strip() and start <= float(row.split(delimiter, 1)[0]) < stop]
    return (header + "".join(kept)).encode()


def load_routes(data_dir=DATA_DIR):
    routes = []
    for routes_file in sorted(Path(data_dir).glob("*/routes.json")):
        for spec in json.loads(routes_file.read_text()):
            routes.append(Route(survey=routes_file.parent.name, **spec))
    return routes


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a client that gave up or was reset on purpose (the fault switches) is not a server error
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class SampleArchive:
    """The server. ``with SampleArchive() as archive: archive.url`` gives its base URL."""

    def __init__(self, host="127.0.0.1", port=0, latency=0.0, data_dir=DATA_DIR):
        self.routes = load_routes(data_dir)
        self.data_dir = Path(data_dir)
        self.latency = latency
        self.faults = []
        self.requests = []
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        #: the archive's "now" as a JD: observations from then on are not served yet (AAVSO's and ATLAS's rows), so
        #: moving it on is a day passing with new observations
        self.until_jd = math.inf
        self._release_stalls = threading.Event()
        self.atlas = AtlasQueue(self, self.data_dir / "atlas" / "queue.json")
        self.ztf_fps = ZtfFpsQueue(self, self.data_dir / "ztf_fps")
        self.ukssdc = UkssdcApi(self.data_dir / "swift_xrt")
        archive = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for the
            # client's delayed ACK of the headers (~40 ms on Linux) on every keep-alive request, a delay
            # no real archive's web server adds and that would swamp the injected latency.
            disable_nagle_algorithm = True

            def do_GET(self):
                archive.handle(self, "GET")

            def do_POST(self):
                archive.handle(self, "POST")

            def do_DELETE(self):
                archive.handle(self, "DELETE")

            def log_message(self, *args):
                pass

        self.httpd = QuietServer((host, port), Handler)
        self.thread = None

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="sample-archive", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self):
        """No faults, no latency, no log; stalled requests are released and drained first."""
        self._release_stalls.set()
        deadline = time.monotonic() + 5
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        self._release_stalls.clear()
        with self._lock:
            self.faults, self.requests = [], []
            self.max_in_flight = 0
            self.latency = 0.0
            self.until_jd = math.inf
        self.atlas.reset()
        self.ztf_fps.reset()
        self.ukssdc.reset()

    def add_fault(self, **spec):
        fault = Fault(**spec)
        with self._lock:
            self.faults.append(fault)
        return fault

    # --- request handling ----------------------------------------------------------------------------

    def handle(self, handler, method):
        parts = urlsplit(handler.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        body = b""
        if method == "POST":
            length = int(handler.headers.get("Content-Length") or 0)
            body = handler.rfile.read(length)
            params.update(body_params(body, handler.headers.get("Content-Type", "")))
        if parts.path.startswith("/_sample_archive/"):
            handler._counted_out = True  # not an archive request: never counted in (or out of) the concurrency
            return self.control(handler, parts.path, body)
        handler._counted_out = False  # one handler serves every request of a keep-alive connection
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests.append({"method": method, "path": parts.path, "params": params, "time": time.time(),
                                  "headers": dict(handler.headers)})
            decoded = unquote_plus(parts.query) + " " + unquote_plus(body.decode("latin-1"))
            fault = next((f for f in self.faults if f.matches(parts.path, decoded)), None)
            if fault:
                fault.served += 1
        try:
            if self.latency:
                time.sleep(self.latency)
            if fault:
                return self.misbehave(handler, fault, parts.path, params)
            status, content_type, content = self.atlas.handle(method, parts.path, params, handler.headers) \
                or self.ztf_fps.handle(method, parts.path, params, handler.headers) \
                or self.ukssdc.handle(method, parts.path, body) or self.answer(parts.path, params)
            self.send(handler, status, content_type, content)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer
        finally:
            self._leave(handler)

    def _leave(self, handler):
        """Count the request as answered, once: before any of its bytes go out, so a client that starts its
        next request the moment it has read this one is not counted twice."""
        if getattr(handler, "_counted_out", False):
            return
        handler._counted_out = True
        with self._lock:
            self.in_flight -= 1

    def answer(self, path, params):
        # a TAP client asking for TAP's default format (pyvo): the recorded table as a VOTable
        votable = path.endswith("/sync") and "QUERY" in params and "FORMAT" not in params
        status, content_type, content = self.recorded_answer(path, params, votable)
        if status == 200 and votable:
            return status, "application/x-votable+xml", content
        return status, content_type, content

    def recorded_answer(self, path, params, votable=False):
        cone = cone_of(params)
        fallback = None
        for route in self.routes:
            match = route.path_match(path)
            if not match or any(text not in params.get(key, "") for key, text in route.contains.items()):
                continue
            if route.cone is not None:
                if cone and separation_deg(route.cone[0], route.cone[1], cone[0], cone[1]) <= max(cone[2], 1e-6):
                    return self.file_answer(route, match, votable=votable)
                continue
            if route.region is not None:
                if route.in_region(cone):
                    return self.file_answer(route, match, cone, votable=votable)
                continue
            if route.name_pattern and not re.match(route.name_pattern, match.groupdict().get("name", "")):
                continue
            if route.rows_delimiter:
                stop = min(self.until_jd, float(params.get("tojd", math.inf)))
                return self.file_answer(route, match, jd_range=(float(params.get("fromjd", -math.inf)), stop))
            if "{name}" in route.path:
                answer = self.file_answer(route, match)
                if answer[0] == 404:
                    continue
                return answer
            fallback = fallback or (route, match)
        if fallback:
            return self.file_answer(*fallback, votable=votable)
        return 404, "text/plain; charset=utf-8", f"Not Found: {path}\n".encode()

    def file_answer(self, route, match, cone=None, jd_range=(-math.inf, math.inf), votable=False):
        name = match.groupdict().get("name", "")
        path = self.data_dir / route.survey / route.file.replace("{name}", name)
        if not path.is_file() or (name and not re.fullmatch(r"[\w.+-]+", name)):
            return 404, "text/plain; charset=utf-8", f"Not Found: {name or route.file}\n".encode()
        content = path.read_bytes()
        if route.rows_delimiter:
            content = rows_between(content, route.rows_delimiter, *jd_range)
        if route.template:
            content = content.replace(b"{name}", name.encode())
            if cone and votable:
                # the template is written as a VOTable once, with stand-in numbers for the cone centre, which
                # are then replaced in the VOTable's text (a VOTable per target would cost the server ~70 ms)
                stand_in = content.replace(RA_TOKEN.encode(), f"{STAND_IN_RA:12.7f}".encode()) \
                    .replace(DEC_TOKEN.encode(), f"{STAND_IN_DEC:12.7f}".encode())
                content = as_votable(stand_in).replace(repr(STAND_IN_RA).encode(), f"{cone[0]:.7f}".encode()) \
                    .replace(repr(STAND_IN_DEC).encode(), f"{cone[1]:.7f}".encode())
                return route.status, route.content_type, content
            if cone:
                content = content.replace(RA_TOKEN.encode(), f"{cone[0]:12.7f}".encode())
                content = content.replace(DEC_TOKEN.encode(), f"{cone[1]:12.7f}".encode())
        if votable:
            content = as_votable(content)
        return route.status, route.content_type, content

    def misbehave(self, handler, fault, path, params):
        kind = fault.kind
        if kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            body = fault.body.encode() if isinstance(fault.body, str) else fault.body
            return self.send(handler, fault.status, "text/plain; charset=utf-8",
                             body or f"Error {fault.status}\n".encode(), headers)
        if kind == "html":
            return self.send(handler, 200, "text/html; charset=utf-8", HTML_ERROR_PAGE)
        if kind == "empty":
            return self.send(handler, 200, "text/plain; charset=utf-8", b"")
        if kind == "garbage":
            return self.send(handler, 200, "text/plain; charset=utf-8",
                             b"\x00\x17\xff garbage, not an archive format \x89PNG\r\n" * 8)
        if kind == "redirect":
            return self.send(handler, fault.status, "text/plain; charset=utf-8", b"moved\n",
                             {"Location": fault.location})
        if kind in ("drip", "cut_at_line"):
            return self.hostile_body(handler, fault, *self.answer(path, params))
        if kind == "replace":  # a hostile or changed answer of the test's own, with the route's content type
            body = fault.body.encode() if isinstance(fault.body, str) else fault.body
            return self.send(handler, 200, self.answer(path, params)[1], body)
        if kind == "oversize":
            return self.send(handler, 200, "text/plain; charset=utf-8", b"x" * fault.size)
        status, content_type, content = self.answer(path, params)
        if kind == "stall":
            self._release_stalls.wait(fault.seconds)
            return self.send(handler, status, content_type, content)
        if kind == "truncate":
            self.send(handler, status, content_type, content, cut_at=len(content) // 2)
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return None
        if kind == "reset":
            # SO_LINGER 0 makes close() send a TCP RST: the client sees "connection reset by peer"
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            self._leave(handler)
            handler.connection.close()
            return None
        raise ValueError(f"unknown fault kind {kind!r}")

    def hostile_body(self, handler, fault, status, content_type, content):
        """A drip (one byte every ``seconds`` of a body whose full length is declared; at most 60 s or until
        the client leaves) or an answer cut at a line boundary and ended by closing the connection."""
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if fault.kind == "drip":
            handler.send_header("Content-Length", str(fault.size or len(content)))
            body = content
        else:
            lines = content.splitlines(keepends=True)
            body = b"".join(lines[:max(1, int(len(lines) * fault.keep))])
            handler.send_header("Connection", "close")
        self._leave(handler)
        handler.end_headers()
        if fault.kind == "cut_at_line":
            handler.wfile.write(body)
            handler.wfile.flush()
            handler.close_connection = True
            return None
        stop = time.monotonic() + 60
        for index in range(fault.size or len(body)):
            if time.monotonic() > stop or self._release_stalls.is_set():
                break
            handler.wfile.write(body[index:index + 1] if index < len(body) else b" ")
            handler.wfile.flush()
            time.sleep(fault.seconds)
        handler.close_connection = True
        return None

    def send(self, handler, status, content_type, content, headers=None, cut_at=None):
        """One answer; with ``cut_at``, only that many bytes of a body whose full length is declared."""
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(content)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        # Counted out before end_headers(), which flushes the headers: an empty answer (ATLAS' 204 on DELETE)
        # is complete for the client with its headers, and its next request must not meet this one in the count.
        self._leave(handler)
        handler.end_headers()
        handler.wfile.write(content if cut_at is None else content[:cut_at])

    def control(self, handler, path, body):
        """``POST /_sample_archive/faults`` (a JSON list of faults), ``/_sample_archive/latency`` ({"seconds": x}),
        ``/_sample_archive/reset``, ``/_sample_archive/clock`` ({"jd": x}: observations from then on not served yet),
        ``/_sample_archive/atlas`` (the emulated queue's settings, e.g. {"queue_seconds": 60}),
        ``/_sample_archive/peak`` (the peak concurrency counted from now on);
        ``GET /_sample_archive/stats``: requests served and the peak concurrency."""
        if path.endswith("/faults"):
            for spec in json.loads(body or b"[]"):
                self.add_fault(**spec)
        elif path.endswith("/latency"):
            self.latency = float(json.loads(body)["seconds"])
        elif path.endswith("/clock"):
            self.until_jd = float(json.loads(body)["jd"])
        elif path.endswith("/atlas"):
            self.atlas.config.update(json.loads(body))
        elif path.endswith("/reset"):
            self.reset()
        elif path.endswith("/peak"):
            with self._lock:
                self.max_in_flight = self.in_flight
        stats = {"requests": len(self.requests), "max_in_flight": self.max_in_flight, "latency": self.latency}
        self.send(handler, 200, "application/json", json.dumps(stats).encode())
