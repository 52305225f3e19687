"""What changed: a fleet of stars at a sample archive of their own (ZTF's light-curve service, real HTTP), read once,
then the archive's next day: some stars brightened or faded by known amounts, the others only gained noise. Every
moved star is recorded as a departure with its amount within errors, no noise-only star is, and the command's list,
the e-mail digest and the signal say the same."""
import io
import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from tom_dataproducts.models import PhotometryReducedDatum
from django.core import mail
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.sample_archive.server import SampleArchive
from tom_bhtom_brokers import updating
from tom_bhtom_brokers.brokers.ztf import ZtfBroker
from tom_bhtom_brokers.changes import band_change, DEFAULTS
from tom_bhtom_brokers.models import SurveyChange
from tom_bhtom_brokers.signals import survey_departure
from tom_bhtom_brokers.target_info import TargetInfo
from tom_bhtom_brokers.target_tab import status_rows

HEADER = ("oid,expid,hjd,mjd,mag,magerr,catflags,filtercode,ra,dec,chi,sharp,filefracday,field,ccdid,qid,limitmag,"
          "magzp,magzprms,clrcoeff,clrcounc,exptime,airmass,programid")
#: star index -> the change of its new epochs (mag): negative brightened, positive faded, 0 noise only
MOVES = {0: -0.5, 1: -0.8, 2: -1.5, 3: +0.6, 4: +1.0}
STARS = 12
FIRST_MJD, EPOCHS, ERROR = 59000.3, 30, 0.02


def star_position(i):
    return 150.0 + i * 0.5, 20.0 + i * 0.1


def rows(i, mjds, offset, rng):
    ra, dec = star_position(i)
    base = 14.0 + 0.3 * i
    return [f"{1000 + i},{int(m * 1000)},{m + 2400000.5:.6f},{m:.6f},{base + offset + rng.normal(0, ERROR):.4f},"
            f"{ERROR},0,zr,{ra:.7f},{dec:.7f},1.0,0.0,0,1,1,1,20.5,26.3,0.02,0.1,0.01,30,1.2,1" for m in mjds]


def write_archive(folder, day, rng):
    """The archive's files as of ``day`` (0: the history; 1: two more epochs, the moves applied)."""
    (folder / "ztf").mkdir(parents=True, exist_ok=True)
    routes = []
    for i in range(STARS):
        history = FIRST_MJD + np.arange(EPOCHS) * 2.0
        lines = rows(i, history, 0.0, np.random.default_rng(i))  # the same history on both days
        if day:
            newest = history[-1] + np.array([1.0, 1.02])
            lines += rows(i, newest, MOVES.get(i, 0.0), rng)
        (folder / "ztf" / f"star{i}.csv").write_text("\n".join([HEADER, *lines]) + "\n")
        routes.append({"path": "/cgi-bin/ZTF/nph_light_curves", "cone": list(star_position(i)), "file": f"star{i}.csv"})
    (folder / "ztf" / "routes.json").write_text(json.dumps(routes))


@pytest.fixture
def fleet(tmp_path, settings, make_target):
    write_archive(tmp_path, 0, np.random.default_rng(7))
    with SampleArchive(data_dir=tmp_path) as server:
        settings.DATA_SERVICES = {"ZTF": {"url": server.url, "timeout": 5}}
        settings.BHTOM_BROKERS = {"digest_recipients": ["operator@example.org"]}
        targets = [make_target(f"star {i}", *star_position(i)) for i in range(STARS)]

        def refresh(day):
            write_archive(tmp_path, day, np.random.default_rng(100 + day))  # the files are read at each request
            return updating.run(updating.plan(targets, [ZtfBroker()], force=True), workers=4)

        yield targets, refresh


@pytest.mark.django_db(transaction=True)
def test_moved_stars_are_departures_and_noise_is_not(fleet):
    targets, refresh = fleet
    heard = []
    survey_departure.connect(lambda sender, change, target, **kw: heard.append((target.name, change.kind)),
                             weak=False, dispatch_uid="test-changes")
    try:
        assert all(o.status == "ok" for o in refresh(0))
        assert set(SurveyChange.objects.values_list("kind", flat=True)) == {SurveyChange.Kind.FIRST_DATA}
        for first in SurveyChange.objects.all():  # counted in the database: each band's points and their dates
            stored = PhotometryReducedDatum.objects.filter(target_id=first.target_id, source_name=first.source,
                                                           bandpass=first.bandpass)
            assert first.new_points == stored.count() > 0 and first.unit == stored.first().unit
            assert (first.first_new, first.last_new) == (min(p.timestamp for p in stored),
                                                         max(p.timestamp for p in stored))
        day_one = timezone.now()
        assert all(o.status == "ok" and o.added == 2 for o in refresh(1))
    finally:
        survey_departure.disconnect(dispatch_uid="test-changes")
    changes = {c.target.name: c for c in SurveyChange.objects.filter(recorded_at__gte=day_one)}
    assert len(changes) == STARS
    departed = {name for name, change in changes.items() if change.departed}
    assert departed == {f"star {i}" for i in MOVES}
    for i, move in MOVES.items():
        change = changes[f"star {i}"]
        assert change.kind == (SurveyChange.Kind.BRIGHTENED if move < 0 else SurveyChange.Kind.FADED)
        # the amount within its errors: the new mean's and the baseline median's (1.25 x scatter / sqrt(n))
        error = np.hypot(change.newest_error, 1.25 * change.scatter / np.sqrt(change.baseline_points))
        assert abs(change.difference - move) < 4 * error, (change.difference, move, error)
        assert change.rule["sigma"] == DEFAULTS["sigma"] and change.new_points == 2
    assert all(changes[f"star {i}"].kind == SurveyChange.Kind.NEW_DATA for i in range(STARS) if i not in MOVES)
    assert sorted(heard) == sorted((f"star {i}", changes[f"star {i}"].kind) for i in MOVES)

    # the command's list and the digest say the same departures
    out = io.StringIO()
    call_command("update_lightcurves", "--changes-since", f"{day_one:%Y-%m-%dT%H:%M:%S.%f}", stdout=out)
    listed = [line.strip() for line in out.getvalue().splitlines() if line.startswith("  ")]
    assert len(listed) == len(MOVES) and all(any(f"star {i} ·" in line for line in listed) for i in MOVES)
    call_command("mail_survey_changes", "--since", f"{day_one:%Y-%m-%dT%H:%M:%S.%f}", stdout=io.StringIO())
    (message,) = mail.outbox
    assert message.to == ["operator@example.org"] and f"{len(MOVES)} departure(s)" in message.subject
    assert [line for line in message.body.splitlines()[2:] if line] == listed

    # the page lists the same departures
    client = Client()
    client.force_login(User.objects.create_superuser("boss", "boss@example.org", "pw"))
    rows = client.get(reverse("bhtom_brokers:changes"), {"days": "1", "departed": "1"}).context["rows"]
    assert sorted(row.target.name for row in rows) == sorted(line.split(" · ")[0] for line in listed)

    # the target tab: the newest points marked in the figure's data, the last departure in the status table
    moved = next(t for t in targets if t.name == "star 2")
    payload = client.get(reverse("bhtom_brokers:data", args=[moved.pk])).json()
    newest = [payload["points"]["mjd"][k] for k in payload["points"]["new"]]
    assert len(newest) == 2 and min(newest) > max(m for k, m in enumerate(payload["points"]["mjd"])
                                                  if k not in payload["points"]["new"])
    rows = {row["source"]: row for row in status_rows(moved, TargetInfo.from_target(moved))}
    assert rows["ZTF"]["departures"] and rows["ZTF"]["departures"][0].startswith("r(ZTF): brightened")
    quiet = next(t for t in targets if t.name == "star 8")
    assert not {row["source"]: row for row in status_rows(quiet, TargetInfo.from_target(quiet))}["ZTF"]["departures"]


def frame(mjds, values, errors=None, limits=None, unit="mag"):
    n = len(mjds)
    return pd.DataFrame({"pk": range(n), "timestamp": [timezone.now() + timedelta(days=m) for m in mjds],
                         "bandpass": "r(ZTF)", "brightness": values, "brightness_error": errors or [0.02] * n,
                         "limit": limits or [None] * n, "unit": unit})


def test_a_detection_after_only_limits_and_limits_after_detections():
    limits_only = frame([0, 1, 2], [None] * 3, limits=[19.0] * 3)
    detected = frame([3], [17.5])
    assert band_change(limits_only, detected, DEFAULTS).kind == SurveyChange.Kind.NEW_DETECTION
    steady = frame(range(10), [15.0, 15.01, 14.99, 15.02, 14.98, 15.0, 15.01, 15.0, 14.99, 15.0])
    deep_limit = frame([11], [None], limits=[17.0])
    shallow_limit = frame([11], [None], limits=[14.0])
    assert band_change(steady, deep_limit, DEFAULTS).kind == SurveyChange.Kind.NOT_DETECTED
    assert not band_change(steady, shallow_limit, DEFAULTS).departed


def test_fluxes_compare_in_flux_with_a_relative_minimum():
    steady = frame(range(10), [2.0, 2.1, 1.9, 2.0, 2.05, 1.95, 2.0, 2.0, 2.1, 1.9], errors=[0.05] * 10, unit="mJy")
    assert band_change(steady, frame([11], [4.0], errors=[0.05], unit="mJy"), DEFAULTS).kind == \
        SurveyChange.Kind.BRIGHTENED
    small = band_change(steady, frame([11], [2.4], errors=[0.01], unit="mJy"), DEFAULTS)
    assert small.significance > 3 and not small.departed  # significant, but under 30 % of the baseline
