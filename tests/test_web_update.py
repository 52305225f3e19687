"""The tab's Update button on a site without a task worker (tom_setup's immediate backend): the request answers at
once, the update runs in a thread of the web process, the tab says "running" until it has ended."""
import time

import pytest

from tom_bhtom_brokers import background
from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES
from tom_bhtom_brokers.models import LightcurveUpdate, TargetUpdateRequest
from tom_bhtom_brokers.target_tab import update_state


@pytest.mark.django_db(transaction=True)
def test_the_button_answers_at_once_and_the_update_ends_in_the_background(archive, settings, make_target, client,
                                                                           admin_user):
    settings.BHTOM_BROKERS = {**settings.BHTOM_BROKERS, "web_update": "thread"}
    archive.latency = 0.2  # every answer takes a while: inside the request this would be seconds
    target = make_target("Gaia20fnr", 90.26701, -18.96770)
    client.force_login(admin_user)
    started = time.monotonic()
    response = client.post(f"/bhtom-brokers/targets/{target.pk}/update/")
    assert response.status_code == 302 and time.monotonic() - started < 1.0
    assert update_state(target)[0] == "running"
    again = client.post(f"/bhtom-brokers/targets/{target.pk}/update/", follow=True)
    assert "already running" in again.content.decode()
    page = client.get(f"/targets/{target.pk}/?tab=survey-light-curves").content.decode()
    assert 'data-state="running"' in page and "Update running since" in page
    background.join_all(timeout=120)
    request = TargetUpdateRequest.objects.get(target=target)
    assert request.backend == background.BACKEND and request.finished_at is not None
    assert update_state(target)[0] == ""
    assert LightcurveUpdate.objects.filter(target=target).count() == len(IMPLEMENTED_SOURCE_NAMES)
    assert LightcurveUpdate.objects.filter(target=target, status="ok").exists()
    after = client.get(f"/targets/{target.pk}/?tab=survey-light-curves").content.decode()
    assert 'id="bhtom-update-state"' not in after
