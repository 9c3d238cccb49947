"""Queue follow-up checks (or run them here) and print a summary per source."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.checks import selectors, services
from cases.checks.sources import get_sources
from cases.models import Case
from cases.tasks import checks_enqueue

STATUSES = ("ok", "no_results", "skipped", "error", "rate_limited")


class Command(BaseCommand):
    help = (
        "Check cases against the public sources. Queues Celery tasks when a broker is "
        "configured; runs the checks in this process with --sync or without a broker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--case", type=int, action="append", dest="cases", metavar="ID")
        parser.add_argument(
            "--source", action="append", dest="sources", choices=list(get_sources()), metavar="NAME"
        )
        parser.add_argument(
            "--due", action="store_true", help="only checks older than their source's interval"
        )
        parser.add_argument("--sync", action="store_true", help="run here, not in workers")

    def handle(self, *args, cases, sources, due, sync, **options):
        sources = sources or list(get_sources())
        if cases:
            found = set(Case.objects.filter(id__in=cases).values_list("id", flat=True))
            missing = sorted(set(cases) - found)
            if missing:
                raise CommandError(f"no case with id {', '.join(map(str, missing))}")
        if due:
            pairs = selectors.checks_due(now=timezone.now(), sources=sources, case_ids=cases)
        else:
            # Asked for explicitly: closed cases are checked too when named by id.
            queryset = Case.objects.all() if cases else Case.objects.exclude(status="closed")
            if cases:
                queryset = queryset.filter(id__in=cases)
            ids = list(queryset.order_by("id").values_list("id", flat=True))
            pairs = [(case_id, source) for case_id in ids for source in sources]
        if not pairs:
            self.stdout.write("Nothing to check.")
            return
        in_process = sync or not settings.REDIS_URL
        if not in_process:
            enqueued = checks_enqueue(pairs)
            if enqueued.unreachable:
                # Not an error to retry: the runs are recorded and the relay sends them.
                self.stderr.write(
                    self.style.WARNING(
                        f"The check queue is unreachable ({enqueued.unreachable}). "
                        f"{len(enqueued.ids)} check(s) are recorded and will be sent to the "
                        "workers when it is back (Celery beat relays them every minute)."
                    )
                )
                return
            self.stdout.write(f"Queued {len(enqueued.ids)} check(s) for the workers.")
            return
        run_ids = services.checks_queue(pairs=pairs)
        for number, check_run_id in enumerate(run_ids, start=1):
            services.check_execute(check_run_id=check_run_id)
            if options["verbosity"] > 1:
                self.stdout.write(f"{number}/{len(run_ids)} done")
        self._summary(run_ids)

    def _summary(self, run_ids: list[int]) -> None:
        summary = selectors.check_summary(run_ids)
        self.stdout.write(
            f"{'source':<16}" + "".join(f"{s:>13}" for s in STATUSES) + f"{'leads':>8}"
        )
        for source, counts in summary.items():
            self.stdout.write(
                f"{source:<16}"
                + "".join(f"{counts.get(s, 0):>13}" for s in STATUSES)
                + f"{counts['leads']:>8}"
            )
