from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tom_dataproducts.models import PhotometryReducedDatum

from tom_bhtom_brokers.management.commands.update_lightcurves import COLUMNS
from tom_bhtom_brokers.models import LightcurveUpdate


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("update_lightcurves", *args, "--no-progress", stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        if exc.returncode != 1:
            raise
        code, _ = 1, err.write(str(exc))
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
