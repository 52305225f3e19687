"""``{% survey_lightcurves target %}`` and ``{% survey_status target %}`` for sites whose own target page does
not use TOM's tab hook: rendered through Django's template engine, in a page as a site would write it."""
import pytest
from django.contrib.auth.models import User
from django.template import engines
from django.test import RequestFactory
from guardian.shortcuts import assign_perm

from tests.brokers.contract import update
from tom_bhtom_brokers.brokers.gaia_alerts import GaiaAlertsBroker
from tom_bhtom_brokers.updating import installed_brokers

SITE_PAGE = """{% load bhtom_brokers %}<html><body><h1>{{ object.name }}</h1>
<section id="site-own-layout">{% survey_lightcurves object %}</section>
<aside>{% survey_status object %}</aside></body></html>"""


def render(source, target, user):
    request = RequestFactory().get(f"/targets/{target.pk}/")
    request.user = user
    return engines["django"].from_string(source).render({"object": target}, request)


@pytest.mark.django_db
def test_a_site_page_shows_the_tab_and_the_status_table(archive, make_target):
    target = make_target("Gaia18cbf", 268.8875, -31.2472, **{"Gaia Alerts name": "Gaia18cbf"})
    update(target, GaiaAlertsBroker)
    editor = User.objects.create_user("editor", password="pw")
    assign_perm("tom_targets.change_target", editor, target)
    assign_perm("tom_targets.view_target", editor, target)

    page = render(SITE_PAGE, target, editor)
    assert page.count('id="bhtom-status-table"') == 2  # the tab's own table and the aside's
    assert 'id="bhtom-lightcurve-plot"' in page and f"/bhtom-brokers/targets/{target.pk}/" in page
    assert 'id="bhtom-update-form"' in page and 'name="csrfmiddlewaretoken"' in page
    assert page.count('class="bhtom-status-row" data-source="Gaia Alerts"') == 2
    assert page.count("bhtom-status-row") == 2 * len(installed_brokers())
    assert "Gaia18cbf" in page


@pytest.mark.django_db
def test_a_viewer_without_change_permission_gets_no_buttons(archive, make_target):
    target = make_target("plain", 10.0, 10.0)
    viewer = User.objects.create_user("viewer", password="pw")
    page = render("{% load bhtom_brokers %}{% survey_lightcurves object %}", target, viewer)
    assert 'id="bhtom-no-data"' in page and 'id="bhtom-update-form"' not in page
    status_only = render("{% load bhtom_brokers %}{% survey_status object %}", target, viewer)
    assert "never updated" in status_only and "<form" not in status_only
