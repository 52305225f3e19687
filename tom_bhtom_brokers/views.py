"""The target page's views (the figure's data, the download, the update button, the survey-name form) and the
site's "Survey changes" page.

Every view applies TOM's own target permissions (``target_tab.allowed``): reading needs ``view_target``,
changing names or starting an update ``change_target``; forms are CSRF-protected by Django's middleware.
"""
import io
import math
from functools import lru_cache

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from plotly.offline import get_plotlyjs

from tom_targets.models import Target, TargetExtra

from tom_bhtom_brokers import background, changes_page, periods
from tom_bhtom_brokers.changes import newest_starts
from tom_bhtom_brokers.export import newest_points, plot_payload, spreadsheet_safe, survey_points, table
from tom_bhtom_brokers.models import TargetUpdateRequest
from tom_bhtom_brokers.periods import MIN_PERIOD_DAYS, PeriodSearchBusy, PeriodSearchError
from tom_bhtom_brokers.survey_names import SurveyNamesForm
from tom_bhtom_brokers.target_tab import allowed, citations
from tom_bhtom_brokers.tasks import update_target_lightcurves

TAB_ID = "survey-light-curves"  # TOM makes the tab's id from its label


def target_for(request, pk, action):
    target = get_object_or_404(Target, pk=pk)
    if not allowed(request.user, target, action):
        raise PermissionDenied(f"You may not {action.split('_')[0]} this target.")
    return target


def tab_url(target):
    return f"{reverse('targets:detail', args=[target.pk])}?tab={TAB_ID}"


@require_GET
def survey_changes(request):
    """The "Survey changes" page (``changes_page``): only the targets the viewer may see."""
    context = changes_page.page_context(request.user, request.GET)
    return render(request, "tom_bhtom_brokers/survey_changes.html", context)


@require_GET
def lightcurve_data(request, pk):
    """Every stored survey point of the target as one JSON document (see ``export.plot_payload``)."""
    target = target_for(request, pk, "view_target")
    points = survey_points(target)
    payload = plot_payload(points)
    payload["points"]["new"] = newest_points(points, newest_starts(target))
    # allow_nan=False: a NaN or Infinity token would make the browser refuse the whole figure
    response = JsonResponse(payload, json_dumps_params={"allow_nan": False})
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def period_search(request, pk):
    """The Lomb–Scargle search of the target's stored magnitudes (``periods.search``): ``band`` (repeated; the
    stored bandpasses, all when absent), ``min_period`` and ``max_period`` in days. A search that cannot run
    (too few points, a wrong range) is a 400 with the reason. It costs the server seconds of CPU on a large
    light curve, so it needs a logged-in viewer, and a process runs ``periods.CONCURRENT_SEARCHES`` at a time
    (a 429 asks to try again)."""
    target = target_for(request, pk, "view_target")
    if not request.user.is_authenticated:
        return JsonResponse({"error": "log in to search for periods"}, status=403)
    bands = request.GET.getlist("band") or None
    try:
        minimum = float(request.GET.get("min_period", 0.1))
        maximum = float(request.GET.get("max_period", 100))
    except ValueError:
        return JsonResponse({"error": "periods are numbers of days"}, status=400)
    if not (math.isfinite(minimum) and math.isfinite(maximum)) or minimum < MIN_PERIOD_DAYS:
        return JsonResponse({"error": f"periods are numbers of days, the shortest at least {MIN_PERIOD_DAYS} d"},
                            status=400)
    try:
        result = periods.search(survey_points(target), bands, minimum, maximum)
    except PeriodSearchBusy as exc:
        return JsonResponse({"error": str(exc)}, status=429, headers={"Retry-After": "5"})
    except PeriodSearchError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(result, json_dumps_params={"allow_nan": False})


@require_GET
def download(request, pk, fmt):
    """The merged survey light curve as CSV or ECSV, one row per point."""
    if fmt not in ("csv", "ecsv"):
        raise Http404("download formats: csv, ecsv")
    target = target_for(request, pk, "view_target")
    rows = table(survey_points(target))
    if fmt == "csv":  # opened in spreadsheets: archive text must not run as a formula
        rows = spreadsheet_safe(rows)
    rows.meta["target"] = target.name
    # how to cite each archive whose points are in the file (ECSV keeps it in its header)
    rows.meta["citations"] = citations(set(rows["source"]))
    buffer = io.StringIO()
    rows.write(buffer, format="ascii.ecsv" if fmt == "ecsv" else "ascii.csv")
    # ECSV is text with a YAML header, not CSV: a spreadsheet given it as CSV would garble the header
    content_type = "text/csv" if fmt == "csv" else "text/plain"
    response = HttpResponse(buffer.getvalue(), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(target.name) or target.pk}_survey.{fmt}"'
    return response


@require_POST
def update(request, pk):
    """Start the target's update and go back to the tab with a message: on a site without a task worker
    (django-tasks' immediate backend) in a thread of this process, so the request answers at once
    (``background``); else as a task on the site's backend, which a worker runs."""
    target = target_for(request, pk, "change_target")
    if background.in_a_thread():
        if background.start(target, request.user.get_username()):
            messages.info(request, "Survey light curve update started: it runs in the background (this site has no "
                                   "task worker), and the tab shows its results as each archive answers.")
        else:
            messages.info(request, "An update of this target is already running.")
        return redirect(tab_url(target))
    task = update_target_lightcurves
    result = task.enqueue(target.pk, force=True)
    TargetUpdateRequest.objects.update_or_create(target=target, defaults={
        "task_result_id": str(result.id), "backend": task.backend, "requested_by": request.user.get_username(),
        "requested_at": timezone.now(), "finished_at": None})
    if result.status.name == "SUCCEEDED":
        counts = result.return_value or {}
        messages.success(request, f"Survey light curves updated: {counts.get('added', 0)} point(s) added, "
                                  f"{counts.get('removed', 0)} removed, {counts.get('error', 0)} source(s) failed.")
    elif result.status.name == "FAILED":
        messages.error(request, "The survey light curve update failed; see the server log.")
    else:
        messages.info(request, f"Survey light curve update queued on the '{task.backend}' task backend.")
    return redirect(tab_url(target))


@require_http_methods(["GET", "POST"])
def survey_names(request, pk):
    """Edit the target's survey names and URLs; nothing is saved unless every field is valid."""
    target = target_for(request, pk, "change_target")
    current = dict(TargetExtra.objects.filter(target=target).values_list("key", "value"))
    form = SurveyNamesForm(request.POST or None, initial=SurveyNamesForm.initial_for(current))
    if request.method == "POST" and form.is_valid():
        changed = []
        for label, value in form.names().items():
            if value == current.get(label, ""):
                continue
            if value:
                TargetExtra.objects.update_or_create(target=target, key=label, defaults={"value": value})
            else:
                TargetExtra.objects.filter(target=target, key=label).delete()
            changed.append(label)
        messages.success(request, f"Saved: {', '.join(changed)}." if changed else "No survey name changed.")
        return redirect(tab_url(target))
    return render(request, "tom_bhtom_brokers/survey_names.html", {"target": target, "form": form},
                  status=400 if form.errors else 200)


@lru_cache(maxsize=1)
def _plotly_source():
    return get_plotlyjs()


@require_GET
def plotly_js(request):
    """plotly.js from the plotly package TOM Toolkit depends on (no CDN), for pages that do not already
    have it."""
    response = HttpResponse(_plotly_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
