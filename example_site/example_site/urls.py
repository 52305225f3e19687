from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.urls import include, path


@lru_cache(maxsize=1)
def _bootstrap_bundle():
    static = Path(settings.OFFLINE_BOOTSTRAP.submodule_search_locations[0]) / "static" / "bootstrap5"
    return (static / "umd" / "popper.min.js").read_text() + "\n" + (static / "js" / "bootstrap.min.js").read_text()


def bootstrap_bundle(request):
    """Popper then Bootstrap's JavaScript, as the CDN's bootstrap.bundle.min.js that TOM's pages load (the demo's
    offline copy: see settings.OFFLINE_BOOTSTRAP); dropdown menus need both."""
    if settings.OFFLINE_BOOTSTRAP is None:
        raise Http404("Bootstrap-Flask is not installed")
    return HttpResponse(_bootstrap_bundle(), content_type="text/javascript; charset=utf-8")


urlpatterns = [
    path("offline/bootstrap.bundle.js", bootstrap_bundle),
    path("", include("tom_common.urls")),
]
