"""The per-entity yield table for a note: two `score.py --json` results side by side
(before and after a change), one row per entity of the set.

    python3 ../shared/yield/score.py . ../shared/yield/dev --json /tmp/after.json
    python bench/yield_table.py /tmp/before.json /tmp/after.json

Each row gives the entity's real after-referral events found of all, its leads, and its
distractor and other (false) leads, before and after, as a Markdown table.
"""

import argparse
import json
from pathlib import Path


def entity_row(entity: dict) -> tuple:
    """(events found/all after the referral, leads, distractor leads, other false leads)."""
    after = [event for event in entity["events"] if event["after_referral"]]
    found = sum(1 for event in after if event["found"])
    distractors = len(entity["distractor_leads"])  # one entry per lead
    return f"{found}/{len(after)}", entity["leads"], distractors, len(entity["other_leads"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    before = json.loads(args.before.read_text())
    after = json.loads(args.after.read_text())
    print("| entity | events found | leads | distractor leads | other false leads |")
    print("|---|---|---|---|---|")
    for key, entity in after["entities"].items():
        old = before["entities"].get(key)
        new_row = entity_row(entity)
        old_row = entity_row(old) if old else ("-", "-", "-", "-")
        cells = [f"{old_row[i]} → {new_row[i]}" for i in range(4)]
        print(f"| {entity['name']} | " + " | ".join(cells) + " |")
    for label, result in (("before", before), ("after", after)):
        print(
            f"\n{label}: recall={result['recall']:.2f} precision={result['precision']:.2f} "
            f"timing_ok={result['timing_ok']:.2f} requests={result['requests']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
