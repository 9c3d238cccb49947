"""Measure identifier resolution on the yield harness's replayed registries: the share of
a set's entities whose LEI, SEC CIK, UK company number and Wikidata QID (and ROR and
OpenAlex id, where the set gives them) are proposed first and right.

    python bench/resolution_yield.py ../shared/yield/dev      # or /work/shared/yield/dev
    python bench/resolution_yield.py /work/shared/yield/dev --json /tmp/resolution.json

Starts the harness's replay.py over SET/corpus.json on a free loopback port, points every
resolver's WISHLIST_<NAME>_URL at it, imports SET/referrals.csv into a throwaway SQLite
database, runs one resolution of every entity in this process and compares each
registry's first candidate with the set's true identifiers (corpus.json `identifiers`).
The harness emulates GLEIF, SEC EDGAR, Companies House, OpenAlex and Wikidata; it does not
serve ROR, whose attempts end as errors (reported, not counted as misses of a truth).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
os.environ.setdefault("DEBUG", "1")

FIELDS = {  # corpus identifier: registry
    "lei": "gleif",
    "sec_cik": "sec_edgar",
    "uk_company_number": "companies_house",
    "wikidata_id": "wikidata",
    "ror_id": "ror",
    "openalex_id": "openalex",
}


def start_replay(set_dir: Path, work: Path) -> tuple[subprocess.Popen, int]:
    replay = set_dir.parent / "replay.py"
    ready = work / "port"
    server = subprocess.Popen(
        [sys.executable, str(replay), str(set_dir / "corpus.json"), "--port", "0",
         "--log", str(work / "requests.jsonl"), "--ready-file", str(ready),
         "--exit-with", str(os.getpid())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not ready.exists() or not ready.read_text().strip():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the replay server did not start")
        time.sleep(0.05)
    return server, int(ready.read_text().strip())


def point_at(port: int, database: Path) -> None:
    base = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "WISHLIST_GLEIF_URL": f"{base}/gleif/api/v1",
            "WISHLIST_SEC_EDGAR_URL": f"{base}/sec_edgar/LATEST",
            "WISHLIST_SEC_EDGAR_DATA_URL": f"{base}/sec_edgar",
            "WISHLIST_COMPANIES_HOUSE_URL": f"{base}/companies_house",
            "WISHLIST_OPENALEX_URL": f"{base}/openalex",
            "WISHLIST_WIKIDATA_URL": f"{base}/wikidata/w/api.php",
            "WISHLIST_ROR_URL": f"{base}/ror/v2",
            "SEC_USER_AGENT": "Wishlist bench bench@example.org",
            "COMPANIES_HOUSE_API_KEY": "bench",
            "OPENALEX_API_KEY": "bench",
            "WISHLIST_HTTP_BACKOFF_MS": "100",
            "WISHLIST_HTTP_MAX_ATTEMPTS": "1",
        }
    )
    for name in FIELDS.values():
        os.environ[f"WISHLIST_{name.upper()}_RATE"] = "100"
    os.environ.pop("REDIS_URL", None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set_dir", type=Path, help="a yield set, e.g. /work/shared/yield/dev")
    parser.add_argument("--json", type=Path, help="write the per-entity result here")
    args = parser.parse_args()
    corpus = json.loads((args.set_dir / "corpus.json").read_text())
    with tempfile.TemporaryDirectory(prefix="resolution-yield-") as tmp:
        work = Path(tmp)
        server, port = start_replay(args.set_dir, work)
        try:
            point_at(port, work / "db.sqlite3")
            return run(args, corpus, work)
        finally:
            server.terminate()
            server.wait(timeout=10)


def run(args, corpus: dict, work: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from cases import normalize
    from cases.identity import services
    from cases.models import Entity, IdentifierCandidate, ResolutionAttempt

    call_command("migrate", verbosity=0)
    call_command("import_referrals", str(args.set_dir / "referrals.csv"), verbosity=0)
    truth = {
        (normalize.name_key(item["name"]), item["country"]): item["identifiers"]
        for item in corpus["entities"]
    }
    started = time.monotonic()
    for entity in Entity.objects.order_by("id"):
        services.identifiers_propose(entity_id=entity.pk)
    elapsed = time.monotonic() - started

    counts: dict[str, Counter] = {field: Counter() for field in FIELDS}
    rows = []
    for entity in Entity.objects.order_by("name"):
        known = truth.get((entity.name_key, entity.country), {})
        row = {"entity": entity.name, "country": entity.country}
        for field, registry in FIELDS.items():
            if not known.get(field):
                continue
            first = (
                IdentifierCandidate.objects.filter(entity=entity, registry=registry)
                .order_by("-score", "id")
                .first()
            )
            got = first.identifier if first else ""
            if registry == "sec_edgar":
                right = got.lstrip("0") == known[field].lstrip("0")
            else:
                right = got == known[field]
            counts[field]["entities"] += 1
            counts[field]["right"] += right
            counts[field]["auto"] += bool(first and first.automatic and right)
            row[field] = {"true": known[field], "first": got, "right": right,
                          "score": first.score if first else None,
                          "state": first.state if first else ""}  # fmt: skip
        for field, registry in FIELDS.items():
            if not known.get(field) and entity.identifier_candidates.filter(registry=registry):
                counts[field]["proposed_without_truth"] += 1
        rows.append(row)

    print(f"{len(rows)} entities, resolved in {elapsed:.1f} s")
    print(
        f"{'identifier':<18}{'entities':>9}{'first+right':>13}{'share':>8}{'auto-confirmed':>16}"
        f"{'proposed, no truth':>20}"
    )
    for field, count in counts.items():
        if count["entities"]:
            share = count["right"] / count["entities"]
            print(
                f"{field:<18}{count['entities']:>9}{count['right']:>13}{share:>8.2f}"
                f"{count['auto']:>16}{count['proposed_without_truth']:>20}"
            )
    stored = Counter(IdentifierCandidate.objects.values_list("registry", flat=True))
    wrong = sum(stored.values()) - sum(count["right"] for count in counts.values())
    print(f"\ncandidates stored: {dict(stored)}; not the true identifier: {wrong}")
    print("\nattempts by registry and status:")
    for registry in FIELDS.values():
        statuses = Counter(
            ResolutionAttempt.objects.filter(registry=registry).values_list("status", flat=True)
        )
        requests = sum(
            ResolutionAttempt.objects.filter(registry=registry).values_list("requests", flat=True)
        )
        print(f"  {registry:<16} {dict(statuses)} requests={requests}")
    print("\nmisses:")
    for row in rows:
        for field in FIELDS:
            if field in row and not row[field]["right"]:
                print(f"  {row['entity']} ({row['country']}) {field}: {row[field]}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
