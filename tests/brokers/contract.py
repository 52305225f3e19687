"""The contract every broker's tests subclass: each subclass supplies a target that the sample archive
has recorded data for, one it has none for, and what the light curve must look like."""
import re
import time
from dataclasses import replace

import numpy as np
import pytest
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.time import Time

from tom_dataproducts.models import PhotometryReducedDatum

from tom_bhtom_brokers import updating
from tom_bhtom_brokers.brokers.base import Request
from tom_bhtom_brokers.models import LightcurveUpdate
from tom_bhtom_brokers.sources import FILTERS, PRETTY_SURVEY_NAME, SURVEY, bandpass
from tom_bhtom_brokers.target_info import PairInput, TargetInfo


GEOCENTRE = EarthLocation.from_geocentric(0, 0, 0, unit="m")


def geocentric_utc_mjd(hjd, ra, dec):
    """Heliocentric JD (UTC) -> UTC MJD at the Earth's centre, with astropy's own ``light_travel_time`` (not the
    package's conversion): t_geo = t_helio - light travel time."""
    helio = Time(hjd, format="jd", scale="utc", location=GEOCENTRE)
    return (helio - helio.light_travel_time(SkyCoord(ra, dec, unit="deg"), kind="heliocentric")).utc.mjd


def update(target, broker_class, force=True):
    """Run the real updater for one pair; returns its outcome."""
    broker = broker_class()
    (outcome,) = updating.run(updating.plan([target], [broker], force=force), workers=1)
    return outcome


def stored(target, source_name):
    return PhotometryReducedDatum.objects.filter(target=target, source_name=source_name)


@pytest.mark.django_db
class BrokerContract:
    broker_class = None
    #: dict for make_target: name, ra, dec and survey-name extras
    covered_target = {}
    uncovered_target = {}
    #: request path the broker must send, and substrings its parameters must hold ({}: it sends none, the path
    #: names the object)
    expected_path = ""
    expected_params = {}
    #: the method of that request, where another request goes to the same path (None: any)
    expected_method = None
    #: the path of the Request ``query`` builds, where it is not the path sent (a TAP service: pyvo adds /sync)
    query_path = None
    expected_points = 0
    expected_filters = ()
    #: (first, last) UTC MJD of the stored light curve
    expected_mjd_range = (0.0, 0.0)
    unit = "mag"
    #: the units of an archive whose points are of several kinds (a magnitude and a difference flux), else {unit}
    units = None
    #: some archives hold detections without an error (AAVSO's visual estimates): stored with none
    errors_may_be_missing = False
    #: the path fragment a fault must match to hit this broker's data request
    fault_path = ""
    #: an empty body means "nothing in the range asked" for this archive (AAVSO's JD chunks), not a broken answer
    empty_answer_is_no_data = False
    #: this archive stands for its transport in the transport's fault matrix (HTML page, 500, truncated body,
    #: stall, retry): one archive per transport (HTTP, TAP, job queue, cached download, third-party client)
    transport_faults = False

    def fetch(self, info):
        """The broker's light curve of ``info``, as one fetch gives it (ATLAS's queue: as the passes do)."""
        return self.broker_class().fetch(info).lightcurve

    def forget_downloads(self):
        """Drop what the broker keeps between runs (a download cache), so the next run asks the archive."""

    @property
    def name(self):
        return self.broker_class.name

    def covered(self, make_target):
        spec = dict(self.covered_target)
        return make_target(spec.pop("name"), spec.pop("ra", None), spec.pop("dec", None), **spec)

    def test_request_sent(self, archive, make_target):
        self.fetch(TargetInfo.from_target(self.covered(make_target)))
        request = next(r for r in reversed(archive.requests) if r["path"] == self.expected_path
                       and self.expected_method in (None, r["method"]))
        for key, text in self.expected_params.items():
            assert text in request["params"][key]
        if not self.expected_params:  # the object is named by the path (a locus, a result file): nothing else is sent
            assert request["params"] == {}, request["params"]
        assert request["headers"]["User-Agent"].startswith("tom-bhtom-brokers/")

    def test_query_builds_the_requests_without_sending_any(self, archive, make_target):
        """``locate`` may ask the archive (a cone search); ``query`` only builds requests: a list, one of them
        the data request the archive answers, and nothing is sent while building it."""
        broker = self.broker_class()
        located = broker.locate(TargetInfo.from_target(self.covered(make_target)))
        sent = len(archive.requests)
        requests = broker.query(located)
        assert len(archive.requests) == sent
        assert isinstance(requests, list) and all(isinstance(r, Request) for r in requests)
        if self.expected_path:
            request = next(r for r in requests if r.path == (self.query_path or self.expected_path))
            if request.adql is not None:
                assert self.expected_params["QUERY"] in request.adql
                return
            for key, text in self.expected_params.items():
                assert text in str((request.json_body or request.data or request.params)[key])

    def test_parsed_columns_units_and_filters(self, archive, make_target):
        lightcurve = self.fetch(TargetInfo.from_target(self.covered(make_target)))
        frame = lightcurve.frame
        assert len(frame) == self.expected_points
        assert set(frame["filter"]) == set(self.expected_filters)
        assert set(frame["filter"]) <= set(FILTERS[self.broker_class.source])
        assert set(frame["unit"]) == set(self.units or {self.unit})
        detected = frame["brightness"].notna()
        errors = frame.loc[detected, "brightness_error"]
        assert (errors.gt(0) | (self.errors_may_be_missing & errors.isna())).all()
        assert frame.loc[detected, "limit"].isna().all()

    def test_stored_times_are_utc_and_bandpasses_follow_the_convention(self, archive, make_target):
        target = self.covered(make_target)
        outcome = update(target, self.broker_class)
        assert outcome.status == LightcurveUpdate.Status.OK, outcome.message
        points = stored(target, self.name)
        assert points.count() == self.expected_points
        assert set(points.values_list("bandpass", flat=True)) == {bandpass(self.broker_class.source, f)
                                                                  for f in self.expected_filters}
        survey = SURVEY[self.broker_class.source]
        assert all(b.endswith(f"({survey.band_label or PRETTY_SURVEY_NAME[self.broker_class.source]})")
                   for b in points.values_list("bandpass", flat=True))
        stamps = [p.timestamp for p in points.order_by("timestamp")]
        assert all(s.utcoffset().total_seconds() == 0 for s in stamps)
        mjd = Time(stamps).utc.mjd
        assert np.isclose(mjd[0], self.expected_mjd_range[0], atol=1e-5)
        assert np.isclose(mjd[-1], self.expected_mjd_range[1], atol=1e-5)

    def test_storing_twice_adds_nothing(self, archive, make_target):
        target = self.covered(make_target)
        first = update(target, self.broker_class)
        ids = set(stored(target, self.name).values_list("pk", flat=True))
        second = update(target, self.broker_class)
        assert (first.added, second.added, second.removed) == (self.expected_points, 0, 0)
        assert set(stored(target, self.name).values_list("pk", flat=True)) == ids

    def test_no_coverage_is_no_data_not_an_error(self, archive, make_target):
        spec = dict(self.uncovered_target)
        target = make_target(spec.pop("name"), spec.pop("ra", None), spec.pop("dec", None), **spec)
        outcome = update(target, self.broker_class)
        assert outcome.status == LightcurveUpdate.Status.NO_DATA, outcome.message
        assert outcome.message
        assert not stored(target, self.name).exists()

    @pytest.mark.parametrize("fault, reason", [
        # bytes that are no text: the chain's "could not read", or the archive's format refused by name; a parser
        # that breaks on them otherwise is a bug ("internal error"), and never a stored point
        ({"kind": "garbage"},
         r"could not read the .+ response|is not a (VOTable|gzipped tarball|zip file|FITS file|forcedphotometry "
         r"table)"),
        ({"kind": "empty"}, "empty response"),
    ])
    def test_a_broken_answer_changes_nothing_and_says_why(self, archive, make_target, fault, reason):
        """What each archive's parser sees: an answer that is not its format, or none."""
        self.assert_fault_changes_nothing(archive, make_target, fault, reason)

    @pytest.mark.parametrize("fault, reason", [
        ({"kind": "html"}, "HTML page"),
        ({"kind": "status", "status": 500}, "server error"),
        ({"kind": "truncate"}, "truncated"),
        ({"kind": "stall", "seconds": 2.5}, "timeout"),
    ])
    def test_a_broken_transport_changes_nothing_and_says_why(self, archive, make_target, fault, reason):
        """What the transport sees, once per transport (``transport_faults``), not per archive: every archive on a
        transport meets these faults in the same code."""
        if not self.transport_faults:
            pytest.skip("this archive's transport is tested through another archive (transport_faults)")
        self.assert_fault_changes_nothing(archive, make_target, fault, reason)

    def assert_fault_changes_nothing(self, archive, make_target, fault, reason):
        target = self.covered(make_target)
        assert update(target, self.broker_class).status == LightcurveUpdate.Status.OK
        before = sorted(stored(target, self.name).values_list("pk", flat=True))
        self.forget_downloads()
        archive.add_fault(path=self.fault_path, **fault)
        outcome = update(target, self.broker_class)
        if fault["kind"] == "empty" and self.empty_answer_is_no_data:
            assert outcome.status == LightcurveUpdate.Status.NO_DATA, outcome.message
            assert "stored earlier are kept" in outcome.message
            assert sorted(stored(target, self.name).values_list("pk", flat=True)) == before
            return
        assert outcome.status == LightcurveUpdate.Status.ERROR
        assert re.search(reason, outcome.message) and "internal error" not in outcome.message, outcome.message
        assert outcome.url.startswith(archive.url)
        assert sorted(stored(target, self.name).values_list("pk", flat=True)) == before
        row = LightcurveUpdate.objects.get(target=target, source=self.name)
        assert row.status == "error" and row.points_total == len(before) and row.last_success is not None

    def test_server_error_then_success_is_retried(self, archive, make_target):
        if not self.transport_faults:
            pytest.skip("this archive's transport is tested through another archive (transport_faults)")
        target = self.covered(make_target)
        archive.add_fault(path=self.fault_path, kind="status", status=503, times=1)
        outcome = update(target, self.broker_class)
        assert outcome.status == LightcurveUpdate.Status.OK, outcome.message
        assert stored(target, self.name).count() == self.expected_points
        assert sum(self.fault_path in r["path"] for r in archive.requests) >= 2


class JobQueueContract(BrokerContract):
    """The contract of an archive answering through a job queue (ATLAS, ZTF FPS): a fetch is what the updater's
    passes do, a job still queued asked again (the tests poll every 0.05 s)."""

    def fetch(self, info):
        broker = self.broker_class()
        for _ in range(20):
            answer = broker.fetch(info)
            if answer.job is None:
                return answer.lightcurve
            info = replace(info, pair=PairInput(job=answer.job))
            time.sleep(float(broker.setting("poll_seconds")))
        raise AssertionError("the job never finished")
