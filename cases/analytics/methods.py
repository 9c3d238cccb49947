"""What the analytics figures mean, written once: the page, every download and the cohort
report print these definitions, so a figure read away from the app still says what it
counts. Also the metadata a download carries (filters, extraction time, code version).

The words follow the rules they describe (cases/rules.py, analytics/estimates.py,
analytics/survival.py); a change to a rule changes its sentence here.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from cases.analytics import estimates
from wishlist.version import code_version


@dataclass(frozen=True)
class Definition:
    term: str
    text: str


def definitions(interval: str = "wilson", group_small: bool = False) -> list[Definition]:
    """The definitions of the rates table and the time-to-outcome curves, in reading order,
    for the interval method and small-cohort choice the figures were drawn with."""
    method = estimates.INTERVAL_METHODS[interval]
    return [
        Definition(
            "Case",
            "the follow-up of one referred entity; its clock starts at the entity's first "
            "referral (the index date).",
        ),
        Definition("Checked", "cases with at least one successful follow-up check."),
        Definition(
            "Reviewed",
            "the concluded cases and the positive ones (a positive case is reviewed by "
            "definition; a reviewed negative is a concluded case, not one with a single "
            "rejected lead).",
        ),
        Definition("Concluded", "cases an analyst closed as fully followed up."),
        Definition(
            "Positive",
            "a case with at least one confirmed finding of the outcome kind, with a "
            "counterparty in mainland China, Hong Kong or Macau, dated after the index "
            "date; findings of unknown timing count as before it.",
        ),
        Definition(
            "Rate",
            f"positive over reviewed, with a 95 % {method} interval (Wilson unless chosen "
            "otherwise; Clopper-Pearson and Jeffreys are the options).",
        ),
        Definition(
            "Bounds",
            "every unreviewed case counted negative (low) and positive (high), over all cases.",
        ),
        Definition(
            "Waiting bound",
            "the rate over all cases with the unreviewed cases that have a qualifying lead "
            "waiting counted positive and the other unreviewed negative.",
        ),
        Definition(
            "Corrected",
            "the Begg-Greenes estimate under a stated model of who gets reviewed: within "
            '"has any finding" and "has none", being reviewed does not depend on the '
            "outcome (missing at random given the stratum); it equals inverse-probability "
            "weighting of the reviewed cases. Its interval is a percentile bootstrap of "
            f"{estimates.BOOTSTRAP_REPLICATES} replicates (seed {estimates.BOOTSTRAP_SEED}).",
        ),
        Definition(
            "Small",
            f"a cohort with fewer than {estimates.SMALL_COHORT} reviewed cases: read its "
            "rate as an anecdote."
            + (
                ' Here the small cohorts are pooled into one row, "other, small", and the '
                "p-values compare the rows shown."
                if group_small
                else ""
            ),
        ),
        Definition(
            "p (Holm)",
            "each cohort against the rest pooled (Fisher's exact test), adjusted by Holm "
            "for the number of cohorts; p (BH) is the Benjamini-Hochberg adjustment of the "
            "same p-values.",
        ),
        Definition(
            "Followed",
            "a case whose successful checks, by sources able to detect the outcome kind, "
            "searched a continuous stretch from its index date. Only followed cases enter "
            "the Kaplan-Meier curve; one without a positive is censored at the end of that "
            "stretch, one with a positive is an event at its first positive.",
        ),
        Definition(
            "Not followed",
            "a case with no such coverage: left out of the curve and counted apart, since "
            "silence outside a searched period is missing data, not a negative.",
        ),
    ]


def extraction_time(now: datetime.datetime | None = None) -> str:
    """The time as UTC ISO 8601 to the second ("2026-12-02T14:30:00Z")."""
    now = now or datetime.datetime.now(datetime.UTC)
    return now.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def download_metadata(
    *,
    filters: Mapping[str, object],
    title: str = "",
    now: datetime.datetime | None = None,
    interval: str = "wilson",
    group_small: bool = False,
) -> dict:
    """What a download carries beside its rows: what it is, the filters it was drawn with,
    when, by which code, and the definitions of its figures."""
    return {
        "title": title,
        "extracted_at": extraction_time(now),
        "code_version": code_version(),
        "filters": {name: "" if value is None else str(value) for name, value in filters.items()},
        "definitions": {item.term: item.text for item in definitions(interval, group_small)},
    }
