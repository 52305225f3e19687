"""Template tags for sites whose own target page does not use TOM's tab hook (``target_detail_tabs``).

``{% load bhtom_brokers %}``, then:

* ``{% survey_lightcurves target %}``: the whole "Survey light curves" tab (figure, downloads, update and
  survey-name buttons for those who may change the target, the sources table, the survey names);
* ``{% survey_status target %}``: the sources table alone (status, points, next due per archive);
* ``{{ result|item:key }}``: one value of a data service's result (the query results table).

Both read the same context as the tab (``target_tab``), so they show what the tab shows, with the same
permissions: the page's ``request`` must be in the context (Django's request context processor).
"""
from django import template

from tom_bhtom_brokers.target_info import TargetInfo
from tom_bhtom_brokers.target_tab import status_rows, survey_tab_context

register = template.Library()


@register.inclusion_tag("tom_bhtom_brokers/partials/survey_tab.html", takes_context=True)
def survey_lightcurves(context, target):
    tab = survey_tab_context({"object": target, "request": context.get("request")})
    # the update form's {% csrf_token %} reads the page's token
    return {**tab, "csrf_token": context.get("csrf_token"), "request": context.get("request")}


@register.inclusion_tag("tom_bhtom_brokers/partials/survey_status.html")
def survey_status(target):
    return {"rows": status_rows(target, TargetInfo.from_target(target))}


@register.filter
def item(mapping, key):
    """``mapping[key]``, or '' when it has none."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
