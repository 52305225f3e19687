"""The real archives, opt-in: ``pytest --remote-data``. Each broker reads its declared well-known object
(``probe``) from the real archive with the package's defaults: reachable, parsed, points, and times within the
survey's years. Skipped by default (no network in tests and CI); ``manage.py check_archives`` is the same check
for operators."""
import pytest
from astropy.time import Time

from tom_bhtom_brokers.brokers import BROKER_CLASSES
from tom_bhtom_brokers.checking import OK, check_archive
from tom_bhtom_brokers.brokers.base import BHTOMBroker
from tom_bhtom_brokers.sources import PRETTY_SURVEY_NAME, SURVEY
from django.utils.module_loading import import_string

#: the years each survey's data can fall in (a time outside them is a wrong time system or a wrong object)
#: sources whose check reads no points (ATLAS's queue: the job list; LINEAR: its target list): their own ``check``
NO_POINTS_CHECKED = {source for source, path in BROKER_CLASSES.items()
                     if import_string(path).check is not BHTOMBroker.check}


@pytest.mark.remote_data
@pytest.mark.django_db
@pytest.mark.parametrize("source", list(BROKER_CLASSES), ids=lambda source: PRETTY_SURVEY_NAME[source])
def test_the_real_archive_answers_for_the_probe_object(source, settings):
    settings.DATA_SERVICES = {}  # the package's defaults: the real archives
    broker = import_string(BROKER_CLASSES[source])()
    result = check_archive(broker)
    if result.verdict == "not configured":
        pytest.skip(result.detail)
    assert result.verdict == OK, result
    if source in NO_POINTS_CHECKED:
        return
    lightcurve = broker.check().lightcurve
    assert len(lightcurve) > 0, result
    first, last = SURVEY[source].years
    years = Time(lightcurve.frame["mjd"].to_numpy(), format="mjd", scale="utc").decimalyear
    assert years.min() >= first and (last is None or years.max() <= last + 1), (years.min(), years.max())
    assert years.max() <= Time.now().decimalyear


@pytest.mark.remote_data
@pytest.mark.django_db
@pytest.mark.parametrize("broker_path", ["tom_bhtom_brokers.brokers.aavso.AavsoBroker",
                                         "tom_bhtom_brokers.brokers.asassn.AsassnBroker"])
def test_the_coordinate_routes_find_a_well_known_star(broker_path, settings):
    """AAVSO through VSX's catalogue at VizieR, ASAS-SN through Sky Patrol v2's client (skipped where the client is
    not installed): SS Cyg by its position alone."""
    from tom_bhtom_brokers.target_info import TargetInfo

    settings.DATA_SERVICES = {}
    broker = import_string(broker_path)()
    if broker_path.endswith("AsassnBroker") and broker.client_factory() is None:
        pytest.skip("Sky Patrol v2's client is not installed: pip install 'tom-bhtom-brokers[asassn]'")
    lightcurve = broker.fetch(TargetInfo(id=None, name="SS Cyg", ra=325.67853, dec=43.58619)).lightcurve
    assert len(lightcurve) > 0, lightcurve.note
    if broker_path.endswith("AavsoBroker"):
        assert lightcurve.matched_identifier == "SS Cyg"
