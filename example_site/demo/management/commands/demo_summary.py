"""Print how many points each demo target has from each survey."""
from django.core.management.base import BaseCommand
from django.db.models import Count

from tom_dataproducts.models import PhotometryReducedDatum


class Command(BaseCommand):
    help = "Points stored per target and survey."

    def handle(self, *args, **options):
        rows = list(PhotometryReducedDatum.objects.values("target__name", "source_name").annotate(n=Count("id"))
                    .order_by("target__name", "source_name"))
        # columns as wide as the longest target and source names
        width = max([10] + [len(row["target__name"]) for row in rows])
        source_width = max([12] + [len(row["source_name"]) for row in rows])
        for row in rows:
            self.stdout.write(f"stored: {row['target__name']:<{width}} {row['source_name']:<{source_width}} "
                              f"{row['n']:>6} points")
