"""Load the synthetic demo data set (see cases.demo); --replace reloads it."""

from django.core.management.base import BaseCommand
from django.db import transaction

from cases.demo import services
from cases.demo import services as demo


class Command(BaseCommand):
    help = (
        "Load a synthetic, clearly labelled demo data set (names end in ' (demo)'). "
        "If demo data is already loaded, do nothing unless --replace is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Remove the demo rows already loaded, then load the data set again.",
        )

    def handle(self, *args, replace: bool, **options):
        with transaction.atomic():
            if replace:
                removed = services.demo_data_remove()
                self.stdout.write(f"Removed demo data: {_format(removed)}.")
            try:
                counts = demo.demo_data_seed()
            except demo.DemoDataExists:
                self.stdout.write(
                    "Demo data is already loaded; nothing done. Use --replace to reload it "
                    "or remove_demo to remove it."
                )
                return
        self.stdout.write(self.style.SUCCESS("Loaded the synthetic demo data set:"))
        # Second codings and assignments need the demo users: say so rather than print 0.
        waiting = demo.demo_users_missing()
        for name, count in counts.items():
            if waiting and name in demo.COUNTS_NEEDING_USERS:
                self.stdout.write(f"  {name}: made by create_demo_users, once the users exist")
            else:
                self.stdout.write(f"  {name}: {count}")
        self.stdout.write(
            "Every demo name ends in ' (demo)'. Remove it with: manage.py remove_demo"
        )


def _format(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {name}" for name, count in counts.items())
