from django.urls import include, path

urlpatterns = [path("", include("tom_common.urls"))]
