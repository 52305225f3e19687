from django.apps import AppConfig


class TomBhtomBrokersConfig(AppConfig):
    """Registers one TOM data service per archive; nothing else has to be wired by the site."""

    name = "tom_bhtom_brokers"
    verbose_name = "BHTOM survey brokers"
    default_auto_field = "django.db.models.BigAutoField"

    def data_services(self):
        from tom_bhtom_brokers.brokers import BROKER_CLASSES

        return [{"class": path} for path in BROKER_CLASSES.values()]
