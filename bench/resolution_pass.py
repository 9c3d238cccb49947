"""One full identifier-resolution pass over the demo's entities, at each registry's
published rate limit, on a simulated clock: requests sent per registry and hours taken.

    python bench/resolution_pass.py                 # serial, one worker, 0.2 s a request
    python bench/resolution_pass.py --latency 0.5 --json /tmp/pass.json

Seeds the demo data (cases.demo, about 650 entities) into a throwaway SQLite database and
resolves every entity in this process against one loopback stub server (tests/stub_server)
standing in for all six registries. The stub answers as a registry that knows none of the
entities (empty lists), so every fallback search runs: the request counts are the most a
pass sends. SEC's tickers file lists every demo entity's name, so each company also reads
the submissions files of its shortlist (up to three). The shared rate limiter is replaced
by one on a simulated clock that lets each registry's requests through at its published
limit, each request taking `--latency` seconds; nothing sleeps. Reported per registry:
requests, the hours that registry's limit alone needs (the floor with enough workers),
and the hours of the whole pass with one worker asking each entity's registries in turn.

Published limits used (checked against each registry's documentation):
  GLEIF            60 requests a minute
  SEC EDGAR        10 requests a second (fair access)
  Companies House  600 requests per 5 minutes per key
  ROR              2,000 requests per 5 minutes
  OpenAlex         100 requests a second; a free key's $1 a day buys 1,000 searches
                   (/institutions?search= is a search); the checks ask 5 a second
  Wikidata         no hard limit on reads ("make requests in series"): the resolver's 5/s
"""

import argparse
import json
import os
import sys
import tempfile
from collections import Counter, defaultdict, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
os.environ.setdefault("DEBUG", "1")

DAY = 86400.0
# registry: (requests, window in seconds, requests a day or None)
LIMITS = {
    "gleif": (60, 60.0, None),
    "sec_edgar": (10, 1.0, None),
    "companies_house": (600, 300.0, None),
    "ror": (2000, 300.0, None),
    "openalex": (100, 1.0, 1000),
    "wikidata": (5, 1.0, None),
}


class SimulatedLimiter:
    """The shared limiter's contract (acquire blocks until a request may go) on a clock
    that moves instead of sleeping: a sliding window per registry, and a daily cap."""

    def __init__(self, latency: float):
        self.now = 0.0
        self.latency = latency
        self.sent: dict[str, deque] = defaultdict(deque)
        self.day_count: Counter = Counter()
        self.waited: Counter = Counter()

    def acquire(self, key: str, per_second: float) -> None:
        limit, window, daily = LIMITS[key]
        sent = self.sent[key]
        start = self.now
        while sent and sent[0] <= self.now - window:
            sent.popleft()
        if len(sent) >= limit:
            self.now = max(self.now, sent[0] + window)
            sent.popleft()
        if daily is not None:
            day = int(self.now // DAY)
            if self.day_count[(key, day)] >= daily:
                self.now = (day + 1) * DAY  # the cap resets at the next day
                day += 1
            self.day_count[(key, day)] += 1
        sent.append(self.now)
        self.waited[key] += self.now - start
        self.now += self.latency  # the request itself, in series


def route_for(names: list[str]):
    """The stub's answers by path: no registry knows any entity."""
    tickers = json.dumps(
        {
            str(n): {"cik_str": 1000 + n, "ticker": f"T{n}", "title": name}
            for n, name in enumerate(names)
        }
    ).encode()

    def route(path: str) -> tuple[int, bytes]:
        if path.startswith("/sec/files/company_tickers.json"):
            return 200, tickers
        if path.startswith("/sec/submissions/CIK"):
            number = int(path.split("CIK")[1][:10]) - 1000
            return 200, json.dumps(
                {
                    "cik": str(1000 + number),
                    "name": f"Other {names[number]} Holdings",
                    "addresses": {},
                }
            ).encode()
        if path.startswith("/gleif/"):
            return 200, b'{"meta": {}, "links": {}, "data": []}'
        if path.startswith("/ch/"):
            return 200, b'{"items": [], "total_results": 0}'
        if path.startswith("/ror/"):
            return 200, b'{"number_of_results": 0, "items": []}'
        if path.startswith("/openalex/"):
            return 200, b'{"meta": {"count": 0}, "results": []}'
        if path.startswith("/wikidata/"):
            if "wbsearchentities" in path:
                return 200, b'{"searchinfo": {}, "search": [], "success": 1}'
            return 200, b'{"entities": {}, "success": 1}'
        return 404, b'{"error": "not served"}'

    return route  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds a request (0.2)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="resolution-pass-") as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'db.sqlite3'}"
        os.environ.pop("REDIS_URL", None)
        os.environ.update(
            SEC_USER_AGENT="Wishlist bench bench@example.org",
            COMPANIES_HOUSE_API_KEY="bench",
            OPENALEX_API_KEY="bench",
        )
        return run(args)


def run(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from cases.checks import http
    from cases.demo.services import demo_data_seed
    from cases.identity import services
    from cases.models import Entity, ResolutionAttempt
    from tests.stub_server import StubSource

    call_command("migrate", verbosity=0)
    demo_data_seed()
    entities = list(Entity.objects.order_by("id").values_list("id", "name"))
    limiter = SimulatedLimiter(args.latency)
    http.get_limiter = lambda: limiter  # every client the resolvers make uses it
    with StubSource(route_for([name for _, name in entities])) as stub:
        base = stub.url
        from django.conf import settings

        settings.WISHLIST_SOURCE_URLS = {
            **settings.WISHLIST_SOURCE_URLS,
            "gleif": f"{base}/gleif",
            "companies_house": f"{base}/ch",
            "openalex": f"{base}/openalex",
        }
        settings.WISHLIST_SEC_EDGAR_DATA_URL = f"{base}/sec"
        settings.WISHLIST_RESOLVER_URLS = {
            "ror": f"{base}/ror",
            "wikidata": f"{base}/wikidata/api.php",
        }
        for entity_id, _ in entities:
            services.identifiers_propose(entity_id=entity_id)
        served = Counter(path.split("/")[1] for path in stub.paths())

    kinds = Counter(Entity.objects.values_list("kind", flat=True))
    print(f"{len(entities)} demo entities ({dict(kinds)}); {args.latency} s a request")
    from cases.identity.resolvers import get_resolvers

    print(
        f"{'registry':<16}{'asked':>7}{'skipped':>9}{'requests':>10}{'limit':>22}{'floor, h':>10}"
        f"{'our rate/s':>12}{'at it, h':>10}"
    )
    figures = {}
    for registry, (limit, window, daily) in LIMITS.items():
        attempts = ResolutionAttempt.objects.filter(registry=registry)
        requests = sum(attempts.values_list("requests", flat=True))
        asked = attempts.exclude(status="skipped").count()
        floor = requests * window / limit
        if daily:
            floor = max(floor, (requests // daily) * DAY)
        label = f"{limit}/{window:g}s" + (f", {daily}/day" if daily else "")
        ours = get_resolvers()[registry].rate_per_second
        at_ours = requests / ours
        figures[registry] = {
            "asked": asked,
            "requests": requests,
            "floor_hours": floor / 3600,
            "our_rate": ours,
            "hours_at_our_rate": at_ours / 3600,
        }
        print(
            f"{registry:<16}{asked:>7}{attempts.count() - asked:>9}{requests:>10}{label:>22}"
            f"{floor / 3600:>10.2f}{ours:>12g}{at_ours / 3600:>10.2f}"
        )
    total = sum(figure["requests"] for figure in figures.values())
    print(f"\nrequests in all: {total} (the stub served {sum(served.values())}: {dict(served)})")
    print(f"one worker, registries in turn: {limiter.now / 3600:.2f} h simulated")
    print(
        "enough workers (the slowest registry's limit): "
        f"{max(f['floor_hours'] for f in figures.values()):.2f} h"
    )
    print(
        "waiting for a slot, per registry (h): "
        + ", ".join(f"{k} {v / 3600:.2f}" for k, v in limiter.waited.items())
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "entities": len(entities),
                    "registries": figures,
                    "serial_hours": limiter.now / 3600,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
