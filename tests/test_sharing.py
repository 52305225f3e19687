"""TOM's data-sharing contract: points a sync adds reach the target's persistent shares once per sync.

TOM shares a reduced datum on ``post_save``; our sync inserts in bulk (no ``post_save``), so it calls TOM's
``continuous_share_data`` itself. The request to the other TOM (``share_data_with_tom``) is replaced by a
recorder: what is checked is what TOM is asked to share, and when.
"""
import pytest

from tom_targets.models import PersistentShare

from tests.brokers.contract import stored, update
from tom_bhtom_brokers.brokers.gaia_alerts import GaiaAlertsBroker

GAIA18CBF = {"ra": 268.8875, "dec": -31.2472, "Gaia Alerts name": "Gaia18cbf"}


@pytest.fixture
def shared(monkeypatch):
    calls = []

    def share_data_with_tom(destination, form_data, product_id=None, target_id=None, selected_data=None):
        calls.append((destination, sorted(selected_data)))
        return {"message": "ok"}

    monkeypatch.setattr("tom_targets.sharing.share_data_with_tom", share_data_with_tom)
    return calls


@pytest.mark.django_db
def test_added_points_are_shared_once_per_sync_after_the_commit(archive, make_target, shared,
                                                                django_capture_on_commit_callbacks):
    target = make_target("Gaia18cbf", **GAIA18CBF)
    PersistentShare.objects.create(target=target, destination="partner-tom")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert update(target, GaiaAlertsBroker).status == "ok"
    assert shared == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    stored_pks = sorted(stored(target, "Gaia Alerts").values_list("pk", flat=True))
    assert len(stored_pks) > 10
    assert shared == [("partner-tom", stored_pks)]

    shared.clear()
    with django_capture_on_commit_callbacks(execute=True):
        update(target, GaiaAlertsBroker)  # the same answer: nothing added, nothing shared
    assert shared == []


@pytest.mark.django_db
def test_a_target_without_shares_shares_nothing_and_a_failing_share_loses_no_point(archive, make_target, shared,
                                                                                   monkeypatch, caplog,
                                                                                   django_capture_on_commit_callbacks):
    alone = make_target("Gaia18cbf", **GAIA18CBF)
    with django_capture_on_commit_callbacks(execute=True):
        update(alone, GaiaAlertsBroker)
    assert shared == [] and stored(alone, "Gaia Alerts").count() > 10

    def unreachable(*args, **kwargs):
        raise ConnectionError("the partner TOM is down")

    monkeypatch.setattr("tom_targets.sharing.share_data_with_tom", unreachable)
    target = make_target("Gaia18cbf again", **GAIA18CBF)
    PersistentShare.objects.create(target=target, destination="partner-tom")
    with django_capture_on_commit_callbacks(execute=True):
        assert update(target, GaiaAlertsBroker).status == "ok"
    assert stored(target, "Gaia Alerts").count() == stored(alone, "Gaia Alerts").count()
    assert "sharing" in caplog.text and "failed" in caplog.text
