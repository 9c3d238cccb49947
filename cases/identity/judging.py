"""One judgement from the research pages: confirm, reject or mark unsure, by the services
of cases.identity.services (the person's reason goes on the candidate's history row)."""

from cases.identity import services
from cases.models import IdentifierCandidate

State = IdentifierCandidate.State
JUDGE = {
    State.CONFIRMED: services.candidate_confirm,
    State.REJECTED: services.candidate_reject,
    State.UNSURE: services.candidate_mark_unsure,
}


def candidate_judge(
    *, candidate: IdentifierCandidate, decision: str, user, version: int, reason: str = ""
) -> IdentifierCandidate:
    """Judge the candidate as `decision` (a key of JUDGE); refused as the service refuses
    (EditConflict when judged since `version`, ValidationError otherwise), nothing saved."""
    return JUDGE[decision](candidate=candidate, user=user, version=version, reason=reason)
