"""``manage.py check_archives`` against the sample archive: a line per archive, and the day an archive changes its
format or goes away, which one and why, with exit status 1."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.sample_archive.server import as_votable
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES


def check_archives(*args):
    out = StringIO()
    call_command("check_archives", *args, stdout=out)
    return out.getvalue()


def lines_by_source(output):
    return {line.split("  ")[0].strip(): line for line in output.splitlines() if line.strip()}


@pytest.mark.django_db
def test_every_archive_answers_in_the_format_its_broker_reads(archive):
    output = check_archives()
    lines = lines_by_source(output)
    for name in IMPLEMENTED_SOURCE_NAMES:
        assert " ok " in lines[name], lines[name]
    assert f"{len(IMPLEMENTED_SOURCE_NAMES)} archive(s) checked, none failed" in output
    assert "points of Gaia18cbf" in lines["Gaia Alerts"] and "points of Gaia20fnr" in lines["NEOWISE"]
    # one small request each: AAVSO one JD chunk, ATLAS no job queued, LINEAR the target list only
    assert sum(r["path"] == "/index.php" for r in archive.requests) == 1
    assert not [r for r in archive.requests if r["method"] == "POST" and "/forcedphot/" in r["path"]]
    assert not [r for r in archive.requests if r["path"].endswith("allLINEARfinal_dat.tar.gz")]


@pytest.mark.django_db
def test_a_changed_header_is_format_changed_and_exit_status_1(archive):
    archive.add_fault(path="/alerts/alert/Gaia18cbf/lightcurve.csv", kind="replace",
                      body="Gaia18cbf\n#Date,JD(TCB),flux\n2014-09-04 17:05:43,2456905.21230,17.1\n")
    with pytest.raises(CommandError, match="1 archive.s. failed the check: Gaia Alerts"):
        check_archives()
    archive.reset()
    archive.add_fault(path="/alerts/alert/Gaia18cbf/lightcurve.csv", kind="replace",
                      body="Gaia18cbf\n#Date,JD(TCB),flux\n2014-09-04 17:05:43,2456905.21230,17.1\n")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_archives", "--source", "Gaia Alerts", "--source", "NEOWISE", stdout=out)
    lines = lines_by_source(out.getvalue())
    assert "format changed" in lines["Gaia Alerts"] and "unexpected Gaia Alerts header" in lines["Gaia Alerts"]
    assert " ok " in lines["NEOWISE"]


@pytest.mark.django_db
def test_a_missing_column_is_named(archive):
    table = (archive.data_dir / "neowise" / "cone_Gaia20fnr.tbl").read_text().replace("| w1mpro|", "| w1flux|")
    archive.add_fault(path="/TAP/sync", kind="replace", body=as_votable(table.encode()))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_archives", "--source", "NEOWISE", stdout=out)
    assert "format changed" in out.getvalue() and "w1mpro" in out.getvalue()


@pytest.mark.django_db
def test_unreachable_and_not_configured(archive, settings):
    archive.add_fault(path="/TAP/sync", kind="status", status=503)
    del settings.DATA_SERVICES["CPCS"]["access_key"]
    out = StringIO()
    with pytest.raises(CommandError, match="2 archive.s. failed the check: NEOWISE, ALLWISE"):
        call_command("check_archives", "--source", "NEOWISE", "--source", "ALLWISE", "--source", "CPCS",
                     stdout=out)
    lines = lines_by_source(out.getvalue())
    assert "unreachable" in lines["NEOWISE"] and "HTTP 503" not in lines["CPCS"]
    assert "not configured" in lines["CPCS"] and "access_key" in lines["CPCS"]


@pytest.mark.django_db
def test_every_archive_down_is_said_within_thirty_seconds_without_log_lines(archive, settings, caplog):
    """Every archive's host accepts connections and answers nothing, with a real site's timeouts (60 s): the
    archives are asked at once, each held to the check's own timeout, and no broker log line is printed."""
    import socket
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(128)
    for name in settings.DATA_SERVICES:
        settings.DATA_SERVICES[name].update(url=f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=60.0,
                                            retries=3)
    settings.DATA_SERVICES["ASAS-SN"].pop("skypatrol_client", None)
    out = StringIO()
    started = time.monotonic()
    with pytest.raises(CommandError, match="failed the check"):
        call_command("check_archives", stdout=out)
    elapsed = time.monotonic() - started
    silent.close()
    lines = lines_by_source(out.getvalue())
    assert elapsed <= 30, elapsed
    assert all("unreachable" in lines[name] for name in IMPLEMENTED_SOURCE_NAMES), out.getvalue()
    assert not [r for r in caplog.records if r.name.startswith("tom_bhtom_brokers")]
