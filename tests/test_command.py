from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tom_dataproducts.models import PhotometryReducedDatum

from tom_bhtom_brokers.management.commands.update_lightcurves import COLUMNS
from tom_bhtom_brokers.models import LightcurveUpdate


#: the archives these tests expect answers of (the nineteen of the command's first tests, fixed so that a new archive
#: changes none of their counts: each archive's own path is its contract's)
SOURCES = ("Gaia Alerts", "NEOWISE", "ALLWISE", "ZTF", "Gaia DR3", "CRTS", "ASAS-SN", "CPCS", "ANTARES", "ATLAS",
           "AAVSO", "SDSS", "PS1", "FIRST", "LINEAR", "LSST", "ALeRCE ZTF", "OGLE EWS", "PTF")


def run(*args):
    out, err = StringIO(), StringIO()
    sources = [] if "--source" in args else [option for name in SOURCES for option in ("--source", name)]
    try:
        call_command("update_lightcurves", *args, *sources, "--no-progress", stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        if exc.returncode not in (1, 3):
            raise
        code, _ = exc.returncode, err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def row(table, source):
    line = next(line for line in table.splitlines() if line.startswith(source))
    cells = line[len(source):].split()
    return dict(zip(COLUMNS[1:], map(int, cells)))


@pytest.fixture
def demo_targets(make_target):
    return [
        make_target("Gaia18cbf", 268.8875, -31.2472, **{"Gaia Alerts name": "Gaia18cbf"}),
        make_target("Gaia20fnr", 90.26701, -18.96770),
        make_target("FU Ori", 88.0717, 9.0680, **{"ASAS-SN URL": "https://asas-sn.osu.edu/sky-patrol/coordinate/"
                                                                   "3f9c2d4e-7a1b-4c8d-9e0f-a1b2c3d4e5f6"}),
    ]


def test_first_run_stores_then_rerun_skips_and_force_adds_nothing(archive, demo_targets):
    code, out, err = run()
    assert code == 0, err
    expected = {  # (fetched, no data) over Gaia18cbf (by alert name), Gaia20fnr (by position), FU Ori (ASAS-SN URL)
        "Gaia Alerts": (2, 1), "NEOWISE": (2, 1), "ALLWISE": (1, 2), "ZTF": (1, 2), "Gaia DR3": (1, 2),
        "CRTS": (1, 2), "ASAS-SN": (1, 2), "CPCS": (0, 0),  # no CPCS name on these three; ASAS-SN v2 by cone
        "ANTARES": (1, 2), "ATLAS": (1, 2), "AAVSO": (1, 2),  # ATLAS: the emulated queue; AAVSO: FU Ori by VSX
        "SDSS": (1, 2), "PS1": (1, 2), "FIRST": (1, 2), "LINEAR": (0, 3),  # none is in the LINEAR sample
        "LSST": (0, 3), "ALeRCE ZTF": (0, 3), "OGLE EWS": (0, 3), "PTF": (0, 3)}  # none holds these three
    rows = {name: row(out, name) for name in expected}
    for name, (fetched, no_data) in expected.items():
        assert (rows[name]["checked"], rows[name]["fetched"], rows[name]["no data"], rows[name]["errors"]) \
            == (3, fetched, no_data, 0), name
    stored = PhotometryReducedDatum.objects.count()
    assert stored == row(out, "total")["added"] == sum(r["added"] for r in rows.values())

    requests_before = len(archive.requests)
    code, out, _ = run()
    assert code == 0
    assert row(out, "Gaia Alerts")["not due"] == 3 and row(out, "NEOWISE")["not due"] == 3
    assert row(out, "ALLWISE")["not due"] == 3
    # nothing due: no downloads, but for ALeRCE, asked once by the ZTF name ANTARES recorded for Gaia20fnr (its cone
    # had found nothing there)
    assert [r["path"] for r in archive.requests[requests_before:]] == ["/ztf/v1/objects/ZTF20abkfnrq/lightcurve"]

    code, out, _ = run("--force")
    assert code == 0 and row(out, "total")["added"] == 0 and row(out, "total")["fetched"] == 15
    assert PhotometryReducedDatum.objects.count() == stored


def test_a_broken_archive_is_reported_with_target_source_url_and_reason(archive, demo_targets):
    archive.add_fault(path="/alerts/alert/Gaia18cbf", kind="html")
    code, out, err = run()
    assert code == 1
    line = next(line for line in err.splitlines() if line.startswith("ERROR"))
    assert "'Gaia18cbf'" in line and "Gaia Alerts" in line
    assert f"{archive.url}/alerts/alert/Gaia18cbf/lightcurve.csv" in line and "HTML page" in line
    assert row(out, "Gaia Alerts")["errors"] == 1 and row(out, "NEOWISE")["fetched"] == 2
    assert not PhotometryReducedDatum.objects.filter(target=demo_targets[0], source_name="Gaia Alerts").exists()
    assert "1 of 57 update(s) failed" in err
    # the failed pair is due again next time, the others are not
    archive.reset()
    code, out, _ = run()
    assert code == 0 and row(out, "Gaia Alerts")["fetched"] == 1 and row(out, "Gaia Alerts")["not due"] == 2


@pytest.mark.django_db
def test_a_site_without_targets_is_told_so():
    code, out, _ = run()
    assert code == 0 and "this site has no targets" in out and "total" not in out


def test_dry_run_fetches_nothing_and_says_why(archive, demo_targets):
    code, out, _ = run("--dry-run")
    assert code == 0 and archive.requests == []
    assert "fetch Gaia18cbf · Gaia Alerts: never fetched" in out
    # what the plan knows without a request: no CPCS name (3); AAVSO and ASAS-SN are searched by position where
    # there is no AAVSO name or ASAS-SN URL
    assert "fetch Gaia18cbf · AAVSO: never fetched" in out and "fetch Gaia20fnr · ASAS-SN: never fetched" in out
    assert "no name Gaia20fnr · CPCS: no CPCS name" in out
    assert "54 of 57 pair(s) would be fetched; 3 no name" in out
    assert not LightcurveUpdate.objects.exists()


def test_target_and_source_selection(archive, demo_targets):
    code, out, _ = run("--target", "Gaia18cbf", "--target", str(demo_targets[2].pk), "--source", "neowise")
    assert code == 0
    assert "Gaia Alerts" not in out
    assert row(out, "NEOWISE")["checked"] == 2
    with pytest.raises(CommandError, match="no target"):
        run("--target", "no such star")
    with pytest.raises(CommandError, match="unknown source"):
        run("--source", "Hipparcos")


def test_a_data_release_is_read_again_when_the_position_changes(archive, demo_targets):
    run("--source", "NEOWISE")
    target = demo_targets[2]
    target.ra += 1.0
    target.save()
    code, out, _ = run("--source", "NEOWISE", "--workers", "1")
    assert row(out, "NEOWISE")["not due"] == 2 and row(out, "NEOWISE")["no data"] == 1


def test_disabled_and_not_configured_sources(archive, demo_targets, settings):
    settings.DATA_SERVICES["NEOWISE"]["enabled"] = False
    code, out, _ = run()
    assert "NEOWISE" not in out and code == 0


def test_an_archive_refusing_connections_is_exit_status_3_not_0(archive, demo_targets, settings):
    """Every archive's host refuses: nothing fetched, every pair "archive unavailable" or unreachable. cron must see
    it (was exit 0)."""
    from tests.postgres import free_port

    for name in settings.DATA_SERVICES:
        settings.DATA_SERVICES[name]["url"] = f"http://127.0.0.1:{free_port()}"
    code, out, err = run("--source", "NEOWISE", "--source", "Gaia Alerts", "--force")
    assert code == 3 and "an archive was unavailable" in err, (code, err[-500:])


def test_an_archive_that_hangs_is_exit_status_3(archive, make_target, settings):
    from tests.fleet import create_fleet

    create_fleet(4)
    archive.add_fault(path="/TAP/sync", kind="stall", seconds=5)
    code, out, err = run("--source", "NEOWISE", "--workers", "4")
    assert code == 3 and "an archive was unavailable" in err, (code, err[-500:])


def test_a_pair_error_alone_is_exit_status_1_and_all_well_is_0(archive, demo_targets):
    assert run("--source", "Gaia Alerts")[0] == 0
    archive.add_fault(path="/alerts/alert/Gaia18cbf", kind="garbage")
    code, out, err = run("--source", "Gaia Alerts", "--force")
    assert code == 1 and "failed" in err


@pytest.mark.parametrize("args, says", [
    (("--workers", "0"), "must be 1 or more"),
    (("--workers", "-3"), "must be 1 or more"),
    (("--source", "Gaia Alert"), "did you mean 'gaia alerts'"),
])
def test_wrong_options_are_refused_with_a_reason(archive, demo_targets, args, says):
    with pytest.raises(CommandError, match=says):
        call_command("update_lightcurves", *args, "--no-progress", stdout=StringIO(), stderr=StringIO())


def test_enqueue_on_the_immediate_backend_updates_here_with_the_summary(archive, demo_targets):
    """tom_setup's ImmediateBackend would run the tasks in this process and say only "enqueued": the command
    updates as without --enqueue, summary and exit status included."""
    archive.add_fault(path="/alerts/alert/Gaia18cbf", kind="garbage")
    code, out, err = run("--enqueue", "--source", "Gaia Alerts")
    assert "updating here instead of enqueueing" in out and "enqueued" not in out.replace("instead of enqueueing", "")
    assert row(out, "Gaia Alerts")["errors"] == 1 and code == 1


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_cleanly_and_the_next_run_finishes(archive):
    """SIGINT mid-run: no traceback, the pairs done are stored, "interrupted: N pairs stored, M not asked", exit
    130; the next run asks what was left."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.db import connection

    from tests.fleet import create_fleet, expected_points

    repo = Path(__file__).resolve().parent.parent
    targets = create_fleet(8)
    archive.latency = 0.5  # the 16 pairs take the two workers several seconds: the signal comes mid-run
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(repo),
           "BHTOM_TEST_SQLITE": connection.settings_dict["NAME"], "BHTOM_TEST_ARCHIVE_URL": archive.url}
    command = subprocess.Popen([sys.executable, "-m", "django", "update_lightcurves", "--no-progress", "--workers", "2",
                                "--source", "Gaia Alerts", "--source", "NEOWISE"], cwd=repo, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               # Ctrl-C as a terminal sends it: a shell running the suite in the background (CI, `make
                               # test &`) starts it with SIGINT ignored, which the command would inherit
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while LightcurveUpdate.objects.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    command.send_signal(signal.SIGINT)
    out, err = command.communicate(timeout=60)
    assert command.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "interrupted:" in err and "not asked (due next run" in err, err[-2000:]
    done = LightcurveUpdate.objects.count()
    assert 0 < done < 16
    archive.latency = 0.0
    code, out, err = run("--source", "Gaia Alerts", "--source", "NEOWISE")
    assert code == 0 and row(out, "total")["fetched"] == 16 - done
    assert PhotometryReducedDatum.objects.count() == len(targets) * (expected_points()["Gaia Alerts"]
                                                                     + expected_points()["NEOWISE"])
