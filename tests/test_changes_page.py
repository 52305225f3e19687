"""The "Survey changes" page through Django's test client: 200 targets in two groups, private ones visible only to
the group given TOM's object permission; filters, order, the small light curves and the navbar entry."""
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from tom_targets.models import Target, TargetList

from tom_bhtom_brokers.lightcurve import Lightcurve
from tom_bhtom_brokers.models import SurveyChange
from tom_bhtom_brokers.sources import DataSource
from tom_bhtom_brokers.store import sync

N = 200


@pytest.fixture
def sky(db):
    """200 private targets, the first half in group A's list and permission, the rest in group B's; each with ZTF
    points and one change record (every tenth a departure that brightened by 0.1 x its index mag)."""
    now = timezone.now()
    groups = {name: Group.objects.create(name=name) for name in ("A", "B")}
    lists = {name: TargetList.objects.create(name=f"list {name}") for name in groups}
    targets = []
    for i in range(N):
        group = "A" if i < N // 2 else "B"
        target = Target.objects.create(name=f"star {i:03d}", type=Target.SIDEREAL, ra=i * 1.0, dec=10.0,
                                       permissions=Target.Permissions.PRIVATE)
        assign_perm("tom_targets.view_target", groups[group], target)
        lists[group].targets.add(target)
        mjd = 61000.0 + i % 7
        sync(target, DataSource.ZTF, "ZTF", Lightcurve.from_columns(
            mjd=[mjd - 30, mjd - 20, mjd - 10, mjd], brightness=[15.0, 15.01, 14.99, 15.0 - (i % 10 == 0) * 0.1 * i],
            brightness_error=0.02, filter="r"))
        first = target.photometryreduceddatum_set.order_by("-timestamp").first().timestamp
        SurveyChange.objects.create(
            target=target, source="ZTF", bandpass="r(ZTF)", new_points=1, first_new=first, last_new=first,
            kind=SurveyChange.Kind.BRIGHTENED if i % 10 == 0 else SurveyChange.Kind.NEW_DATA,
            departed=i % 10 == 0, unit="mag", baseline=15.0, scatter=0.01, baseline_points=3,
            newest=15.0 - 0.1 * i if i % 10 == 0 else 15.0, newest_error=0.02,
            difference=-0.1 * i if i % 10 == 0 else 0.0, significance=5.0 * i if i % 10 == 0 else 0.0,
            recorded_at=now - timedelta(hours=i % 30))
        targets.append(target)
    viewer = User.objects.create_user("viewer", password="pw")
    viewer.groups.add(groups["A"])
    return targets, viewer, lists


def page(client, **query):
    response = client.get(reverse("bhtom_brokers:changes"), query)
    assert response.status_code == 200
    return response.content.decode(), response.context["rows"]


def test_a_viewer_sees_only_the_targets_of_her_group_departures_first(client, sky):
    targets, viewer, lists = sky
    client.force_login(viewer)
    html, rows = page(client, days="3")
    names = {row.target.name for row in rows}
    assert names == {f"star {i:03d}" for i in range(N // 2)}  # group B's private targets never appear
    assert "star 150" not in html
    departed = [row.departed for row in rows]
    assert departed == sorted(departed, reverse=True) and sum(departed) == 10
    assert html.count('class="bhtom-spark"') == len(rows) and 'fill="#d62728"' in html  # the new points marked
    assert 'id="bhtom-changes-link"' in html  # the navbar entry


def test_filters_by_departure_size_group_and_sort_by_size(client, sky, admin_user):
    targets, viewer, lists = sky
    client.force_login(admin_user)
    _, rows = page(client, days="3", departed="1", sort="size")
    assert [row.target.name for row in rows] == [f"star {i:03d}" for i in range(190, -1, -10)]
    _, rows = page(client, days="3", min_change="5")
    assert {row.target.name for row in rows} == {f"star {i:03d}" for i in range(50, N, 10)}
    _, rows = page(client, days="3", group=str(lists["B"].pk), departed="1")
    assert {row.target.name for row in rows} == {f"star {i:03d}" for i in range(100, N, 10)}
    _, rows = page(client, days="3", source="PS1")
    assert rows == []


def test_an_anonymous_visitor_sees_no_private_target(client, sky):
    html, rows = page(client)
    assert rows == [] and "No survey changes" in html
