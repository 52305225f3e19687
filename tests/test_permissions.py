"""Who may do what, URL by URL, as docs/target-page.md says: viewing follows TOM's rule (open targets: everyone; public:
logged-in users; private: the object permission; the period search also needs a login); changing survey names
and starting an update (which can spend the site's ATLAS token) needs ``change_target`` on the target, whatever
its permissions setting."""
import pytest
from django.contrib.auth.models import User
from guardian.shortcuts import assign_perm

from tom_targets.models import Target

from tom_bhtom_brokers.brokers import IMPLEMENTED_SOURCE_NAMES
from tom_bhtom_brokers.models import LightcurveUpdate, TargetUpdateRequest

KINDS = (Target.Permissions.PRIVATE, Target.Permissions.PUBLIC, Target.Permissions.OPEN)
USERS = ("anonymous", "logged-in", "view-only", "change")


def refused(response):
    """TOM's Raise403Middleware turns a 403 into a redirect to the login page; anonymous users are redirected."""
    return response.status_code == 403 or (response.status_code == 302 and "/accounts/login/" in response["Location"])


def may_view(user, kind):
    return kind == Target.Permissions.OPEN or (user != "anonymous" and (
        kind == Target.Permissions.PUBLIC or user in ("view-only", "change")))


@pytest.fixture
def as_user(client, db):
    def login(who, target):
        if who == "anonymous":
            return client
        user = User.objects.create_user(who, password="pw")
        if who in ("view-only", "change"):
            assign_perm("tom_targets.view_target", user, target)
        if who == "change":
            assign_perm("tom_targets.change_target", user, target)
        client.force_login(user)
        return client
    return login


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("who", USERS)
def test_each_url_for_each_user_and_target_kind(archive, as_user, make_target, kind, who):
    target = make_target(f"{kind} star", 10.0, 10.0)
    target.permissions = kind
    target.save()
    client = as_user(who, target)
    base = f"/bhtom-brokers/targets/{target.pk}"
    for url in (f"{base}/lightcurves.json", f"{base}/lightcurves.csv", f"{base}/lightcurves.ecsv"):
        response = client.get(url)
        assert (response.status_code == 200) == may_view(who, kind), (url, response.status_code)
        assert refused(response) != may_view(who, kind), url
    # the period search: viewers who are logged in (it costs seconds of CPU); this target has no points to search
    periods = client.get(f"{base}/periods.json")
    may_search = may_view(who, kind) and who != "anonymous"
    assert refused(periods) != may_search, periods.status_code
    assert (periods.status_code == 400 and "needs at least 10" in periods.json()["error"]) == may_search
    may_change = who == "change"
    names = client.get(f"{base}/survey-names/")
    assert (names.status_code == 200) == may_change and refused(names) != may_change
    posted = client.post(f"{base}/survey-names/", {"ztf_name": "ZTF18abcdefg"})
    assert refused(posted) != may_change
    assert target.targetextra_set.filter(key="ZTF name").exists() == may_change
    update = client.post(f"{base}/update/", {})
    assert refused(update) != may_change
    assert TargetUpdateRequest.objects.filter(target=target).exists() == may_change
    # the update ran against the sample archive (never the archives' real hosts): every source was asked or said
    # why not, and none was found down
    rows = LightcurveUpdate.objects.filter(target=target)
    assert rows.count() == (len(IMPLEMENTED_SOURCE_NAMES) if may_change else 0)
    assert not rows.filter(status=LightcurveUpdate.Status.UNAVAILABLE).exists()
    assert all(url.startswith(archive.url) for url in rows.exclude(url="").values_list("url", flat=True))
