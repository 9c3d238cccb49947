"""Propose registry identifiers for entities (queued for the workers, or here) and print
the candidates."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cases.identity import selectors, services
from cases.identity.resolvers import get_resolvers
from cases.models import Case
from cases.tasks import identifiers_enqueue


class Command(BaseCommand):
    help = (
        "Propose LEI, CIK, UK company number, ROR, OpenAlex and Wikidata candidates for "
        "the entities of these cases (all cases by default) and print them. Queues Celery "
        "tasks when a broker is configured; runs here with --sync or without a broker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--case", type=int, action="append", dest="cases", metavar="ID")
        parser.add_argument(
            "--registry",
            action="append",
            dest="registries",
            choices=list(get_resolvers()),
            metavar="NAME",
            help=f"one of {', '.join(get_resolvers())}; repeat for several (default: all)",
        )
        parser.add_argument("--sync", action="store_true", help="run here, not in workers")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    def handle(self, *args, cases, registries, sync, format, **options):
        queryset = Case.objects.all()
        if cases:
            found = set(Case.objects.filter(id__in=cases).values_list("id", flat=True))
            missing = sorted(set(cases) - found)
            if missing:
                raise CommandError(f"no case with id {', '.join(map(str, missing))}")
            queryset = queryset.filter(id__in=cases)
        entity_ids = list(queryset.order_by("id").values_list("entity_id", flat=True))
        if sync or settings.CELERY_TASK_ALWAYS_EAGER:
            for number, entity_id in enumerate(entity_ids, start=1):
                services.identifiers_propose(entity_id=entity_id, registries=registries)
                if options["verbosity"] > 1:
                    self.stderr.write(f"{number}/{len(entity_ids)} done")
        else:
            with transaction.atomic():
                identifiers_enqueue(entity_ids, registries)
            self.stderr.write(
                f"Queued {len(entity_ids)} entities for the workers; the candidates stored "
                "so far are below."
            )
        self._print(selectors.candidates_of(entity_ids=entity_ids, registries=registries), format)

    def _print(self, candidates, format: str) -> None:
        rows = [
            {
                "entity_id": candidate.entity_id,
                "entity_name": candidate.entity.name,
                "registry": candidate.registry,
                "identifier": candidate.identifier,
                "score": candidate.score,
                "explanation": candidate.explanation,
                "state": candidate.state,
            }
            for candidate in candidates
        ]
        if format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write("No candidates.")
            return
        self.stdout.write(
            f"{'entity':>7}  {'name':<32} {'registry':<16} {'identifier':<21}"
            f"{'score':>6}  {'state':<10} explanation"
        )
        for row in rows:
            self.stdout.write(
                f"{row['entity_id']:>7}  {row['entity_name'][:32]:<32} {row['registry']:<16} "
                f"{row['identifier']:<21}{row['score']:>6.1f}  {row['state']:<10} "
                f"{row['explanation']}"
            )
