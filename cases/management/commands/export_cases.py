"""Export every case with its entity, index date, status, outcome and positive findings."""

import io

from django.core.management.base import BaseCommand, CommandError

from cases.exports import WRITERS


class Command(BaseCommand):
    help = "Write every case with its entity, index date, status, referral and finding counts."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=sorted(WRITERS), default="csv")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, *args, format, output, **options):
        writer = WRITERS[format]
        if output:
            try:
                with open(output, "w", encoding="utf-8", newline="") as out:
                    count = writer(out)
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror}") from None
            self.stderr.write(f"Wrote {count} case(s) to {output}.")
        else:
            # OutputWrapper adds a newline to every write; hand it the text in one piece.
            buffer = io.StringIO()
            writer(buffer)
            self.stdout.write(buffer.getvalue(), ending="")
