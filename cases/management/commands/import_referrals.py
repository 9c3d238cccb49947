"""Import referrals from a CSV or XLSX file: all rows or none, recorded as an ImportRecord."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cases.intake import jobs
from cases.models import ImportRecord


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
        record = jobs.import_record_create(
            data=data,
            file_name=file.name,
            dry_run=dry_run,
            origin=ImportRecord.Origin.COMMAND,
            store=False,
        )
        record = jobs.import_run(
            record_id=record.pk,
            data=data,
            wrap_rows=lambda rows: tqdm(
                rows, desc="checking rows", unit=" rows", disable=not show_progress
            ),
        )
        lines = record.report.splitlines()
        if record.errors:
            for line in lines:
                self.stderr.write(line)
            raise CommandError(
                f"{file.name}: {record.errors} bad row(s); nothing was written "
                f"(import #{record.pk})"
            )
        if record.state != ImportRecord.State.DONE:
            # The file unreadable, another import running, or a failure: one line.
            raise CommandError(
                f"{record.report.removeprefix(f'{file.name}: ')} ({file.name}, import #{record.pk})"
            )
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(f"Recorded as import #{record.pk}.")
