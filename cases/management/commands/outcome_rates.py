"""Print the outcome rate of referred cases per cohort, with 95 % intervals and median days."""

from django.core.management.base import BaseCommand, CommandError

from cases.analytics import downloads, estimates, methods, selectors
from cases.analytics.cohorts import DIMENSIONS, OUTCOME_KINDS
from cases.management.scope import command_cases


class Command(BaseCommand):
    help = (
        "Per cohort of referred cases: cases, reviewed, positive, the rate over reviewed "
        "cases with its 95 % Wilson interval and the median days to the first outcome."
    )

    def add_arguments(self, parser):
        parser.add_argument("--by", required=True, choices=list(DIMENSIONS))
        parser.add_argument(
            "--outcome",
            choices=OUTCOME_KINDS,
            default="any",
            help="a finding kind, or any (default)",
        )
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument("--team", metavar="NAME", help="only this team's cases")
        parser.add_argument(
            "--interval",
            choices=list(estimates.INTERVAL_METHODS),
            default="wilson",
            help="the rate's 95 %% interval: wilson (default), beta (Clopper-Pearson), jeffreys",
        )
        parser.add_argument(
            "--group-small",
            action="store_true",
            help=f'pool cohorts under {estimates.SMALL_COHORT} reviewed cases as "other, small"',
        )

        # Scripts read this command's output as it is: its JSON is a list of rate rows
        # and its CSV starts with the header (csv.DictReader). Wrapping the list in an
        # object, or putting comment lines above the header, would break them, so the
        # metadata the page's downloads carry is opt-in here, for CSV only.
        parser.add_argument(
            "--with-metadata",
            action="store_true",
            help="csv only: lead with '# ' lines (filters, extraction time, code version, "
            "definitions)",
        )

    def handle(
        self, *args, by, outcome, format, team, interval, group_small, with_metadata, **options
    ):
        if group_small and by == "cooperation_method":
            raise CommandError(
                "a case can be in several cooperation-method cohorts: they cannot be pooled"
            )
        if with_metadata and format != "csv":
            raise CommandError("--with-metadata is for --format csv")
        cases = command_cases(team)
        rows = selectors.outcome_rates(
            cases, by=by, outcome=outcome, interval=interval, group_small=group_small
        )
        if format in ("json", "csv") and rows:
            # The "(all)" row, as the page's CSV has it (issue 13, contract for scripts).
            total = selectors.outcome_total(cases, outcome=outcome, interval=interval)
            total.cohort = "(all)"
            rows = [*rows, total]
        if format == "json":
            self.stdout.write(downloads.rates_json(rows))
        elif format == "csv":
            text = downloads.rates_csv(rows, for_scripts=True)
            if with_metadata:
                filters = {
                    "dimension": by,
                    "outcome": outcome,
                    "interval": interval,
                    "small cohorts": "group" if group_small else "flag",
                    "team": team or "all teams",
                }
                metadata = methods.download_metadata(
                    title="outcome_rates",
                    filters=filters,
                    interval=interval,
                    group_small=group_small,
                )
                text = downloads.csv_with_metadata(text, metadata)
            # OutputWrapper adds a newline to every write; hand it the text in one piece.
            self.stdout.write(text, ending="")
        else:
            total = selectors.outcome_total(cases, outcome=outcome, interval=interval)
            self.stdout.write(downloads.rates_table(by, rows, total))
