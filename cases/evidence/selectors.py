"""Reads of kept evidence: a case page's list per finding, a file for its viewer."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from cases import access
from cases.models import Evidence, Finding


@dataclass(frozen=True)
class FindingEvidence:
    finding: Finding
    items: list[Evidence]


def case_evidence(findings: list[Finding]) -> list[FindingEvidence]:
    """Each finding of a case with its kept evidence, newest first, in one query."""
    by_finding: dict[int, list[Evidence]] = defaultdict(list)
    rows = Evidence.objects.filter(finding__in=[f.pk for f in findings]).select_related("added_by")
    for evidence in rows.order_by("-created_at", "-id"):
        by_finding[evidence.finding_id].append(evidence)
    return [FindingEvidence(f, by_finding.get(f.pk, [])) for f in findings]


def evidence_pending(entries: list[FindingEvidence]) -> bool:
    """Whether a capture is on its way: the case page's panel then follows it."""
    return any(e.state == Evidence.State.PENDING for entry in entries for e in entry.items)


def visible_evidence(user: access.User) -> QuerySet[Evidence]:
    return Evidence.objects.filter(finding__in=access.visible_findings(user).values("pk"))


def evidence_or_404(user: access.User, pk: int) -> Evidence:
    """Evidence of a finding the user may see; anything else does not exist for them."""
    return get_object_or_404(visible_evidence(user).select_related("finding"), pk=pk)


@dataclass(frozen=True)
class Served:
    """How one stored file is handed to a browser."""

    name: str  # in the storage
    content_type: str
    filename: str
    inline: bool


# Images and our plain text may show in the browser's tab (sandboxed, no script can run
# in either); anything else is a download. A captured page's HTML is never served: the
# WARC holds it, as application/warc.
_INLINE = {"image/png", "image/jpeg", "text/plain; charset=utf-8"}


def served_file(evidence: Evidence, part: str) -> Served | None:
    """The stored file behind a part of the evidence (warc, text, screenshot or file),
    or None when it has none."""
    if evidence.state != Evidence.State.OK:
        return None
    stem = f"evidence-{evidence.pk}"
    if part == "warc" and evidence.warc:
        found = (evidence.warc.name, "application/warc", f"{stem}.warc.gz")
    elif part == "text" and evidence.text:
        found = (evidence.text.name, "text/plain; charset=utf-8", f"{stem}.txt")
    elif part == "screenshot" and evidence.screenshot:
        found = (evidence.screenshot.name, "image/png", f"{stem}.png")
    elif part == "file" and evidence.attachment:
        found = (
            evidence.attachment.name,
            evidence.content_type,
            evidence.original_filename or stem,
        )
    else:
        return None
    name, content_type, filename = found
    return Served(name, content_type, filename, inline=content_type in _INLINE)
