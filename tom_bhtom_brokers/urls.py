from django.urls import path

from tom_bhtom_brokers import views

app_name = "bhtom_brokers"

urlpatterns = [
    path("changes/", views.survey_changes, name="changes"),
    path("targets/<int:pk>/lightcurves.json", views.lightcurve_data, name="data"),
    path("targets/<int:pk>/periods.json", views.period_search, name="periods"),
    path("targets/<int:pk>/lightcurves.<str:fmt>", views.download, name="download"),
    path("targets/<int:pk>/update/", views.update, name="update"),
    path("targets/<int:pk>/survey-names/", views.survey_names, name="names"),
    path("plotly.min.js", views.plotly_js, name="plotly"),
]
