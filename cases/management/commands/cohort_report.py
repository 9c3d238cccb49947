"""Write the cohort report (rates, time to outcome, coverage, methods, limitations) as a
self-contained HTML file or a PDF a supervisor can send."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.analytics import report
from cases.management.scope import command_cases


class Command(BaseCommand):
    help = (
        "The cohort report of referred cases by one dimension and outcome, with its "
        "extraction time, code version, filters, methods and limitations, as HTML or PDF."
    )

    def add_arguments(self, parser):
        # Checked in handle, not by argparse choices, so a wrong value is refused with the
        # list of right ones in a sentence, the same from a script or the shell.
        parser.add_argument("--by", required=True, metavar="DIMENSION")
        parser.add_argument("--outcome", default="any", help="a finding kind, or any (default)")
        parser.add_argument("--format", default="pdf", help="pdf (default) or html")
        parser.add_argument("-o", "--output", required=True, metavar="FILE")
        parser.add_argument("--team", metavar="NAME", help="only this team's cases")

    def handle(self, *args, by, outcome, format, output, team, **options):
        try:
            report.check_arguments(by=by, outcome=outcome, format=format)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        cases = command_cases(team)
        context = report.report_context(
            cases, by=by, outcome=outcome, filters={"teams": team or "all teams"}
        )
        html = report.report_html(context)
        # Built in full before the file is opened: a failure leaves no half-written report.
        content = report.report_pdf(html) if format == "pdf" else html.encode()
        Path(output).write_bytes(content)
        self.stdout.write(f"Wrote {format.upper()} report to {output}")
