"""What the "Survey light curves" tab of TOM's target page shows (its context function) and who may act.

TOM Toolkit calls :func:`survey_tab_context` for every target page it renders (``AppConfig.target_detail_tabs``);
it reads the statuses, point counts and names with a handful of queries whatever the number of points:
the points themselves reach the page in one request to the data view, after the page has loaded.
"""
import re
from urllib.parse import quote

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django_tasks import tasks

from tom_dataproducts.models import PhotometryReducedDatum
from tom_targets.models import Target
from tom_targets.permissions import targets_for_user

from tom_bhtom_brokers import updating
from tom_bhtom_brokers.background import BACKEND as BACKGROUND, running as running_in_background
from tom_bhtom_brokers.app_settings import app_setting
from tom_bhtom_brokers.models import LightcurveUpdate, TargetUpdateRequest
from tom_bhtom_brokers.sources import SURVEY
from tom_bhtom_brokers.survey_names import RULES, check, form_fields
from tom_bhtom_brokers.target_info import TargetInfo
from tom_bhtom_brokers.changes import last_departures


def allowed(user, target, action):
    """TOM's own rules. Viewing (``tom_targets.permissions``): open targets are open to everyone, public ones to
    logged-in users, private ones need the object permission. Changing (survey names, starting an update that
    may spend the site's ATLAS token) always needs ``change_target`` on the target (django-guardian's object
    permission, which TOM gives a target's creator and the groups chosen in its form) or for all targets."""
    if action == "view_target":
        return targets_for_user(user, Target.objects.filter(pk=target.pk), action).exists()
    if not user.is_authenticated:
        return False
    permission = f"{Target._meta.app_label}.{action}"
    return user.is_superuser or user.has_perm(permission) or user.has_perm(permission, target)


def update_state(target):
    """'queued' or 'running' while the task backend reports so for the last update asked from the page, else ''."""
    request = TargetUpdateRequest.objects.filter(target=target).first()
    if request is None:
        return "", None
    if request.backend == BACKGROUND:  # an update in a thread of the web process (``background``)
        return ("running" if running_in_background(request) else ""), request
    try:
        backend = tasks[request.backend]
        if not backend.supports_get_result:
            return "", request
        status = backend.get_result(request.task_result_id).status
    except Exception:  # noqa: BLE001 - an expired or foreign result id must not break the target page
        return "", request
    return {"NEW": "queued", "RUNNING": "running"}.get(status.name, ""), request


#: an identifier longer than this that lists several objects is summarised in the table ("4 ZTF objects")
LONG_IDENTIFIER = 24


def listed_objects(identifier):
    """The objects a matched identifier lists ('ZTF DR oid 1,2' -> ['ZTF DR oid 1', '2'])."""
    return [part.strip() for part in re.split(r"[,;]", identifier) if part.strip()]


def identifier_summary(source, identifier):
    """'4 ZTF objects' for a matched identifier that lists several objects (the ZTF data releases' per-field
    oids, FIRST's components) and is too long for its column, else ''. The table shows the whole list on
    hover and on expanding the summary, one object per line."""
    listed = listed_objects(identifier)
    if len(listed) < 2 or len(identifier) <= LONG_IDENTIFIER:
        return ""
    return f"{len(listed)} {source} objects"


def status_rows(target, info):
    """One row per installed source: identifier (with the archive's page), points, last success, next due,
    status and message. ``info``: the target's TargetInfo (its survey names)."""
    brokers = updating.installed_brokers()
    rows = {row.source: row for row in LightcurveUpdate.objects.filter(target=target)}
    counts = dict(PhotometryReducedDatum.objects.filter(target=target, source_name__in=[b.name for b in brokers])
                  .values_list("source_name").annotate(n=Count("id")).values_list("source_name", "n"))
    now = timezone.now()
    departures = last_departures(target)
    out = []
    for broker in brokers:
        row = rows.get(broker.name)
        due, reason = updating.is_due(broker, info, row, False, now)
        key = broker.name_key()
        identifier = (info.survey_names.get(key) if key else "") or (row.matched_identifier if row else "")
        link = ""
        survey = SURVEY[broker.source]
        if survey.name_is_url and identifier:
            # only a URL that passes the field's rule (https/http on the archive's host): TOM's own target form
            # does not validate extras, and a javascript: address must never become a link
            link = identifier if check(key, identifier) is None else ""
        elif identifier and survey.object_page:
            link = survey.object_page.format(id=quote(identifier, safe=""))
        cadence = broker.cadence_interval()
        if due:
            next_due = f"next update ({reason})"
        elif cadence is None:
            next_due = "read once (data release)"
        else:
            next_due = timezone.localtime(row.last_attempt + cadence).strftime("%Y-%m-%d %H:%M")
        out.append({
            "source": broker.name, "identifier": identifier, "link": link,
            "identifier_summary": identifier_summary(broker.name, identifier),
            "identifier_list": listed_objects(identifier), "points": counts.get(broker.name, 0),
            "last_success": row.last_success if row else None, "next_due": next_due,
            "status": row.get_status_display() if row else "never updated",
            "status_code": row.status if row else "", "message": row.message if row else "",
            "citation": broker.citation, "departures": departures.get(broker.name, []),
        })
    return out


def citations(source_names):
    """source name -> how to cite it, for the installed sources among ``source_names`` (the download's header)."""
    return {broker.name: broker.citation for broker in updating.installed_brokers()
            if broker.name in source_names and broker.citation}


def page_target(context):
    """The target TOM's page shows, and whether its viewer may change it."""
    target = context.get("object") or context.get("target")
    user = getattr(context.get("request"), "user", None)
    return target, bool(user) and allowed(user, target, "change_target")


def survey_tab_context(context):
    """The tab's context (TOM passes the target page's context)."""
    target, can_change = page_target(context)
    info = TargetInfo.from_target(target)
    state, asked = update_state(target)
    rows = status_rows(target, info)
    return {"survey_tab": {
        "target": target,
        "rows": rows,
        # every archive asked answered "nothing here": not the same as never having asked
        "all_no_data": bool(rows) and all(r["status_code"] in ("no_data", "not_applicable") for r in rows)
        and any(r["status_code"] == "no_data" for r in rows),
        "points": sum(r["points"] for r in rows),
        "names": [(label, info.survey_names.get(label, "")) for label in RULES],
        "can_change": can_change,
        # the period search costs the server seconds: for logged-in viewers (views.period_search)
        "can_search_periods": bool(getattr(getattr(context.get("request"), "user", None), "is_authenticated", False)),
        "update_state": state, "update_request": asked,
        "data_url": reverse("bhtom_brokers:data", args=[target.pk]),
        "periods_url": reverse("bhtom_brokers:periods", args=[target.pk]),
        "plotly_url": reverse("bhtom_brokers:plotly"),
        "csv_url": reverse("bhtom_brokers:download", args=[target.pk, "csv"]),
        "ecsv_url": reverse("bhtom_brokers:download", args=[target.pk, "ecsv"]),
        "update_url": reverse("bhtom_brokers:update", args=[target.pk]),
        "names_url": reverse("bhtom_brokers:names", args=[target.pk]),
    }}


def tom_pages_context(context):
    """The navbar partial's context (TOM passes an empty dict): the survey-name fields' rules for TOM's target
    form, unless the site turned the script off (``BHTOM_BROKERS = {"tom_pages_script": False}``)."""
    enabled = bool(app_setting("tom_pages_script", True))
    return {"bhtom_tom_pages": {"enabled": enabled, "name_fields": form_fields() if enabled else []}}


def update_button_context(context):
    """The left-column button (``AppConfig.target_detail_buttons``): only for those who may use it."""
    target, can_change = page_target(context)
    return {"survey_update": {"url": reverse("bhtom_brokers:update", args=[target.pk]), "can_change": can_change}}
