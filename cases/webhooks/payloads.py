"""What a delivery says (pure functions of the case and its findings).

Names and links rather than internal ids alone: the receiver is a team's chat or ticket
system, read by people. Ids are kept beside them so a program can fetch more.
"""

from cases.models import Case, Finding


def _case(case: Case, base_url: str) -> dict:
    entity = case.entity
    return {
        "id": case.pk,
        "entity": entity.name,
        "country": entity.country,
        "status": case.status,
        "url": f"{base_url}{case.get_absolute_url()}",
    }


def _finding(finding: Finding) -> dict:
    return {
        "id": finding.pk,
        "kind": finding.kind,
        "kind_label": finding.get_kind_display(),
        "counterparty": finding.counterparty_name,
        "counterparty_country": finding.counterparty_country,
        "event_date": finding.event_date.isoformat() if finding.event_date else None,
        "timing": finding.timing,
        "source": finding.source,
        "source_url": finding.source_url,
        "match_score": finding.match_score,
        "review_state": finding.review_state,
    }


def leads_filed(case: Case, findings: list[Finding], *, base_url: str) -> dict:
    noun = "lead" if len(findings) == 1 else "leads"
    return {
        "event": "leads_filed",
        "text": f"{len(findings)} new {noun} on {case.entity.name}",
        "team": case.team.name if case.team_id else None,
        "case": _case(case, base_url),
        "findings": [_finding(f) for f in findings],
    }


def finding_confirmed(finding: Finding, *, actor: str, base_url: str) -> dict:
    case = finding.case
    return {
        "event": "finding_confirmed",
        "text": (
            f"{actor or 'someone'} confirmed a {finding.get_kind_display()} finding on "
            f"{case.entity.name}"
            + (f" with {finding.counterparty_name}" if finding.counterparty_name else "")
        ),
        "team": case.team.name if case.team_id else None,
        "case": _case(case, base_url),
        "finding": _finding(finding),
        "confirmed_by": actor,
    }


def ping(team_name: str) -> dict:
    return {"event": "ping", "text": f"Test delivery for {team_name}", "team": team_name}
