from django.apps import AppConfig


class TomBhtomBrokersConfig(AppConfig):
    """Registers one TOM data service per archive, the target page's tab and button, and their URLs:
    nothing has to be wired by the site (TOM Toolkit 3.1's integration points)."""

    name = "tom_bhtom_brokers"
    verbose_name = "BHTOM survey brokers"
    default_auto_field = "django.db.models.BigAutoField"

    def data_services(self):
        from tom_bhtom_brokers.brokers import BROKER_CLASSES

        return [{"class": path} for path in BROKER_CLASSES.values()]

    def nav_items(self):
        # no navbar entry: the partial only carries the script that fits TOM's pages to one more service per archive
        return [{"partial": "tom_bhtom_brokers/partials/tom_pages.html",
                 "context": "tom_bhtom_brokers.target_tab.tom_pages_context"}]

    def target_detail_tabs(self):
        return [{"label": "Survey light curves",
                 "partial": "tom_bhtom_brokers/partials/survey_tab.html",
                 "context": "tom_bhtom_brokers.target_tab.survey_tab_context"}]

    def target_detail_buttons(self):
        return [{"partial": "tom_bhtom_brokers/partials/update_button.html",
                 "context": "tom_bhtom_brokers.target_tab.update_button_context"}]

    def include_url_paths(self):
        from django.urls import include, path

        return [path("bhtom-brokers/", include("tom_bhtom_brokers.urls", namespace="bhtom_brokers"))]
