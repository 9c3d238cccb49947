"""How long "Check now" holds the page in the embedded default (SQLite, tasks in this
process): the POST's time with the checks in a thread of the web process (the default)
against running them in the request (WISHLIST_CHECK_IN_THREAD=0, what the page did before),
and how long the checks then take to finish behind the page.

    python bench/check_now.py               # 5 rounds, each source answering after 1 s
    python bench/check_now.py --rounds 9 --latency 2

Every source is pointed at one loopback server that answers each request after
--latency seconds with an empty JSON object (a slow source that has nothing: most
parse it as no results, some as a failure, as a real slow network would give). Each
round checks a new case, so nothing is "already queued". Medians of the rounds.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCES = (
    "gdelt",
    "sec_edgar",
    "gleif",
    "companies_house",
    "openalex",
    "clinicaltrials",
    "wikidata",
    "google_news",
    "uspto",
    "epo_ops",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()

    from tests.stub_server import StubSource

    stub = StubSource(lambda path: (200, b"{}"), latency=args.latency)
    stub.__enter__()
    data_dir = tempfile.mkdtemp(prefix="check-now-")
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(WISHLIST_DATA_DIR=data_dir, DEBUG="1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
    for name in SOURCES:
        os.environ[f"WISHLIST_{name.upper()}_URL"] = stub.url
        os.environ[f"WISHLIST_{name.upper()}_RATE"] = "1000"
    os.environ["WISHLIST_SEC_EDGAR_DATA_URL"] = stub.url

    import django

    django.setup()
    import logging

    logging.getLogger("celery").setLevel(logging.WARNING)  # one line per task otherwise
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from cases import derived
    from cases.checks.sources import get_sources
    from cases.models import CheckRun
    from tests.factories import AnalystFactory, CaseFactory, ReferralFactory, TeamFactory

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = ["testserver"]
    team = TeamFactory(name="Bench team")
    analyst = AnalystFactory(username="bench", teams=[team])
    client = Client()
    client.force_login(analyst)

    def one_round(in_thread: bool) -> tuple[float, float]:
        settings.WISHLIST_CHECK_IN_THREAD = in_thread
        referral = ReferralFactory()
        case = CaseFactory(entity=referral.entity, team=team)
        derived.case_index_dates_refresh(case_ids=[case.id])
        url = reverse("cases:case_check_now", args=[case.pk])
        start = time.perf_counter()
        response = client.post(url)
        returned = time.perf_counter() - start
        assert response.status_code == 302, response.status_code
        for thread in threading.enumerate():
            if thread.name.startswith("checks-"):
                thread.join(timeout=600)
        done = time.perf_counter() - start
        unfinished = CheckRun.objects.filter(
            case=case, status__in=[CheckRun.Status.QUEUED, CheckRun.Status.RUNNING]
        ).count()
        assert unfinished == 0, f"{unfinished} run(s) never finished"
        return returned, done

    print(
        f"{len(get_sources())} sources, each request answered after {args.latency:.1f} s; "
        f"{args.rounds} rounds each"
    )
    results = {}
    for label, in_thread in (("in a thread (default)", True), ("in the request", False)):
        rounds = [one_round(in_thread) for _ in range(args.rounds)]
        results[label] = (
            statistics.median(r[0] for r in rounds),
            statistics.median(r[1] for r in rounds),
        )
    print(f"{'checks run':<24}{'page returns':>14}{'checks done':>14}")
    for label, (returned, done) in results.items():
        print(f"{label:<24}{returned:>12.3f} s{done:>12.1f} s")
    thread, request = results["in a thread (default)"][0], results["in the request"][0]
    print(
        f"the page returns {request / thread:,.0f} times sooner; requests served: {len(stub.hits)}"
    )
    stub.__exit__(None, None, None)


if __name__ == "__main__":
    main()
