"""An archive added the way #27 asks: a module, a declaration and a recorded answer, nothing else touched. The
throwaway archive (tests/data/throwaway: an adapter, its ``Survey`` record registered under the entry point group
``tom_bhtom_brokers.archives`` as another installed package would, and one CSV answer) is put on the path of a
demo site in a process of its own (tests/throwaway_site.py), which is asked where an archive shows: TOM's target
form's fields, the names form with its rule, the update command, the status table, the plot's data,
``check_archives`` and the generated docs."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "tests" / "data" / "throwaway"


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    path = os.pathsep.join(map(str, (PLUGIN, REPO, REPO / "example_site", os.environ.get("PYTHONPATH", ""))))
    run = subprocess.run([sys.executable, str(REPO / "tests" / "throwaway_site.py"),
                          str(tmp_path_factory.mktemp("throwaway") / "site.sqlite3")],
                         cwd=REPO, env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.splitlines()[-1])


def test_the_names_form_and_toms_target_form_have_its_field_with_its_rule(found):
    assert "Throwaway id" in found["extra_fields"]
    assert re.search(r'<input[^>]*name="throwaway_id"[^>]*value="TW0001"', found["names_form"])
    assert '"label": "Throwaway id", "help": "e.g. TW0001", "pattern": "TW\\\\d{4}"' in found["names_form"]
    assert "Throwaway id is like TW0001" in found["refused_name"]


def test_an_update_stores_its_points_and_the_status_table_shows_them(found):
    row = next(line for line in found["update"].splitlines() if line.startswith("Throwaway "))
    assert row.split()[1:3] == ["1", "1"] and row.split()[-3:] == ["3", "0", "0"], found["update"]
    status = re.search(r'data-source="Throwaway">(.*?)</tr>', found["tab"], re.S).group(1)
    assert "TW0001" in status and "<td>3</td>" in status and ">ok<" in status


def test_the_plot_draws_it_with_its_marker(found):
    (trace,) = [t for t in found["plot"]["traces"] if t["source"] == "Throwaway"]
    assert (trace["bandpass"], trace["symbol"]) == ("V(Throwaway)", "asterisk-open")
    assert found["plot"]["points"]["y"] == [15.21, 15.34, 15.18]


def test_check_archives_asks_its_probe_and_the_docs_describe_it(found):
    assert re.search(r"Throwaway\s+ok\s+3 points of TW0001", found["check"]), found["check"]
    assert "\n| Throwaway | The Throwaway archive: a test's archive of V magnitudes" in found["docs"]
    assert "\n## Throwaway\n" in found["docs"]
