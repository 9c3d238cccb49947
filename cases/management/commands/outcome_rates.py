"""Print the outcome rate of referred cases per cohort, with 95 % intervals and median days."""

import json

from django.core.management.base import BaseCommand, CommandError

from cases.analytics import selectors
from cases.exports import csv_text
from cases.models import Case, Team

NONE = "—"


def _percent(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.1f}%"


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return NONE
    return f"{low * 100:.1f}–{high * 100:.1f}%"


def _days(value: float | None) -> str:
    if value is None:
        return NONE
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


class Command(BaseCommand):
    help = (
        "Per cohort of referred cases: cases, reviewed, positive, the rate over reviewed "
        "cases with its 95 % Wilson interval and the median days to the first outcome."
    )

    def add_arguments(self, parser):
        parser.add_argument("--by", required=True, choices=list(selectors.DIMENSIONS))
        parser.add_argument(
            "--outcome",
            choices=selectors.OUTCOME_KINDS,
            default="any",
            help="a finding kind, or any (default)",
        )
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")
        parser.add_argument("--team", metavar="NAME", help="only this team's cases")

    def handle(self, *args, by, outcome, format, team, **options):
        cases = Case.objects.all()
        if team is not None:
            found = Team.objects.filter(name=team).first()
            if found is None:
                raise CommandError(f"no team named {team!r}")
            cases = cases.filter(team=found)
        rows = selectors.outcome_rates(cases, by=by, outcome=outcome)
        if format == "json":
            text = json.dumps([row.as_dict() for row in rows], ensure_ascii=False, indent=1)
            self.stdout.write(text)
        elif format == "csv":
            # OutputWrapper adds a newline to every write; hand it the text in one piece.
            text = csv_text(
                selectors.RATE_FIELDS,
                ([row.as_dict()[f] for f in selectors.RATE_FIELDS] for row in rows),
            )
            self.stdout.write(text, ending="")
        else:
            total = selectors.outcome_total(cases, outcome=outcome)
            self.stdout.write(self._table(by, [*rows, total]))

    def _table(self, by: str, rows: list[selectors.CohortRate]) -> str:
        header = [by, "cases", "reviewed", "positive", "rate", "95% interval", "median days"]
        cells = [
            [
                row.cohort,
                str(row.cases),
                str(row.reviewed),
                str(row.positive),
                _percent(row.rate),
                _interval(row.ci_low, row.ci_high),
                _days(row.median_days),
            ]
            for row in rows
        ]
        widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]

        def line(values: list[str]) -> str:
            first = values[0].ljust(widths[0])
            rest = [value.rjust(width) for value, width in zip(values[1:], widths[1:], strict=True)]
            return "  ".join([first, *rest]).rstrip()

        rule = "  ".join("-" * width for width in widths)
        return "\n".join(
            [line(header), rule, *(line(c) for c in cells[:-1]), rule, line(cells[-1])]
        )
