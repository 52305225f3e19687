"""Print how many points each demo target has from each survey."""
from django.core.management.base import BaseCommand
from django.db.models import Count

from tom_dataproducts.models import PhotometryReducedDatum


class Command(BaseCommand):
    help = "Points stored per target and survey."

    def handle(self, *args, **options):
        rows = (PhotometryReducedDatum.objects.values("target__name", "source_name").annotate(n=Count("id"))
                .order_by("target__name", "source_name"))
        for row in rows:
            self.stdout.write(f"stored: {row['target__name']:<10} {row['source_name']:<12} {row['n']:>6} points")
