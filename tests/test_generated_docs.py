"""The docs' archive tables are generated from the archives' declarations (``manage.py archive_tables``, ``make
docs``): the committed file is what the command prints now, so a new or changed archive that was not written into
the docs fails here, and the README's sources table is the same table."""
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES
from tom_bhtom_brokers.management.commands.archive_tables import table_rows

ROOT = Path(__file__).resolve().parent.parent


def generated():
    out = StringIO()
    call_command("archive_tables", stdout=out)
    return out.getvalue()


def test_docs_archives_is_what_the_command_prints_now():
    assert (ROOT / "docs" / "archives.md").read_text() == generated(), "run `make docs` and commit docs/archives.md"


def test_every_archive_has_a_row_and_a_section():
    text = generated()
    for name in IMPLEMENTED_SOURCE_NAMES:
        assert f"\n| {name} | " in text and f"\n## {name}\n" in text


def test_the_readme_sources_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text()
    assert "\n".join(table_rows()) in readme, "copy the table of docs/archives.md into the README's sources section"
