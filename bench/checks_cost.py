"""What the checks cost each source: requests per entity for a first check and a weekly
re-check, counted by the yield harness's loopback server over a set's real entities, and
what that means at each source's published limit: hours for one first pass over 650
entities, days for a weekly re-check of 100,000.

    python bench/checks_cost.py                       # the dev set beside the checkout
    python bench/checks_cost.py --set ../shared/yield/dev --enforce-rates

The run imports the set's referrals into a throwaway SQLite database, runs every check
(`run_checks --sync`), then moves the clock a week on for the checks (every run's
searched period and finish time set a week earlier: a simulated clock, so the second
pass is what a weekly re-check asks) and runs them again. Requests are what the replay
server logged, per source. With --enforce-rates the server answers 429 above each
source's documented rate and the checks keep their own rates (slow: GDELT's one request
every five seconds); the report then gives the most requests the server saw in any one
of its windows, which must never exceed the limit.

Extrapolation assumes the set's mix of entities (companies, universities, biotech): a
source that applies to few of them costs little per entity here.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_YIELD = ROOT.parent / "shared" / "yield"

# Requests a second each source publishes (or, where it publishes none, the rate the
# source keeps), and where the figure comes from.
PUBLISHED = {
    "gdelt": (0.2, "GDELT: one request every 5 seconds"),
    "sec_edgar": (10.0, "SEC fair access: 10 requests a second"),
    "gleif": (1.0, "GLEIF API: 60 requests a minute"),
    "companies_house": (2.0, "Companies House: 600 requests per 5 minutes"),
    "openalex": (10_000 / 86_400, "OpenAlex free key: about 10,000 list calls a day"),
    "clinicaltrials": (50 / 60, "ClinicalTrials.gov: about 50 requests a minute"),
    "wikidata": (5.0, "Wikimedia API etiquette: no hard read limit, serial requests"),
    "google_news": (1.0, "undocumented; the source keeps one a second"),
    "uspto": (1.0, "USPTO ODP: per key, the source keeps one a second"),
    "epo_ops": (0.5, "EPO OPS fair use; the source keeps one every two seconds"),
}
# The replay server's log names some sources by host prefix.
LOG_NAMES = {"epo": "epo_ops"}

SHIFT_A_WEEK = r"""
import json, os
from datetime import timedelta
from django.db.models import F
from cases.models import CheckRun
week = timedelta(days=7)
moved = CheckRun.objects.filter(searched_to__isnull=False).update(
    searched_from=F("searched_from") - week,
    searched_to=F("searched_to") - week,
    started_at=F("started_at") - week,
    finished_at=F("finished_at") - week,
    queued_at=F("queued_at") - week,
)
cases = CheckRun.objects.values("case").distinct().count()
open(os.environ["YIELD_OUT"], "w").write(json.dumps({"moved": moved, "cases": cases}))
"""


def load_harness(yield_dir: Path):
    spec = importlib.util.spec_from_file_location("yield_score", yield_dir / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def counts(log: Path, skip: int = 0) -> tuple[Counter, int, list[dict]]:
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    entries = [json.loads(line) for line in lines[skip:] if line.strip()]
    found = Counter(LOG_NAMES.get(e["source"], e["source"]) for e in entries)
    return found, len(lines), entries


def busiest_window(entries: list[dict], windows: dict) -> dict[str, tuple[int, int]]:
    """Per source with a documented window: (most requests seen in one window, limit)."""
    stamps = defaultdict(list)
    for entry in entries:
        if entry.get("status") != 429:
            stamps[entry["source"]].append(datetime.fromisoformat(entry["ts"]).timestamp())
    seen = {}
    for source, (limit, window) in windows.items():
        times = sorted(stamps.get(source, []))
        most = start = 0
        for end, moment in enumerate(times):
            while moment - times[start] >= window:
                start += 1
            most = max(most, end - start + 1)
        seen[source] = (most, limit)
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=SHARED_YIELD / "dev", help="a yield set")
    parser.add_argument("--enforce-rates", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    set_dir = args.set.resolve()
    harness = load_harness(set_dir.parent)
    python = ROOT / ".venv" / "bin" / "python"
    work = Path(tempfile.mkdtemp(prefix="checks-cost-"))
    log = work / "requests.jsonl"
    port = harness.free_port()
    ready = work / "replay.port"
    command = [sys.executable, str(set_dir.parent / "replay.py"), str(set_dir / "corpus.json")]
    command += ["--port", str(port), "--log", str(log), "--ready-file", str(ready)]
    command += ["--exit-with", str(os.getpid())]
    if args.enforce_rates:
        command.append("--enforce-rates")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        while not ready.exists():
            if server.poll() is not None:
                print("the replay server did not start")
                return 2
            time.sleep(0.1)
        keep = ("PATH", "HOME", "LANG", "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            {
                "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
                "DEBUG": "1",
                "WISHLIST_DATA_DIR": str(work / "data"),
                "WISHLIST_HTTP_BACKOFF_MS": "100",
                **harness.DUMMY_SETTINGS,
            }
        )
        runner = harness.Runner(ROOT, work, python, env, verbose=False)
        sources = {k: v for k, v in runner.shell(harness.DISCOVER).items() if k[:1] != "_"}
        for name, info in sources.items():
            for attr, value in info.items():
                if attr.startswith("default") and attr.endswith("url"):
                    middle = attr[len("default") : -len("url")].strip("_").upper()
                    key = f"WISHLIST_{name.upper()}_{middle}_URL" if middle else None
                    key = key or f"WISHLIST_{name.upper()}_URL"
                    runner.env[key] = harness.map_url(value, port, name)
            if not args.enforce_rates:
                runner.env[f"WISHLIST_{name.upper()}_RATE"] = "100"
            for setting in info.get("required_settings", []):
                runner.env.setdefault(setting, "bench-dummy-key")
        for step in (
            ("migrate", "--noinput"),
            ("import_referrals", str(set_dir / "referrals.csv")),
        ):
            proc = runner.manage(*step, timeout=900)
            if proc.returncode:
                print(f"{step[0]} failed: {(proc.stdout + proc.stderr)[-800:]}")
                return 2
        started = time.monotonic()
        runner.manage("run_checks", "--sync", timeout=7200)
        first_wall = time.monotonic() - started
        first, read, first_entries = counts(log)
        shifted = runner.shell(SHIFT_A_WEEK)
        started = time.monotonic()
        runner.manage("run_checks", "--sync", timeout=7200)
        again_wall = time.monotonic() - started
        again, _, again_entries = counts(log, skip=read)
    finally:
        server.terminate()
        server.wait(timeout=10)

    entities = shifted["cases"]
    rows = []
    for name in sources:
        rate, why = PUBLISHED.get(name, (1.0, "unknown; one a second assumed"))
        per_first, per_again = first[name] / entities, again[name] / entities
        rows.append(
            {
                "source": name,
                "first_per_entity": round(per_first, 2),
                "recheck_per_entity": round(per_again, 2),
                "rate_per_s": round(rate, 4),
                "first_pass_650_hours": round(650 * per_first / rate / 3600, 2),
                "weekly_100k_days": round(100_000 * per_again / rate / 86_400, 2),
                "limit": why,
            }
        )
    print(f"{entities} entities of set {set_dir.name}; first pass {first_wall:.0f} s, re-check")
    rates = "enforced" if args.enforce_rates else "raised"
    print(f"a simulated week later {again_wall:.0f} s (rates {rates})")
    header = f"{'source':<16}{'first/ent':>10}{'recheck/ent':>12}{'rate/s':>9}{'650 first h':>13}"
    print(header + f"{'100k weekly d':>15}  limit")
    for row in rows:
        print(
            f"{row['source']:<16}{row['first_per_entity']:>10}{row['recheck_per_entity']:>12}"
            f"{row['rate_per_s']:>9}{row['first_pass_650_hours']:>13}{row['weekly_100k_days']:>15}"
            f"  {row['limit']}"
        )
    slowest = max(rows, key=lambda row: row["first_pass_650_hours"])
    longest = max(rows, key=lambda row: row["weekly_100k_days"])
    print(f"slowest first pass: {slowest['source']} {slowest['first_pass_650_hours']} h (limit 12)")
    print(f"longest weekly re-check: {longest['source']} {longest['weekly_100k_days']} d (limit 7)")
    result = {"entities": entities, "rows": rows, "enforced": args.enforce_rates}
    if args.enforce_rates:
        windows = set_dir.parent / "replay.py"
        harness_rates = load_replay_rates(windows)
        seen = busiest_window(first_entries + again_entries, harness_rates)
        result["busiest_window"] = seen
        for source, (most, limit) in sorted(seen.items()):
            verdict = "ok" if most <= limit else "EXCEEDED"
            print(f"never-exceed {source}: at most {most} in one window, limit {limit}: {verdict}")
        refused = Counter(e["source"] for e in first_entries + again_entries if e["status"] == 429)
        print(f"429s the server sent: {dict(refused) or 'none'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


def load_replay_rates(replay: Path) -> dict:
    spec = importlib.util.spec_from_file_location("yield_replay", replay)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.Replay.RATES)


if __name__ == "__main__":
    sys.exit(main())
