"""Remove every demo row; rows not marked as demo are left alone."""

from django.core.management.base import BaseCommand

from cases.demo import services


class Command(BaseCommand):
    help = "Delete every demo entity, post, referral, case, finding and check run."

    def handle(self, *args, **options):
        counts = services.demo_data_remove()
        self.stdout.write(self.style.SUCCESS("Removed the demo data:"))
        for name, count in counts.items():
            self.stdout.write(f"  {name}: {count}")
