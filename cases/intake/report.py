"""The text report of a referral import: counts, bad rows and possible duplicates."""

from cases.intake.services import ImportResult


def format_report(result: ImportResult) -> list[str]:
    """Return the human-readable lines of an import result (shared with the admin)."""
    lines = []
    if result.errors:
        lines.append(f"{len(result.errors)} problem(s); nothing was written:")
        lines.extend(f"  {error}" for error in result.errors)
        return lines
    verb = "would create" if result.dry_run else "created"
    lines.append(
        f"Read {result.rows_read} row(s); {verb} {result.referrals_created} referral(s), "
        f"{result.entities_created} entit(y/ies), {result.cases_created} case(s), "
        f"{result.posts_created} post(s); {result.referrals_unchanged} referral(s) already "
        f"stored unchanged; {result.repeated_rows} repeated row(s) skipped."
    )
    if result.aliases_added:
        lines.append(f"{result.aliases_added} new spelling(s) of stored entities kept as aliases.")
    if not result.changed_anything:
        lines.append("Nothing to change: every referral in the file is already stored.")
    for warning in result.warnings:
        lines.append(f"Warning: {warning}")
    if result.controls_referred:
        lines.append(
            f"{result.controls_referred} control case(s) are referred in this file: each is "
            "flagged and leaves its pair (the paired comparison lists it apart)."
        )
    if result.duplicates:
        lines.append(
            f"{len(result.duplicates)} possible duplicate entit(y/ies), not merged; "
            "merge them or mark them not the same on the possible-duplicates page:"
        )
        lines.extend(f"  {duplicate}" for duplicate in result.duplicates)
    if result.dry_run:
        lines.append("Dry run: nothing was written.")
    return lines
