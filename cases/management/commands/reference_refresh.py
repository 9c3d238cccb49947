"""Re-derive what the reference lists decide after one of them changes: every referral's
alliance bloc and the DoD 1260H flags on findings."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cases import derived
from cases.reference import ReferenceListError


class Command(BaseCommand):
    help = (
        "Re-derive every referral's alliance bloc and every finding's DoD 1260H flag from "
        "the reference lists in WISHLIST_REFERENCE_DIR (run after a list changes)."
    )

    def handle(self, *args, **options):
        try:
            # Both or neither: a bad list leaves every value derived earlier in place.
            with transaction.atomic():
                blocs = derived.referral_blocs_refresh()
                flags = derived.finding_dod_flags_refresh()
        except ReferenceListError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Reference lists in {settings.WISHLIST_REFERENCE_DIR}: "
            f"{blocs} referral blocs and {flags} finding flags changed."
        )
