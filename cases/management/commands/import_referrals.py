"""Import referrals from a CSV or XLSX file: all rows or none."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cases.intake.files import ImportFileError, read_table
from cases.intake.report import format_report
from cases.intake.rows import check_rows
from cases.intake.services import referrals_import


class Command(BaseCommand):
    help = (
        "Import referrals from a CSV (UTF-8) or XLSX file. If any row is invalid nothing is "
        "written and every bad row is listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .csv or .xlsx file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )

    def handle(self, *args, path, dry_run, **options):
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        show_progress = options["verbosity"] > 0 and sys.stderr.isatty()
        try:
            checked = check_rows(
                read_table(data, file.name),
                progress=lambda rows: tqdm(
                    rows, desc="checking rows", unit=" rows", disable=not show_progress
                ),
            )
        except ImportFileError as exc:
            raise CommandError(f"{file.name}: {exc}; nothing was written") from None
        result = referrals_import(checked=checked, dry_run=dry_run)
        lines = format_report(result)
        if not result.ok:
            for line in lines:
                self.stderr.write(line)
            raise CommandError(f"{file.name}: {len(result.errors)} bad row(s); nothing was written")
        for line in lines:
            self.stdout.write(line)
