"""Precision and recall of name matching on the labelled pairs in tests/data/name_pairs.csv,
at the configured thresholds, for this checkout's code and for a git revision's.

    .venv/bin/python bench/name_matching.py                 # this checkout against 8a58219
    .venv/bin/python bench/name_matching.py --before main   # against another revision
    .venv/bin/python bench/name_matching.py --misses        # list the pairs each gets wrong

Two decisions are measured. "match": a registry record's name matches our entity when
`matching.match_name` scores at least WISHLIST_MATCH_THRESHOLD. "duplicate": the import
reports two entities as possible duplicates when their names score at least
WISHLIST_DUPLICATE_THRESHOLD in the duplicate report (the same name key is one entity,
so it counts as found). The earlier revision's normalize and matching modules are read
with `git show` and loaded as modules, so what is measured is the code as it was; its
duplicate report scored rapidfuzz's ratio of the words-sorted confusable keys.
"""

import argparse
import csv
import os
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wishlist.settings")
os.environ.setdefault("DEBUG", "1")
PAIRS = ROOT / "tests" / "data" / "name_pairs.csv"


def load_pairs() -> list[dict]:
    with PAIRS.open(encoding="utf-8", newline="") as handle:
        return [{**row, "same": row["same"] == "1"} for row in csv.DictReader(handle)]


def old_modules(revision: str):
    """Load normalize and checks.matching as they were at the revision."""
    import cases

    def source(path: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{revision}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    normalize = types.ModuleType("old_normalize")
    exec(compile(source("cases/normalize.py"), "old normalize", "exec"), normalize.__dict__)
    matching = types.ModuleType("old_matching")
    current = cases.normalize
    cases.normalize = normalize  # the old matching's `from cases import normalize`
    try:
        exec(compile(source("cases/checks/matching.py"), "old matching", "exec"), matching.__dict__)
    finally:
        cases.normalize = current
    return normalize, matching


def old_duplicate_score(normalize, a: str, b: str) -> float:
    from rapidfuzz import fuzz

    from cases.intake.selectors import confusable_key

    key_a, key_b = normalize.name_key(a), normalize.name_key(b)
    if key_a == key_b:
        return 100.0
    sort = [" ".join(sorted(confusable_key(k).split(" "))) for k in (key_a, key_b)]
    return fuzz.ratio(*sort)


def new_duplicate_score(a: str, b: str) -> float:
    from cases import normalize
    from cases.intake.selectors import duplicate_score

    key_a, key_b = normalize.name_key(a), normalize.name_key(b)
    if key_a == key_b:
        return 100.0
    return duplicate_score(key_a, key_b).score


def measure(pairs: list[dict], score, threshold: float) -> dict:
    """Precision, recall and the pairs got wrong, deciding "same" at the threshold."""
    tp = fp = fn = 0
    misses = []
    per_category = Counter()
    for pair in pairs:
        said = score(pair["a"], pair["b"]) >= threshold
        if said and pair["same"]:
            tp += 1
        elif said:
            fp += 1
            misses.append(("false match", pair))
        elif pair["same"]:
            fn += 1
            misses.append(("missed", pair))
        if said != pair["same"]:
            per_category[pair["category"].split(":")[0]] += 1
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "misses": misses,
        "wrong_by_category": dict(per_category),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="8a58219", help="git revision to compare with")
    parser.add_argument("--misses", action="store_true", help="list the pairs got wrong")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from cases.checks import matching

    pairs = load_pairs()
    match_at = settings.WISHLIST_MATCH_THRESHOLD
    duplicate_at = settings.WISHLIST_DUPLICATE_THRESHOLD
    old_normalize, old_matching = old_modules(args.before)
    positives = sum(p["same"] for p in pairs)
    print(f"{len(pairs)} labelled pairs ({positives} same, {len(pairs) - positives} different)")
    print(f"match at WISHLIST_MATCH_THRESHOLD={match_at}, duplicate report at "
          f"WISHLIST_DUPLICATE_THRESHOLD={duplicate_at}")  # fmt: skip
    rows = [
        ("match", args.before, lambda a, b: old_matching.match_name([a], b).score, match_at),
        ("match", "now", lambda a, b: matching.match_name([a], b).score, match_at),
        (
            "duplicate",
            args.before,
            lambda a, b: old_duplicate_score(old_normalize, a, b),
            duplicate_at,
        ),
        ("duplicate", "now", new_duplicate_score, duplicate_at),
    ]
    print(f"{'decision':<10} {'code':<8} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} "
          f"{'fn':>4}  wrong by category")  # fmt: skip
    for decision, code, score, threshold in rows:
        result = measure(pairs, score, threshold)
        print(
            f"{decision:<10} {code:<8} {result['precision']:>9.3f} {result['recall']:>7.3f} "
            f"{result['tp']:>4} {result['fp']:>4} {result['fn']:>4}  "
            f"{result['wrong_by_category']}"
        )
        if args.misses:
            for what, pair in result["misses"]:
                print(f"    {what}: {pair['a']!r} / {pair['b']!r} ({pair['category']}), "
                      f"score {score(pair['a'], pair['b']):.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
