"""Import referrals from a CSV or XLSX file: all rows or none."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cases.importer import ImportFileError, check_rows, read_table
from cases.services import ImportResult, referrals_import


def format_report(result: ImportResult) -> list[str]:
    """Return the human-readable lines of an import result (shared with the admin)."""
    lines = []
    if result.errors:
        lines.append(f"{len(result.errors)} problem(s); nothing was written:")
        lines.extend(f"  {error}" for error in result.errors)
        return lines
    verb = "would create" if result.dry_run else "created"
    lines.append(
        f"Read {result.rows_read} row(s); {verb} {result.referrals_created} referral(s), "
        f"{result.entities_created} entit(y/ies), {result.cases_created} case(s), "
        f"{result.posts_created} post(s); {result.referrals_unchanged} referral(s) already "
        f"stored unchanged; {result.repeated_rows} repeated row(s) skipped."
    )
    if result.aliases_added:
        lines.append(f"{result.aliases_added} new spelling(s) of stored entities kept as aliases.")
    if not result.changed_anything:
        lines.append("Nothing to change: every referral in the file is already stored.")
    for warning in result.warnings:
        lines.append(f"Warning: {warning}")
    if result.duplicates:
        lines.append(
            f"{len(result.duplicates)} possible duplicate entit(y/ies), not merged; "
            "check them in the admin:"
        )
        lines.extend(f"  {duplicate}" for duplicate in result.duplicates)
    if result.dry_run:
        lines.append("Dry run: nothing was written.")
    return lines


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
